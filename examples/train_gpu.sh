#!/bin/bash
# Fine-tune the shipped denoiser on a GPU in a fixed wall-clock budget, as its current weights were made
# (model card: 1493 steps on an NVIDIA H200). Usage, from the repository root:
#
#     bash examples/train_gpu.sh OUT_DIR [BUDGET_S] [WORKERS]
#
# A 60-step smoke run measures the rate (steps/s, bound by drawing examples on the CPU when the model is
# small), then the run plans rate x BUDGET_S steps so that its cosine schedule ends inside the budget.
# OUT_DIR gets denoiser.safetensors, denoiser.json and MODEL_CARD.md; validate on the dev set with
# `python benchmarks/bench_devset.py --weights OUT_DIR/denoiser.safetensors`; ship them only if they are better.
# Environment: DEVICE (default cuda), SMOKE_STEPS (60), POOL_CLIPS (2000).
set -euo pipefail
OUT=${1:?usage: train_gpu.sh OUT_DIR [BUDGET_S] [WORKERS]}
BUDGET_S=${2:-300}
WORKERS=${3:-$(( $(nproc) > 1 ? $(nproc) - 1 : 1 ))}
DEVICE=${DEVICE:-cuda}
COMMON=(--device "$DEVICE" --workers "$WORKERS" --batch 32 --noise-draws 4 --ema-decay 0.999 --fresh
        --init gsvc/codecs/weights/denoiser.safetensors --lr 5e-4)
mkdir -p "$OUT"
python3 -m gsvc.codecs.train "$OUT/smoke" "${COMMON[@]}" --steps "${SMOKE_STEPS:-60}" --pool-clips 40 \
    --checkpoint-every 20 | tee "$OUT/smoke.log"
RATE=$(grep -o '[0-9.]* steps/s' "$OUT/smoke.log" | tail -1 | cut -d' ' -f1)
STEPS=$(python3 -c "print(max(100, int($RATE * $BUDGET_S)))")
MINUTES=$(python3 -c "print(round($BUDGET_S / 60 + 0.3, 2))")
echo "rate $RATE steps/s: planning $STEPS steps in $MINUTES min"
rm -rf "$OUT/smoke"
python3 -m gsvc.codecs.train "$OUT" "${COMMON[@]}" --steps "$STEPS" --pool-clips "${POOL_CLIPS:-2000}" \
    --minutes "$MINUTES" --checkpoint-every 500 | tee "$OUT/train.log"

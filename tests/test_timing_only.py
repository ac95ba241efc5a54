"""A timing-only run takes the decisions and event times of the real run: only the pictures are missing."""
import pytest

import gsvc
from gsvc.codecs.registry import codec_names, makes_images
from gsvc.scenarios import Scenario

#: what a decode decides and when it happens (the frames table's timing and plan columns)
DECISIONS = ["plan", "steps", "unet_evals", "anchor", "skip_reason", "decode_start_ms", "decode_done_ms",
             "status", "display_ms", "latency_ms"]


def _scenario(codec: dict) -> Scenario:
    # 40 % of packets lost: concealments and anchor requests happen; a 150 ms buffer: some frames are shed
    return Scenario(name="t", seed=3, streams=2, video=dict(seconds=1, fps=10, resolution=64),
                    codec=codec, channel=dict(model="constant", rate_mbps=1.0, loss_rate=0.4))


@pytest.mark.parametrize("name", [n for n in codec_names() if makes_images(n)])
def test_a_timing_only_run_decides_as_the_real_run(name):
    codec = dict(name=name, bitrate_kbps=48) if name in ("h264", "h265") else dict(name=name, steps=2)
    real = gsvc.run(_scenario(codec)).frames
    timed = gsvc.run(_scenario(codec).updated({"receiver.decode": "timing-only"})).frames
    assert (real["plan"] == "conceal").any() or name in ("oneshot", "lowres")  # the run exercises recovery
    for col in DECISIONS:
        assert timed[col].equals(real[col]), col
    assert timed["psnr_db"].isna().all()


@pytest.mark.parametrize("name", ["cvsc", "content_motion"])
def test_adaptive_control_decides_the_same_without_the_model(name):
    codec = dict(name=name, steps=4, control="adaptive")
    delay_ms = 120
    if name == "content_motion":  # groups of 5 (4 frame intervals buffered); anchors refine their own frame
        codec |= dict(gop=5, trust_confidence=0.95)
        delay_ms = 700
    sc = _scenario(codec).updated({"jitter.mode": "fixed", "jitter.delay_ms": delay_ms})
    real, timed = gsvc.run(sc).frames, gsvc.run(sc.updated({"receiver.decode": "timing-only"})).frames
    assert real["plan"].nunique() >= 3  # the ladder was used: several rungs, not one fixed plan
    if name == "content_motion":
        assert (real["unet_evals"] > real["steps"]).any()  # an anchor refined its own frame after the content
    for col in DECISIONS + ["cut_detected"]:
        assert timed[col].equals(real[col]), col

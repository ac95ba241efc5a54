"""Frame source speed: frames per second per source and resolution.

Rows:
* procedural batch: ``procedural_clip`` (arrays; the training-data path), pan camera,
  default movers, one scene cut per clip;
* procedural frames: the same video through ``open_source`` as ``Frame`` objects (what the
  simulator reads);
* procedural zoom / shake: the batch path with the other camera kinds;
* photo: a pan over a 4:3 still (``photo_source``);
* array: ``from_array`` played as frames;
* file (ffv1): a lossless file decoded with PyAV, fitted and played (labels off);
* estimate_labels: the colour-heuristic segmenter on rendered frames.

Each cell is the best of ``--repeats`` runs over ``--seconds`` of 15 fps video. The last
column is the 64x64 rate over the 500 frames/s target.

    python benchmarks/bench_video.py [--seconds 10] [--repeats 2] [--quick]
"""
from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from gsvc.video import (VideoSpec, estimate_labels, from_array, open_source, photo_source, procedural_clip,
                        write_video)

SIDES = (32, 64, 128, 256)
FPS = 15.0
TARGET_FPS_AT_64 = 500.0


def timed(run: Callable[[], int], repeats: int) -> float:
    """Best frames/s of ``repeats`` calls of ``run`` (which returns how many frames it made)."""
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = run()
        best = max(best, n / (time.perf_counter() - t0))
    return best


def rows(seconds: float, tmp: Path) -> dict[str, Callable[[int], Callable[[], int]]]:
    """Row name -> (side -> a run that makes frames of that side and returns their count)."""
    def spec(side, **kw):
        return VideoSpec(seconds=seconds, fps=FPS, resolution=side, cuts_s=[seconds / 2], **kw)

    def batch(camera):
        return lambda side: lambda: len(procedural_clip(spec(side, camera=camera), seed=1))

    def frames(side):
        return lambda: sum(1 for _ in open_source(spec(side), seed=1))

    def photo(side):
        still = procedural_clip(VideoSpec(seconds=0.1, fps=10, resolution=256), seed=2).rgb[0]
        still = np.concatenate([still, still[:, :85]], axis=1)  # 256 x 341, 4:3
        return lambda: sum(1 for _ in photo_source(still, spec(side), seed=1))

    def array(side):
        rgb = procedural_clip(spec(side), seed=1).rgb
        return lambda: sum(1 for _ in from_array(rgb, fps=FPS))

    def file(side):
        path = write_video(tmp / f"clip{side}.mkv", procedural_clip(spec(side), seed=1).rgb, fps=FPS)
        file_spec = VideoSpec(source="file", path=str(path), seconds=seconds, fps=FPS, resolution=side,
                              labels="none")
        return lambda: sum(1 for _ in open_source(file_spec, seed=0))

    def estimate(side):
        rgb = procedural_clip(spec(side), seed=1).rgb
        return lambda: len(estimate_labels(rgb))

    return {"procedural batch": batch("pan"), "procedural frames": frames, "procedural zoom": batch("zoom"),
            "procedural shake": batch("shake"), "photo": photo, "array": array, "file (ffv1)": file,
            "estimate_labels": estimate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="video length per measurement, s")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="2 s clips, one run each")
    args = parser.parse_args()
    seconds, repeats = (2.0, 1) if args.quick else (args.seconds, args.repeats)
    print(f"gsvc.video frame sources, frames/s (best of {repeats}, {seconds:g} s at {FPS:g} fps), "
          f"{platform.processor() or platform.machine()}, numpy {np.__version__}")
    header = f"{'source':<20}" + "".join(f"{f'{s}x{s}':>10}" for s in SIDES) + f"{'64 / 500':>10}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in rows(seconds, Path(tmp)).items():
            rates = {side: timed(make(side), repeats) for side in SIDES}
            print(f"{name:<20}" + "".join(f"{rates[s]:>10.0f}" for s in SIDES)
                  + f"{rates[64] / TARGET_FPS_AT_64:>9.2f}x", flush=True)


if __name__ == "__main__":
    main()

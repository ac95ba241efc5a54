"""VMAF (Netflix; Li et al., "Toward a practical perceptual video quality metric", 2016) of what
the viewer saw, with the ``vmaf_v0.6.1`` model built into libvmaf.

libvmaf runs inside the static FFmpeg that the ``imageio-ffmpeg`` wheel ships (built with
libvmaf; FFmpeg is GPL there, so it runs as a separate process, never linked). VMAF's
motion feature reads neighbouring frames, so a stream is scored as one sequence: as its
slots are displayed the original and the shown frame are appended to two raw files on disk
(not kept in memory), and at the end of the run one FFmpeg process per stream scores them
(frames converted to 4:2:0, distorted first, reference second, as libvmaf expects).
Needs ``pip install -e ".[perceptual]"``.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["VmafWriter", "vmaf_files"]

MODEL = "vmaf_v0.6.1"


def _ffmpeg() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ImportError("metrics=['vmaf'] needs the FFmpeg with libvmaf of imageio-ffmpeg; install it with "
                          "pip install -e \".[perceptual]\"") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def vmaf_files(ref_path: str, test_path: str, height: int, width: int) -> np.ndarray:
    """Per-frame VMAF of two raw ``rgb24`` files of ``height x width`` frames, ``[T]`` float64."""
    out = Path(test_path).with_suffix(".json")
    raw = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", "25"]
    graph = (f"[0:v]format=yuv420p[d];[1:v]format=yuv420p[r];"
             f"[d][r]libvmaf=model=version={MODEL}:log_fmt=json:log_path={out}:n_threads=1")
    cmd = [_ffmpeg(), "-hide_banner", "-loglevel", "error", *raw, "-i", test_path, *raw, "-i", ref_path,
           "-lavfi", graph, "-f", "null", "-"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"libvmaf failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    frames = json.loads(out.read_text())["frames"]
    return np.array([f["metrics"]["vmaf"] for f in frames], np.float64)


class VmafWriter:
    """Collects one stream's (original, shown) frames on disk and scores them at :meth:`close`."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="gsvc-vmaf-"))
        self.rows: list[int] = []
        self.shape: tuple[int, int] | None = None
        self._ref = open(self.dir / "ref.rgb", "wb")
        self._test = open(self.dir / "test.rgb", "wb")

    def add(self, row: int, ref: np.ndarray, test: np.ndarray) -> None:
        self.rows.append(row)
        self.shape = ref.shape[:2]
        self._ref.write(np.ascontiguousarray(ref, np.uint8).tobytes())
        self._test.write(np.ascontiguousarray(test, np.uint8).tobytes())

    def close(self) -> tuple[list[int], np.ndarray]:
        """``(rows, vmaf per row)``; the files are removed."""
        self._ref.close()
        self._test.close()
        try:
            if not self.rows:
                return [], np.zeros(0)
            return self.rows, vmaf_files(str(self.dir / "ref.rgb"), str(self.dir / "test.rgb"), *self.shape)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

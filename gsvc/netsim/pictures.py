"""Pictures of what the viewer saw: a side-by-side video and a strip of the moments that matter.

With ``gsvc.run(..., pictures=True)`` every stream's frame slots are written, as they are
displayed, into an H.264 MP4 (PyAV, libx264, CRF 18) of three panels: the original, the
frame's own decode (black where it was not decoded by its slot: late, skipped or lost in
flight), and what was on screen. The MP4 grows on disk, not in memory.

Stream 0 also keeps a few slots for a PNG strip, each as its three panels: the first three
slots, the first slot of each scene (up to :data:`MAX_CUTS`), the slot with the lowest
PSNR, and the first slot of the longest stretch during which the screen did not change
(the longest freeze). Each is replaced as a worse one comes, so memory stays bounded.
"""
from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass, field

import numpy as np

from ..video.quality import psnr_db

__all__ = ["Pictures", "PictureRecorder", "MAX_CUTS"]

MAX_CUTS = 6
_FIRST = 3


@dataclass
class Pictures:
    """What a run recorded: ``videos[stream]`` MP4 paths (temporary files), ``strip_png`` bytes."""

    videos: dict[int, str] = field(default_factory=dict)
    strip_png: bytes | None = None


class PictureRecorder:
    """One stream's side-by-side MP4, and (``strip=True``) the moments of its PNG strip."""

    def __init__(self, stream: int, fps: float, strip: bool):
        self.stream, self.fps, self.strip = stream, fps, strip
        fd, self.path = tempfile.mkstemp(prefix=f"gsvc-s{stream}-", suffix=".mp4")
        os.close(fd)
        self._container = self._video = None
        self.moments: dict[str, tuple] = {}  # label -> (slot, original, decoded, shown)
        self._cuts = 0
        self._worst = np.inf
        self._run_start: tuple | None = None  # first slot of the current unchanged stretch
        self._run_len, self._longest = 0, 0
        self._last_shown_frame = None

    def slot(self, n: int, original: np.ndarray, decoded: np.ndarray | None, shown: np.ndarray,
             shown_frame: int, scene_cut: bool) -> None:
        """Slot ``n``: ``original``/``decoded``/``shown`` ``[H, W, 3]`` uint8 (``decoded`` None: none);
        ``shown_frame``: the frame on screen (-1: nothing yet)."""
        decoded = np.zeros_like(original) if decoded is None else decoded
        panels = np.concatenate([original, decoded, shown], axis=1)
        self._write(panels)
        if not self.strip:
            return
        item = (n, original, decoded, shown)
        if n < _FIRST:
            self.moments[f"slot {n}"] = item
        if scene_cut and self._cuts < MAX_CUTS:
            self._cuts += 1
            self.moments[f"scene cut at slot {n}"] = item
        q = float(psnr_db(original[None], shown[None])[0])
        if q < self._worst:
            self._worst = q
            self.moments = {k: v for k, v in self.moments.items() if not k.startswith("lowest PSNR")}
            self.moments[f"lowest PSNR ({q:.1f} dB), slot {n}"] = item
        if shown_frame == self._last_shown_frame:
            self._run_len += 1
        else:
            self._run_start, self._run_len, self._last_shown_frame = item, 1, shown_frame
        if self._run_len > self._longest and self._run_len > 1:
            self._longest = self._run_len
            self.moments = {k: v for k, v in self.moments.items() if not k.startswith("longest freeze")}
            self.moments[f"longest freeze ({self._run_len} slots) from slot {self._run_start[0]}"] = self._run_start

    def _write(self, panels: np.ndarray) -> None:
        import av
        h, w = panels.shape[:2]
        if self._container is None:
            self._container = av.open(self.path, "w")
            self._video = self._container.add_stream("libx264", rate=int(round(self.fps)))
            self._video.width, self._video.height = w + w % 2, h + h % 2
            self._video.pix_fmt = "yuv420p"
            self._video.options = {"crf": "18", "preset": "veryfast"}
        if w % 2 or h % 2:
            panels = np.pad(panels, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(panels), format="rgb24")
        for packet in self._video.encode(frame):
            self._container.mux(packet)

    def close(self) -> str | None:
        """Finish the MP4; its path, or None if no slot was written."""
        if self._container is None:
            os.unlink(self.path)
            return None
        for packet in self._video.encode():
            self._container.mux(packet)
        self._container.close()
        return self.path

    def strip_png(self) -> bytes | None:
        """The PNG strip of the recorded moments (in slot order), or None."""
        if not self.moments:
            return None
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        items = sorted(self.moments.items(), key=lambda kv: kv[1][0])
        fig, axes = plt.subplots(len(items), 3, figsize=(6, 2.1 * len(items)), squeeze=False)
        for row, (label, (_, *images)) in zip(axes, items):
            for ax, img, title in zip(row, images, ("original", "decoded", "on screen")):
                ax.imshow(img, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_title(title, fontsize=7)
            row[0].set_ylabel(label, fontsize=7)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        return buf.getvalue()

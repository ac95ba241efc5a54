"""The display: what the viewer saw, and when, for every frame slot.

Display does not feed back into the simulation, so it is computed once after the
event loop, vectorised per stream, from the logged playout and decode times:

* decoded by its playout time -> shown at playout (``ok``, or ``lost`` if the data was
  incomplete and a concealment was shown);
* decoded after it -> ``late``: shown when the decode finishes (``late="show"``) or
  never (``late="drop"``); the previous image stays on screen meanwhile;
* planned as ``skip`` -> ``skipped``, never shown.

The image a frame's slot is scored on is whatever was on screen at its playout
time: the frame itself if it was on time, else the last frame rendered before
(mid-grey before anything was rendered).
"""
from __future__ import annotations

import numpy as np

from ..video.quality import psnr_db, ssim, to_uint8

__all__ = ["resolve_display", "score_viewer"]


def resolve_display(cols: dict, sl: slice, late_policy: str, incomplete: np.ndarray) -> np.ndarray:
    """Fill status, display_ms, latency_ms for one stream's rows; return the viewer's source index.

    Returns ``viewer: [frames] int``, for each slot the frame index on screen at its
    playout time (-1: nothing rendered yet).
    """
    playout = cols["playout_ms"][sl]
    done = cols["decode_done_ms"][sl]
    skipped = cols["plan"][sl] == "skip"
    on_time = done <= playout + 1e-9
    status = np.where(on_time, "ok", "late").astype(object)
    status[incomplete] = "lost"
    status[skipped] = "skipped"
    display = np.where(on_time, playout, done if late_policy == "show" else np.nan)
    display[skipped | np.isnan(done)] = np.nan
    cols["status"][sl] = status
    cols["display_ms"][sl] = display
    cols["latency_ms"][sl] = display - cols["capture_ms"][sl]
    shown = np.flatnonzero(~np.isnan(display))
    order = np.argsort(display[shown], kind="stable")
    shown, times = shown[order], display[shown][order]
    if len(shown) == 0:
        return np.full(len(playout), -1)
    pos = np.searchsorted(times, playout, side="right") - 1
    return np.where(pos >= 0, shown[np.maximum(pos, 0)], -1)


def score_viewer(originals: list[np.ndarray], images: dict[int, np.ndarray], viewer: np.ndarray,
                 row0: int) -> tuple[np.ndarray, np.ndarray]:
    """PSNR (dB) and SSIM of the image on screen in each slot against that slot's original.

    ``originals``: per frame ``[H, W, 3]`` uint8; ``images``: row -> decoded image;
    ``viewer``: from :func:`resolve_display`; ``row0``: log row of this stream's frame 0.
    """
    ref = np.stack([to_uint8(o) for o in originals])
    grey = np.full_like(ref[0], 128)
    seen = np.stack([to_uint8(images[row0 + v]) if v >= 0 and (row0 + v) in images else grey
                     for v in viewer])
    return psnr_db(ref, seen), ssim(ref, seen)

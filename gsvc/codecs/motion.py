"""Motion at the sender: estimate, quantise to bytes, and warp with it at the receiver.

A :class:`MotionField` is a global translation plus a coarse grid of per-block
residual vectors on top of it (one per ``block_px`` block), so that large camera
pans (beyond a block) and local motion (vehicles, pedestrians) are both captured.
Convention (as :func:`gsvc.video.phase_shift_px`): the current frame at pixel ``p``
looks like the reference at ``p + v(p)``. Vectors are quantised to 1/4 px.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.ndimage import map_coordinates, zoom as nd_zoom

from ..video.flow import block_flow_px, luma, phase_shift_px
from . import entropy_priors
from .entropy import Tally, checksum, decode_residuals, encode_residuals

__all__ = ["MotionField", "motion_block_px", "estimate_motion", "refine_motion", "encode_motion", "decode_motion",
           "tally_motion", "warp",
           "warp_labels", "covered",
           "ZERO_MOTION"]

_Q = 4.0  # quarter-pixel precision


@dataclass(frozen=True, eq=False)
class MotionField:
    """``global_px``: (dx, dy); ``blocks_px``: ``[By, Bx, 2]`` residual (dx, dy) per block, px."""

    global_px: tuple[float, float]
    blocks_px: np.ndarray

    def magnitude_px(self) -> float:
        """Mean displacement over the frame, px."""
        total = self.blocks_px + np.array(self.global_px)
        return float(np.mean(np.hypot(total[..., 0], total[..., 1])))

    def scaled(self, factor: float) -> "MotionField":
        """The same motion measured on a grid ``factor`` times as fine (e.g. ``1 / 8`` for a
        latent at 1/8 of the frame side): every vector multiplied by ``factor``."""
        if factor == 1.0:
            return self
        return MotionField((self.global_px[0] * factor, self.global_px[1] * factor),
                           (self.blocks_px * factor).astype(np.float32))

    def dense_px(self, side_px: int) -> np.ndarray:
        """Per-pixel displacement ``[H, W, 2]`` (dx, dy): block vectors upsampled bilinearly."""
        by, bx = self.blocks_px.shape[:2]
        dense = nd_zoom(self.blocks_px, (side_px / by, side_px / bx, 1), order=1, mode="nearest", grid_mode=True)
        return dense + np.array(self.global_px, np.float32)


ZERO_MOTION = MotionField((0.0, 0.0), np.zeros((1, 1, 2), np.float32))


def motion_block_px(block_px: int | None, side_px: int) -> int:
    """Block side (px) of the motion a delta sends: ``codec.motion_block_px``, or half the frame side
    when None (blocks overlap by half, so a 3 x 3 grid at any resolution).

    Why half the side: on the dev set (8 clips x 60 frames at 64 px, cvsc's defaults) 16 px blocks (a
    7 x 7 grid, gsvc's earlier fixed size) took 74 B per delta, 8.3 of the stream's 31.1 kbit/s, and
    their vectors mostly fitted noise: with 32 px blocks the ``lowres`` row showed 26.68 dB / SSIM 0.822
    at 25.8 kbit/s against 26.64 / 0.819 at 31.1, cvsc 26.91 / 0.821 / LPIPS 0.064 at 28.0 against
    26.88 / 0.819 / 0.067 at 33.4; one 64 px block (global shift only) 26.52 / 0.818 at 24.8. The dev
    set's camera paths (pans, zooms, shakes) need little more than a global shift and a gradient. The
    motion from the previous frame that a chained low-res frame is predicted with uses the same blocks;
    measured alone (low-res frames and that motion, step 24), 16 px blocks took 27.2 kbit/s, 32 px 24.2
    and 64 px 25.8 for the same fidelity.
    """
    return block_px if block_px is not None else max(side_px // 2, 2)


def estimate_motion(ref: np.ndarray, cur: np.ndarray, block_px: int = 16,
                    prior_px: tuple[float, float] = (0.0, 0.0)) -> MotionField:
    """Motion from ``ref`` to ``cur`` (both ``[H, W, 3]`` float32).

    The global shift is ``prior_px`` (e.g. per-frame shifts accumulated since ``ref``, which
    phase correlation of two distant frames could not find) refined by phase correlation
    of ``cur`` against ``ref`` shifted by it; then per-block phase correlation of ``cur``
    against the globally shifted ``ref`` gives the residual vectors; :func:`refine_motion`
    then refines both in least squares.
    """
    prior = MotionField(prior_px, np.zeros((1, 1, 2), np.float32))
    fine = phase_shift_px(warp(ref, prior), cur) if any(prior_px) else phase_shift_px(ref, cur)
    g = (prior_px[0] + float(fine[0]), prior_px[1] + float(fine[1]))
    shifted = warp(ref, MotionField(g, np.zeros((1, 1, 2), np.float32)))
    blocks = block_flow_px(shifted, cur, block_px).astype(np.float32)  # [By, Bx, 2]
    blocks = np.clip(blocks, -block_px / 2, block_px / 2)
    return _quantised(refine_motion(ref, cur, MotionField((float(g[0]), float(g[1])), blocks), block_px / 2))


#: Gauss-Newton steps of :func:`refine_motion`. Measured on 149 anchor-to-frame pairs (1-14 frames
#: apart, cuts left out) of six dev-set clips at 64 px: the warped anchor matches the frame at
#: 30.3 dB where it covers it with phase correlation alone, 33.2 dB refined (25.3 -> 27.2 dB over the
#: whole frame, uncovered edges included), for 7 more bytes of motion per frame
REFINE_STEPS = 8
#: ridge on each block's 2x2 system, relative to the block's area (keeps textureless blocks still)
_RIDGE = 1e-5


def refine_motion(ref: np.ndarray, cur: np.ndarray, m: MotionField, limit_px: float,
                  steps: int | None = None) -> MotionField:
    """``m`` refined so that ``warp(ref, m)`` matches ``cur`` in least squares (Lucas-Kanade).

    Phase correlation finds each shift to within a fraction of a pixel, but on 64 px frames a
    quarter-pixel error already costs several dB of prediction. Each step linearises the warped
    luma around the current field and solves, over the pixels the warp covers, for each block
    vector (Jacobi: every block its own 2x2 system, its pixels weighted as
    :meth:`MotionField.dense_px` spreads the vector over them), with a small ridge so that flat
    blocks keep their vector; the blocks' mean then moves into the global shift. While refining,
    block vectors stay within ``limit_px``. ``steps``: None for :data:`REFINE_STEPS`.
    """
    steps = REFINE_STEPS if steps is None else steps
    a, b = luma(ref), luma(cur)
    side = a.shape[0]
    g = np.array(m.global_px, np.float64)
    blocks = m.blocks_px.astype(np.float64)
    wy, wx = _spread(blocks.shape[0], side), _spread(blocks.shape[1], side)
    lam = _RIDGE * (side / blocks.shape[0]) * (side / blocks.shape[1])

    def per_block(x):
        return wy.T @ x @ wx  # [By, Bx]: each block's weighted sum over its pixels

    for _ in range(steps):
        field = MotionField((float(g[0]), float(g[1])), blocks.astype(np.float32))
        moved = warp(a[..., None], field)[..., 0]
        inside = covered(field, side)
        gy, gx = np.gradient(moved)
        gx, gy, r = gx * inside, gy * inside, (b - moved) * inside
        axx, axy, ayy = per_block(gx * gx) + lam, per_block(gx * gy), per_block(gy * gy) + lam
        bx, by = per_block(gx * r), per_block(gy * r)
        det = axx * ayy - axy * axy
        # the spread weights sum to 1 at every pixel, so a shift common to all blocks is found
        # once, not once per block
        blocks[..., 0] += (ayy * bx - axy * by) / det
        blocks[..., 1] += (axx * by - axy * bx) / det
        blocks = np.clip(blocks, -limit_px, limit_px)
    common = blocks.mean((0, 1))
    return MotionField((float(g[0] + common[0]), float(g[1] + common[1])), (blocks - common).astype(np.float32))


@lru_cache(maxsize=32)
def _spread(n: int, side_px: int) -> np.ndarray:
    """``[side_px, n]``: how :meth:`MotionField.dense_px` spreads ``n`` block values along one axis
    (its bilinear zoom is separable, so a block's weight at a pixel is the product of two of these)."""
    w = nd_zoom(np.eye(n, dtype=np.float32), (side_px / n, 1), order=1, mode="nearest", grid_mode=True)
    w.setflags(write=False)
    return w


def _quantised(m: MotionField) -> MotionField:
    g = tuple(float(np.round(v * _Q) / _Q) for v in m.global_px)
    return MotionField(g, (np.round(m.blocks_px * _Q) / _Q).astype(np.float32))


def _grid_bytes(by: int, bx: int) -> bytes:
    """The block grid's shape: one byte (``by``, ``bx`` in its two nibbles) when both are 1-15, as
    every grid of :func:`motion_block_px`'s default is (3 x 3); else a zero byte, then one per side."""
    if not (0 < by < 256 and 0 < bx < 256):
        raise ValueError(f"motion block grid {by} x {bx} must have 1-255 blocks a side")
    return bytes([by << 4 | bx]) if by < 16 and bx < 16 else bytes([0, by, bx])


def encode_motion(m: MotionField) -> bytes:
    """Bytes: the grid's shape (:func:`_grid_bytes`), a 16-bit checksum of it and of the vectors, then
    the global vector and the block vectors (int, 1/4 px) arithmetic-coded
    (:func:`gsvc.codecs.entropy.encode_residuals`, the global one in a context of its own).

    On the dev set's cvsc deltas (8 clips x 60 frames at 64 px, a delta's two motion sections) this
    takes 23.8 B per delta: 26.8 B with every model starting at 1/2 instead of at
    :data:`gsvc.codecs.entropy_priors.MOTION`, 31.6 B when the global vector was two raw int16 and the
    grid two bytes, 37.4 B before :meth:`gsvc.codecs.entropy.RangeEncoder.finish` sent its shortest flush.
    """
    g = [int(np.clip(np.round(v * _Q), -32767, 32767)) for v in m.global_px]
    by, bx = m.blocks_px.shape[:2]
    q = np.clip(np.round(m.blocks_px * _Q), -127, 127).astype(np.int8)
    values = np.concatenate([g, q.ravel()])
    grid = _grid_bytes(by, bx)
    crc = _motion_checksum(grid, values)
    return grid + struct.pack("<H", crc) + encode_residuals(values, _motion_contexts(by * bx * 2),
                                                            entropy_priors.MOTION)


def _motion_contexts(n_blocks_values: int) -> np.ndarray:
    return np.r_[[0, 0], np.ones(n_blocks_values, np.int64)]


def _motion_checksum(grid: bytes, values: np.ndarray) -> int:
    return checksum(np.concatenate([np.frombuffer(grid, np.uint8), values]).astype(np.int16))


def _read(data: bytes) -> tuple[int, int, np.ndarray]:
    """A section's grid shape and coded values (global, then blocks), checked; ValueError if malformed."""
    if len(data) < 3:
        raise ValueError("motion section too short")
    if data[0]:
        grid, (by, bx) = data[:1], divmod(data[0], 16)
    else:
        grid, by, bx = data[:3], data[1], data[2]
    if by == 0 or bx == 0:
        raise ValueError("motion section has an empty block grid")
    head = len(grid) + 2
    if len(data) < head:
        raise ValueError("motion section too short")
    (crc,) = struct.unpack("<H", data[len(grid):head])
    values = decode_residuals(data[head:], 2 + by * bx * 2, _motion_contexts(by * bx * 2), entropy_priors.MOTION)
    if np.abs(values[2:]).max() > 127 or _motion_checksum(grid, values) != crc:
        raise ValueError("motion section corrupt (checksum mismatch)")
    return by, bx, values


def decode_motion(data: bytes) -> MotionField:
    """Inverse of :func:`encode_motion`; raises ValueError on malformed bytes."""
    by, bx, values = _read(data)
    blocks = values[2:].reshape(by, bx, 2).astype(np.float32) / _Q
    return MotionField((values[0] / _Q, values[1] / _Q), blocks)


def tally_motion(data: bytes, tally: Tally) -> None:
    """Count what a section's coder coded into ``tally`` (:mod:`gsvc.codecs.derive_priors`)."""
    by, bx, values = _read(data)
    tally.residuals(values, _motion_contexts(by * bx * 2))


def _coords(m: MotionField, side_px: int) -> np.ndarray:
    d = m.dense_px(side_px)
    yy, xx = np.mgrid[0:side_px, 0:side_px].astype(np.float32)
    return np.stack([yy + d[..., 1], xx + d[..., 0]])  # [2, H, W] sample positions in ref


def warp(image: np.ndarray, m: MotionField, order: int = 1) -> np.ndarray:
    """Predict the current frame from ``image`` ``[H, W, C]`` (edges repeat): bilinear (``order=1``),
    or a cubic B-spline (``order=3``, sharper; it can overshoot the input's range, so callers clip)."""
    coords = _coords(m, image.shape[0])
    out = np.empty_like(image, dtype=np.float32)
    for c in range(image.shape[2]):
        out[..., c] = map_coordinates(image[..., c], coords, order=order, mode="nearest")
    return out


def covered(m: MotionField, side_px: int) -> np.ndarray:
    """``[H, W]`` float32 validity mask of a warp: 1 where the sampled position lies inside
    the reference frame, 0 where :func:`warp` can only repeat the edge (content uncovered
    by the motion, which the reference does not show)."""
    coords = _coords(m, side_px)
    inside = (coords >= -0.5) & (coords <= side_px - 0.5)
    return (inside[0] & inside[1]).astype(np.float32)


def warp_labels(labels: np.ndarray, m: MotionField) -> np.ndarray:
    """Predict the current label map from ``labels`` ``[H, W]`` (nearest neighbour)."""
    return map_coordinates(labels, _coords(m, labels.shape[0]), order=0, mode="nearest").astype(labels.dtype)

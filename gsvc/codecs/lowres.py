"""The low-resolution frame: what any content can send next to (or instead of) semantics.

The sender averages the frame over ``factor x factor`` blocks (``side / factor``
pixels a side), converts it to YCbCr (BT.601, full range), and codes
it as a small transform codec of its own:

* Y, Cb, Cr at the low-res size (4:4:4), 4x4 orthonormal DCT blocks (an intra frame of at least
  :data:`INTRA_8X8_MIN_SIDE_PX` a side is coded with 4x4 and 8x8 blocks and sent with the size of lower
  rate-distortion cost, a header bit saying which: :func:`_candidates`), one uniform quantiser
  step ``quant`` (in 8-bit levels) for every luma coefficient and ``CHROMA_STEP`` times it for chroma,
  rounding with a dead zone (offset 1/3, as H.264 reference encoders do for intra blocks);
* intra (anchors): each block's DC predicted from its left, upper and upper-left neighbours' (the
  median predictor of JPEG-LS, :func:`_dc_prediction`), and the
  reconstruction deblocked (:func:`deblock`) at both ends, so that the frame shown and the
  predictions made from it are the filtered one (an in-loop filter, as H.264's);
* inter (deltas): the residual against ``predicted``, the *anchor's* decoded low-res
  frame moved by the transmitted motion (:func:`predict_lowres`), so a delta depends on
  the anchor only, as every other section of a diffusion delta does: a lost delta breaks
  nothing after it;
* coefficients arithmetic-coded (:func:`gsvc.codecs.entropy.encode_blocks`): a flag per block
  says whether it has any non-zero coefficient, then those that have code theirs with
  separate contexts for DC, low and high frequencies of luma and chroma (six bands in 8x8 blocks, which
  also end with last flags), each model starting from
  the probability counted on gsvc's own clips (:mod:`gsvc.codecs.entropy_priors`, intra and inter
  apart), behind a 16-bit
  checksum of the quantised values, so a damaged section raises ``ValueError`` and the
  frame is concealed instead of shown wrong.

Why not H.264 of the low-resolution stream: at 8-16 px a side one x264 frame carries a
slice header and, on keyframes, parameter sets that cost as much as the picture, its P
frames chain on the previous frame (one loss breaks the group, which the diffusion
codecs' anchor-only dependency avoids), and its rate control works per frame, not per
quantiser step. ``benchmarks/bench_lowres.py`` measures both on the same frames.

The encoder and decoder reconstruct with the same NumPy code, so the encoder's
:func:`encode_lowres` returns exactly the image the receiver will decode.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import zoom as nd_zoom

from . import entropy_priors
from .entropy import Tally, checksum, decode_blocks, encode_blocks

__all__ = ["downsample", "upsample_lowres", "back_project", "encode_lowres", "decode_lowres", "quantize_lowres",
           "predict_lowres", "rd_cost", "LAMBDA_PER_STEP2", "lowres_header", "lowres_side", "tally_lowres", "deblock",
           "LOWRES_FACTORS"]

#: accepted values of ``codec.lowres_factor`` (side of the full frame / side of the low-res frame)
LOWRES_FACTORS = (1, 2, 4, 8, 16)
_INTRA, _INTER = 0, 1
#: a section's header: the side (px, 1-1024) with the mode (intra 0, inter 1) in the top bit and the
#: transform (4x4 0, 8x8 1) in the next, the quantiser step, a 16-bit checksum
_HEAD = struct.Struct("<HBH")
_SIDE_MASK = 0x07FF
_T8_BIT = 1 << 14
_DEADZONE = 1.0 / 3.0
#: chroma quantiser step relative to luma's (chroma errors cost less PSNR per level: Y carries 0.3-0.6 of R, G, B)
CHROMA_STEP = 1.5

#: deblocking of intra frames (:func:`deblock`), in quantiser steps: a step across a block boundary
#: smaller than ``ALPHA`` (and within each side smaller than ``BETA``) is taken for a coding artefact,
#: and the two pixels beside the boundary move towards each other by at most ``TC`` (per transform
#: size: :data:`DEBLOCK_TC`)
DEBLOCK_ALPHA, DEBLOCK_BETA = 4.0, 2.0
#: the most a deblocked pixel moves, in quantiser steps, by transform block side: tuned on the dev set's
#: frames for 4x4 (see :func:`deblock`); for 8x8, 1/16 of a step (whole 64 px frames of the dev set, every
#: 15th, steps 10-25: the 8x8 transform against the 4x4 needs 7.9 / 5.9 / 8.1 % fewer bytes at equal PSNR /
#: SSIM / LPIPS with 1/16, 9.0 / 8.3 / 5.0 % with 1/8, 9.6 / 9.4 / 2.6 % with 3/16: LPIPS, the measure
#: generative codecs are judged by, prefers the lighter filter)
DEBLOCK_TC = {4: 0.125, 8: 0.0625}
#: intra sections at least this many px a side may use 8x8 transform blocks, the rest use 4x4 (see
#: :func:`_candidates`)
INTRA_8X8_MIN_SIDE_PX = 64


def _dct_matrix(b: int) -> np.ndarray:
    """The orthonormal ``b``-point DCT-II matrix ``[b, b]``."""
    return np.array([[np.sqrt((1 if k == 0 else 2) / b) * np.cos(np.pi * (2 * i + 1) * k / (2 * b))
                      for i in range(b)] for k in range(b)])


def _zigzag(b: int) -> np.ndarray:
    """Raster indices of a ``b x b`` block in JPEG's zig-zag order."""
    return np.array([y * b + x for _, _, y, x in sorted((y + x, y if (y + x) % 2 else x, y, x)
                                                          for y in range(b) for x in range(b))])


@dataclass(frozen=True)
class _Transform:
    """One transform size: its block side, DCT matrix, zig-zag scan, each scan position's coefficient
    context for luma (chroma: ``+ chroma_offset``), the block classes of its luma and chroma blocks
    (kept apart from the other size's, so one table of priors serves both), and whether its blocks end
    with last flags (:func:`gsvc.codecs.entropy.encode_blocks`). Made by :func:`_transform_of`."""

    side: int
    matrix: np.ndarray
    scan: np.ndarray
    band: np.ndarray
    chroma_offset: int
    classes: tuple[int, int]
    last_flags: bool


def _transform_of(side: int, bounds: tuple[int, ...], first_context: int, first_class: int,
                  last_flags: bool) -> _Transform:
    """The ``side`` x ``side`` transform whose scan positions fall into bands at ``bounds`` (each bound the
    first scan position of a new band), its luma contexts numbered from ``first_context`` and its chroma
    ones right after them, its luma and chroma blocks of classes ``first_class`` and the next."""
    band = first_context + np.searchsorted(np.array(bounds), np.arange(side * side), side="right")
    return _Transform(side, _dct_matrix(side), _zigzag(side), band, len(bounds) + 1,
                      (first_class, first_class + 1), last_flags)


#: 4x4: contexts 0 DC, 1 low (scan 1-5), 2 high, chroma 3-5; 8x8: six bands (scan 0, 1-2, 3-5, 6-14,
#: 15-27, 28-63), contexts 6-11, chroma 12-17. Measured on whole 64 px intra frames of the dev set (every
#: 15th, steps 10-25, priors counted on generated clips for each, deblocked): the 8x8 transform needs 5.3 %
#: fewer bytes than the 4x4 at equal PSNR and 5.5 % at equal LPIPS with three bands (as the 4x4's), 7.9 and
#: 8.1 % with these six (eight or twelve bands: fewer); on half-side (32 px) frames it needs 3.7 % more, hence
#: :data:`INTRA_8X8_MIN_SIDE_PX`
_T4 = _transform_of(4, (1, 6), first_context=0, first_class=0, last_flags=False)
_T8 = _transform_of(8, (1, 3, 6, 15, 28), first_context=6, first_class=2, last_flags=True)


def _candidates(mode: int, n: int) -> tuple[_Transform, ...]:
    """The transforms an ``n``-px section of ``mode`` may use: 4x4 and 8x8 for intra sections of at least
    :data:`INTRA_8X8_MIN_SIDE_PX` a side, 4x4 otherwise (small frames, inter residuals). Which of the two
    compacts a frame better depends on its content: smooth content over many blocks favours 8x8 (as H.264's
    High profile adds it for), sharp graphics ring in it. So :func:`encode_lowres` codes such a frame both
    ways and keeps the one of lower rate-distortion cost (as ``lowres_reference="best"`` chooses a
    delta's prediction), as H.264 encoders choose ``transform_size_8x8_flag`` per macroblock; here per frame.
    Measured on intra frames of the dev set (every 15th of each clip), BD-rate at equal PSNR: whole 64 px
    frames at steps 10-40, 8x8 alone against 4x4 -14.0 %, the choice -14.3 % (the logo: 8x8 alone +3.3 %,
    the choice -2.2 %, 8 of 28 frames 8x8); 128 px frames averaged to 64 px (a 128 px video's half-side
    anchors) at steps 3-10, 8x8 alone -2.3 %, the choice -5.5 % (the logo and the procedural clip keep
    4x4 on every frame, topobathy takes 8x8 on every frame: -17.2 %).
    """
    return (_T4, _T8) if mode == _INTRA and n >= INTRA_8X8_MIN_SIDE_PX else (_T4,)


_YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
_RGB = np.linalg.inv(_YCC)


def downsample(rgb: np.ndarray, factor: int) -> np.ndarray:
    """``[H, W, C]`` -> ``[H/factor, W/factor, C]`` float32 block means (H, W multiples of ``factor``)."""
    h, w, c = rgb.shape
    if h % factor or w % factor:
        raise ValueError(f"a {h}x{w} frame does not split into {factor}x{factor} blocks; "
                         f"codec.lowres_factor must divide video.resolution")
    return np.asarray(rgb, np.float32).reshape(h // factor, factor, w // factor, factor, c).mean((1, 3))


def upsample_lowres(lowres: np.ndarray, side_px: int, clip: bool = True) -> np.ndarray:
    """``[n, n, C]`` -> ``[side_px, side_px, C]`` float32 (bilinear, pixel centres aligned), in [0, 1]
    unless ``clip`` is False (for signed differences)."""
    f = side_px / lowres.shape[0]
    up = nd_zoom(np.asarray(lowres, np.float32), (f, f, 1), order=1, mode="nearest", grid_mode=True)
    return (np.clip(up, 0, 1) if clip else up).astype(np.float32)


def back_project(image: np.ndarray, lowres: np.ndarray, iterations: int) -> np.ndarray:
    """Make ``image`` ``[H, W, 3]`` agree with the transmitted low-res frame ``[n, n, 3]``: iterative
    back-projection (Irani & Peleg, "Improving resolution by image registration", CVGIP 1991), each
    step adding the upsampled difference between ``lowres`` and the image's own block means.

    The receiver knows the low-res frame exactly, so any output whose block means differ from it
    is wrong by at least that much; measured on the grace_hopper dev clip at 64 px, bilinear
    upsampling alone gives 23.9 dB (factor 2) and 18.9 dB (factor 4), three steps of this 26.0 and
    20.1 dB.
    """
    factor = image.shape[0] // lowres.shape[0]
    out = np.asarray(image, np.float32)
    for _ in range(iterations):
        out = np.clip(out + upsample_lowres(lowres - downsample(out, factor), out.shape[0], clip=False), 0, 1)
    return out


def predict_lowres(ref_lowres: np.ndarray, motion, side_px: int, factor: int | None = None) -> np.ndarray:
    """A low-res frame ``[n, n, 3]`` (the anchor's, or the previous frame's) moved by ``motion`` (a
    full-resolution :class:`~gsvc.codecs.motion.MotionField`, or None: not moved), at
    ``side_px / factor`` px (default: its own size).

    At its own size it is moved where it is, with the motion scaled to it and cubic B-spline
    interpolation: upsampling it, moving it bilinearly and averaging it down again (gsvc's earlier
    predictor) blurs the prediction twice, and the residual pays for that on every delta. On the dev
    set (8 clips x 60 frames at 64 px, cvsc's stream, encoder only) the stream took 20.9 kbit/s
    against 24.5 and the deltas' low-res frames came out at 30.21 dB against 29.76 (bilinear at the
    low-res size: 22.3 kbit/s, 30.08 dB; a quintic spline 20.9 kbit/s, 30.14 dB). At another size
    (a whole anchor predicting half-size deltas) it is upsampled, moved with the same spline and
    averaged down.
    """
    from .motion import warp
    own = side_px // ref_lowres.shape[0]
    factor = factor or own
    if motion is None and factor == own:
        return ref_lowres
    if factor == own:
        moved = warp(np.asarray(ref_lowres, np.float32), motion.scaled(1.0 / own), order=3)
        return np.clip(moved, 0, 1).astype(np.float32)
    up = upsample_lowres(ref_lowres, side_px)
    return downsample(up if motion is None else np.clip(warp(up, motion, order=3), 0, 1), factor)


def lowres_header(data: bytes) -> tuple[str, int, int]:
    """A section's header: ("intra" or "inter", side of the low-res frame in px, quantiser step in
    8-bit levels); ValueError if too short."""
    if len(data) < _HEAD.size:
        raise ValueError("low-res section too short")
    word, quant, _ = _HEAD.unpack(data[:_HEAD.size])
    return ("intra", "inter")[word >> 15], word & _SIDE_MASK, quant


def lowres_side(data: bytes) -> int:
    """Side (px) of the low-res frame in a section, read from its header; ValueError if too short."""
    return lowres_header(data)[1]


def _planes(ycc: np.ndarray, b: int) -> list[np.ndarray]:
    """Y, Cb, Cr planes (4:4:4: at 8-16 px a side, 4:2:0 chroma costs more dB than bits), each padded
    to multiples of the block side ``b``."""
    return [np.pad(ycc[:, :, c], ((0, -ycc.shape[0] % b), (0, -ycc.shape[1] % b)), mode="edge") for c in range(3)]


def _unplanes(planes: list[np.ndarray], n: int) -> np.ndarray:
    return np.stack([p[:n, :n] for p in planes], -1)


def _blocks(plane: np.ndarray, b: int) -> np.ndarray:
    """``[h, w]`` -> ``[h/b * w/b, b, b]`` in raster order of blocks."""
    h, w = plane.shape
    return plane.reshape(h // b, b, w // b, b).transpose(0, 2, 1, 3).reshape(-1, b, b)


def _unblocks(blocks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    b = blocks.shape[-1]
    return blocks.reshape(h // b, w // b, b, b).transpose(0, 2, 1, 3).reshape(h, w)


def _layout(n: int, t: _Transform) -> tuple[list[tuple[int, int]], dict]:
    """Padded plane shapes for an ``n``-px low-res frame, and how :func:`gsvc.codecs.entropy.encode_blocks`
    codes its blocks of transform ``t`` (Y, Cb, Cr planes in turn, blocks in raster order): each
    coefficient's context, each block's class (luma or chroma) and its left and upper neighbours in the same
    plane (-1: none)."""
    ny = n + (-n % t.side)
    shapes = [(ny, ny)] * 3
    side = ny // t.side
    row, col = np.divmod(np.arange(side * side), side)
    own = np.arange(side * side)
    left = np.concatenate([np.where(col > 0, own - 1 + p * side * side, -1) for p in range(3)])
    up = np.concatenate([np.where(row > 0, own - side + p * side * side, -1) for p in range(3)])
    contexts = np.concatenate([np.tile(t.band + (0 if p == 0 else t.chroma_offset), (side * side, 1))
                               for p in range(3)])
    classes = np.repeat([t.classes[0], t.classes[1], t.classes[1]], side * side)
    return shapes, {"contexts": contexts, "block_class": classes, "left": left, "up": up}


def deblock(rgb: np.ndarray, quant: int, block: int = 4) -> np.ndarray:
    """An intra-coded frame ``[n, n, 3]`` (RGB in [0, 1]) with the edges of its ``block`` x ``block``
    transform blocks (4 or 8) smoothed where they are
    coding artefacts, not picture edges: the boundary filter of H.264 (ITU-T H.264, 8.7, the
    normal filter: ``d = ((q0 - p0) * 4 + (p1 - q1)) / 8``, clipped to ``tc``, where
    ``|p0 - q0| < alpha``, ``|p1 - p0| < beta`` and ``|q1 - q0| < beta``), vertical edges then
    horizontal, with thresholds in units of the quantiser step ``quant`` (8-bit levels).

    Tuned on the dev set's frames (:data:`DEBLOCK_ALPHA`, :data:`DEBLOCK_BETA`, :data:`DEBLOCK_TC`;
    40 frames, every 12th of each clip) for 4x4 blocks: a whole frame at step 16 / 32 comes 0.53 / 0.68 dB and
    0.010 / 0.021 SSIM closer to the source and LPIPS falls 0.0072 -> 0.0068 / 0.032 -> 0.024; a
    correction of up to a quarter step gained more PSNR (0.63 / 0.77 dB) but cost LPIPS at step 16
    (0.0082). A half-side frame at step 10 / 5 comes 0.20 / 0.13 dB closer to its block means. On inter
    frames (a residual on a smooth prediction) it did not help, so they are left as decoded.
    """
    st = quant / 255.0
    alpha, beta, tc = DEBLOCK_ALPHA * st, DEBLOCK_BETA * st, DEBLOCK_TC[block] * st
    out = np.array(rgb, np.float32)
    for axis in (1, 0):
        y = np.moveaxis(out, axis, 0)  # a view: boundaries across this axis
        b = np.arange(block, y.shape[0] - 1, block)
        p1, p0, q0, q1 = y[b - 2], y[b - 1], y[b], y[b + 1]
        artefact = (np.abs(p0 - q0) < alpha) & (np.abs(p1 - p0) < beta) & (np.abs(q1 - q0) < beta)
        d = np.clip(((q0 - p0) * 4 + (p1 - q1)) / 8, -tc, tc) * artefact
        y[b - 1] = p0 + d
        y[b] = q0 - d
    return np.clip(out, 0, 1)


def _dc_predictor(dc: list[list[int]], y: int, x: int) -> int:
    """The prediction of block (y, x)'s quantised DC from the blocks before it in raster order: the
    median of the left, upper and planar (``left + up - up_left``) neighbours, JPEG-LS's median edge
    detector (ITU-T T.87, A.2.1), which follows an edge along either direction; the left one on the
    first row, the upper one in the first column, 0 for the first block."""
    if y and x:
        left, up, up_left = dc[y][x - 1], dc[y - 1][x], dc[y - 1][x - 1]
        return max(min(left, up), min(max(left, up), left + up - up_left))
    return dc[y][x - 1] if x else dc[y - 1][x] if y else 0


def _dc_prediction(dc: np.ndarray) -> np.ndarray:
    """``[By, Bx]`` quantised DCs of an intra plane's blocks -> their predictions ``[By * Bx]``
    (:func:`_dc_predictor`). Against the previous block's DC in raster order (this coder's earlier
    predictor) it saves 3.4 % of a whole frame's bytes at step 16 and 1.6 % of a half-side one's at
    step 5 (the dev set's frames, every 15th), the reconstruction unchanged."""
    rows = dc.tolist()
    return np.array([_dc_predictor(rows, y, x) for y in range(len(rows)) for x in range(len(rows[0]))], np.int64)


def _undo_dc_prediction(residual: np.ndarray, side: int) -> np.ndarray:
    """Inverse of subtracting :func:`_dc_prediction` from a square plane's ``side * side`` DCs."""
    r = residual.reshape(side, side).tolist()
    dc = [[0] * side for _ in range(side)]
    for y in range(side):
        for x in range(side):
            dc[y][x] = r[y][x] + _dc_predictor(dc, y, x)
    return np.array(dc, np.int64).ravel()


def _quantise(lowres: np.ndarray, predicted: np.ndarray | None, quant: int,
              t: _Transform) -> tuple[np.ndarray, np.ndarray]:
    """(coded integers in scan order, the reconstruction ``[n, n, 3]`` in RGB [0, 1]) with transform ``t``."""
    n = lowres.shape[0]
    step = quant / 255.0
    base = np.full_like(lowres, 0.5) if predicted is None else np.asarray(predicted, np.float32)
    ycc_base = base @ _YCC.T
    resid = _planes(lowres @ _YCC.T - ycc_base, t.side)
    coded, recon_planes = [], []
    for p, plane in enumerate(resid):
        coef = t.matrix @ _blocks(plane, t.side) @ t.matrix.T
        st = step * (CHROMA_STEP if p else 1.0)
        q = (np.sign(coef) * np.floor(np.abs(coef) / st + _DEADZONE)).astype(np.int64)
        recon_planes.append(_unblocks(t.matrix.T @ (q * st) @ t.matrix, plane.shape))
        flat = q.reshape(len(q), -1)[:, t.scan]
        if predicted is None:
            flat[:, 0] -= _dc_prediction(flat[:, 0].reshape(plane.shape[0] // t.side, -1))
        coded.append(flat.ravel())
    recon = np.clip((_unplanes(recon_planes, n) + ycc_base) @ _RGB.T, 0, 1).astype(np.float32)
    return np.concatenate(coded), (deblock(recon, quant, t.side) if predicted is None else recon)


def _dequantise(coded: np.ndarray, n: int, predicted: np.ndarray | None, quant: int, t: _Transform) -> np.ndarray:
    step = quant / 255.0
    base = np.full((n, n, 3), 0.5, np.float32) if predicted is None else np.asarray(predicted, np.float32)
    shapes, _ = _layout(n, t)
    planes, pos, size = [], 0, t.side * t.side
    for p, shape in enumerate(shapes):
        st = step * (CHROMA_STEP if p else 1.0)
        nb = (shape[0] // t.side) * (shape[1] // t.side)
        flat = coded[pos:pos + nb * size].reshape(nb, size).copy()
        pos += nb * size
        if predicted is None:
            flat[:, 0] = _undo_dc_prediction(flat[:, 0], shape[0] // t.side)
        q = np.empty_like(flat)
        q[:, t.scan] = flat
        planes.append(_unblocks(t.matrix.T @ (q.reshape(nb, t.side, t.side) * st) @ t.matrix, shape))
    recon = np.clip((_unplanes(planes, n) + base @ _YCC.T) @ _RGB.T, 0, 1).astype(np.float32)
    return deblock(recon, quant, t.side) if predicted is None else recon


def quantize_lowres(rgb: np.ndarray, factor: int, quant: int, predicted: np.ndarray | None = None) -> np.ndarray:
    """The low-res frame ``[n, n, 3]`` a receiver decodes from :func:`encode_lowres` (for training; an
    intra frame that may take either transform is coded both ways to choose, as the sender does)."""
    small = downsample(rgb, factor)
    if len(_candidates(_INTRA if predicted is None else _INTER, small.shape[0])) > 1:
        return encode_lowres(rgb, factor, quant, predicted)[1]
    return _quantise(small, predicted, quant, _T4)[1]


def encode_lowres(rgb: np.ndarray, factor: int, quant: int,
                  predicted: np.ndarray | None = None) -> tuple[bytes, np.ndarray]:
    """Code a frame's low-res version.

    Args:
        rgb: ``[H, W, 3]`` float in [0, 1], H = W a multiple of ``factor``.
        factor: side reduction (``codec.lowres_factor``).
        quant: quantiser step of the DCT coefficients in 8-bit levels, 1-255 (``codec.lowres_quant``).
        predicted: ``[n, n, 3]`` prediction (inter), or None (intra).

    Returns:
        (section bytes, the decoded low-res frame ``[n, n, 3]`` float32 in [0, 1]).

    Where the frame may take either transform (:func:`_candidates`) it is coded with each, and the one of
    lower :func:`rd_cost` is sent.
    """
    if not 1 <= quant <= 255:
        raise ValueError(f"codec.lowres_quant={quant} must lie in [1, 255] levels")
    small = downsample(rgb, factor)
    mode = _INTRA if predicted is None else _INTER
    coded = [_code(small, predicted, quant, mode, t) for t in _candidates(mode, small.shape[0])]
    return coded[0] if len(coded) == 1 else min(coded, key=lambda c: rd_cost(*c, small, quant))


#: Lagrange multiplier of the low-res coder's choices (squared 8-bit levels per bit) over the quantiser
#: step^2: at high rate a uniform quantiser's distortion falls by 2 ln 2 of itself per bit, with D = step^2 / 12,
#: so dD/dR = -(ln 2 / 6) step^2 = -0.116 step^2 (Sullivan & Wiegand, "Rate-distortion optimization for
#: video compression", IEEE Signal Processing Magazine 15(6), 1998; H.264's reference encoder uses
#: 0.85 x 2^((QP - 12) / 3), about 0.136 step^2)
LAMBDA_PER_STEP2 = 0.116


def rd_cost(data: bytes, recon: np.ndarray, target: np.ndarray, quant: int) -> float:
    """Rate-distortion cost in bits of sending section ``data`` that decodes to ``recon`` ``[n, n, 3]`` for
    the low-res frame ``target`` ``[n, n, 3]`` (:func:`downsample` of the frame) at step ``quant``: its bits
    plus its squared error (8-bit levels) over :data:`LAMBDA_PER_STEP2` x quant^2. What the sender minimises
    when it chooses a section's transform (:func:`encode_lowres`) and a delta's prediction
    (``codec.lowres_reference="best"``)."""
    err = float(np.sum((255.0 * (recon - target)) ** 2))
    return 8 * len(data) + err / (LAMBDA_PER_STEP2 * quant ** 2)


def _code(small: np.ndarray, predicted: np.ndarray | None, quant: int, mode: int,
          t: _Transform) -> tuple[bytes, np.ndarray]:
    """(section bytes, the decoded frame) of low-res frame ``small`` ``[n, n, 3]`` with transform ``t``."""
    n = small.shape[0]
    coded, recon = _quantise(small, predicted, quant, t)
    kind = _kind(mode, t)
    size, coding = _block_coding(n, t)
    head = _HEAD.pack(mode << 15 | (_T8_BIT if t is _T8 else 0) | n, quant, _checksum(kind, n, quant, coded))
    return head + encode_blocks(coded.reshape(-1, size), **coding, priors=_priors(mode)), recon


def _kind(mode: int, t: _Transform) -> int:
    """Mode and transform in one number for the checksum (0 intra 4x4, 1 inter 4x4, 2 intra 8x8): a flipped
    transform bit must fail it, and sections of 4x4 blocks keep the checksum they had before 8x8 was a
    choice."""
    return mode + (2 if t is _T8 else 0)


def _priors(mode: int):
    return entropy_priors.LOWRES_INTER if mode == _INTER else entropy_priors.LOWRES_INTRA


def _block_coding(n: int, t: _Transform) -> tuple[int, dict]:
    """How an ``n``-px section's coefficients go through :func:`gsvc.codecs.entropy.encode_blocks` (and
    ``decode_blocks``, ``Tally.blocks``): the values per block, and the block layout and last-flag
    arguments of transform ``t``."""
    return t.side ** 2, {**_layout(n, t)[1], "last_flags": t.last_flags}


def _checksum(kind: int, n: int, quant: int, coded: np.ndarray) -> int:
    """Over the header fields too (``kind``: :func:`_kind`): a flipped quantiser step would otherwise decode
    to a wrong image."""
    return checksum(np.concatenate([[kind, n, quant], coded]).astype(np.int16))


def _read(data: bytes) -> tuple[int, int, int, _Transform, np.ndarray]:
    """A section's mode, side (px), quantiser step, transform and coded integers in scan order, checked
    against its checksum; ValueError on malformed bytes."""
    if len(data) < _HEAD.size:
        raise ValueError("low-res section too short")
    word, quant, crc = _HEAD.unpack(data[:_HEAD.size])
    mode, n = word >> 15, word & _SIDE_MASK
    t = _T8 if word & _T8_BIT else _T4
    if not 0 < n <= 1024 or quant == 0 or word & 0x3800 or t not in _candidates(mode, n):
        raise ValueError("low-res section has a bad header")
    size, coding = _block_coding(n, t)
    coded = decode_blocks(data[_HEAD.size:], size=size, **coding, priors=_priors(mode)).ravel()
    if np.abs(coded).max(initial=0) > 32767 or _checksum(_kind(mode, t), n, quant, coded) != crc:
        raise ValueError("low-res section corrupt (checksum mismatch)")
    return mode, n, quant, t, coded


def decode_lowres(data: bytes, predicted: np.ndarray | None = None) -> np.ndarray:
    """Bytes -> the low-res frame ``[n, n, 3]`` float32 in [0, 1]; ValueError on malformed bytes."""
    mode, n, quant, t, coded = _read(data)
    if mode == _INTER and (predicted is None or predicted.shape[:2] != (n, n)):
        raise ValueError("inter-coded low-res section needs the anchor's low-res frame of the same size")
    return _dequantise(coded, n, predicted if mode == _INTER else None, quant, t)


def tally_lowres(data: bytes, intra: Tally, inter: Tally) -> None:
    """Count what a section's coder coded into ``intra`` or ``inter`` (:mod:`gsvc.codecs.derive_priors`)."""
    mode, n, quant, t, coded = _read(data)
    size, coding = _block_coding(n, t)
    (inter if mode == _INTER else intra).blocks(coded.reshape(-1, size), **coding)

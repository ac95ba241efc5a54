"""Semantic coding at the sender: label maps as real compressed bytes.

Label maps (``[H, W]`` uint8 class ids < 16) are coded losslessly (optionally after
nearest-neighbour downsampling by ``factor``) with the context-adaptive arithmetic
coder of :mod:`gsvc.codecs.entropy`, its models starting from the probabilities counted on
gsvc's own clips (:data:`gsvc.codecs.entropy_priors.LABELS`; edge maps,
:mod:`gsvc.codecs.structure`, from their own, ``EDGES``):

* intra: each pixel predicted from its causal neighbours;
* inter: each pixel predicted from ``predicted``, the reference labels
  motion-compensated with the transmitted motion, so unchanged regions cost almost
  nothing; a delta whose prediction misses much is sent intra when that is shorter.

A section's 4-byte header is a 16-bit word (the mode, intra 0 or inter 1, in its top bit, the
factor's log2 in the next two, the coded map's side in px, 1-4096, below) and a 16-bit checksum of
what it decodes to (arithmetic-coded bytes have no redundancy of their own), so a corrupted or
truncated section raises ``ValueError`` and the frame is concealed instead of shown wrong.
"""
from __future__ import annotations

import struct

import numpy as np

from . import entropy_priors
from .entropy import LabelPriors, Tally, checksum, decode_label_map, encode_label_map

__all__ = ["encode_labels", "decode_labels", "upsample_labels", "tally_labels", "label_header"]

_INTRA, _INTER = 0, 1
_HEAD = struct.Struct("<HH")
_SIDE_MASK = 0x1FFF
_FACTORS = (1, 2, 4)


def _down(labels: np.ndarray, factor: int) -> np.ndarray:
    return labels[factor // 2::factor, factor // 2::factor] if factor > 1 else labels


def upsample_labels(labels: np.ndarray, side_px: int) -> np.ndarray:
    """Nearest-neighbour upsampling of a ``[h, w]`` map to ``[side_px, side_px]``."""
    f = side_px // labels.shape[0]
    return np.repeat(np.repeat(labels, f, 0), f, 1) if f > 1 else labels


#: share of pixels the prediction gets wrong above which an inter map is also coded intra, and the
#: shorter sent (below it the inter map is always the shorter: a prediction that misses whole rows,
#: as a sub-pixel shift of a horizon can, costs more than the map's own neighbours)
INTRA_CHECK_MISS = 0.02


def _default_priors() -> LabelPriors:
    return entropy_priors.LABELS


def encode_labels(labels: np.ndarray, predicted: np.ndarray | None = None, factor: int = 1,
                  priors: LabelPriors | None = None) -> bytes:
    """Bytes of a label map; inter-coded against ``predicted`` (same shape as ``labels``) if given,
    unless intra coding is shorter (checked where the prediction misses more than
    :data:`INTRA_CHECK_MISS` of the pixels). ``priors``: where the coder's models start (default
    :data:`gsvc.codecs.entropy_priors.LABELS`; the decoder must be given the same)."""
    if factor not in _FACTORS:
        raise ValueError(f"label factor {factor} must be one of {_FACTORS}")
    priors = _default_priors() if priors is None else priors
    lab = _down(np.ascontiguousarray(labels, np.uint8), factor)
    pred = None if predicted is None else _down(np.asarray(predicted, np.uint8), factor)
    if not 0 < lab.shape[0] <= 4096 or lab.shape[0] != lab.shape[1]:
        raise ValueError(f"label maps must be square with a side in [1, 4096] px, not {lab.shape}")
    crc = checksum(lab)

    def section(mode: int, against: np.ndarray | None) -> bytes:
        word = mode << 15 | _FACTORS.index(factor) << 13 | lab.shape[0] - 1
        return _HEAD.pack(word, crc) + encode_label_map(lab, against, priors)

    intra = None
    if pred is None or np.mean(pred != lab) > INTRA_CHECK_MISS:
        intra = section(_INTRA, None)
        if pred is None:
            return intra
    inter = section(_INTER, pred)
    return inter if intra is None or len(inter) <= len(intra) else intra


def label_header(data: bytes) -> tuple[str, int, int]:
    """A section's header: ("intra" or "inter", side of the coded map in px, its downsampling factor);
    ValueError if too short or malformed."""
    if len(data) < _HEAD.size:
        raise ValueError("semantic section too short")
    word = _HEAD.unpack(data[:_HEAD.size])[0]
    if (word >> 13) & 3 >= len(_FACTORS):
        raise ValueError("semantic section has a bad header")
    return ("intra", "inter")[word >> 15], (word & _SIDE_MASK) + 1, _FACTORS[(word >> 13) & 3]


def _read(data: bytes, predicted: np.ndarray | None, priors: LabelPriors | None
          ) -> tuple[np.ndarray, np.ndarray | None, int]:
    """(the coded map, the prediction it was coded against or None, the factor), checked against the
    section's checksum; ValueError on malformed bytes."""
    mode, side, factor = label_header(data)
    crc = _HEAD.unpack(data[:_HEAD.size])[1]
    pred = None
    if mode == "inter":
        if predicted is None:
            raise ValueError("inter-coded semantic section needs the reference labels")
        pred = _down(np.asarray(predicted, np.uint8), factor)
        if pred.shape != (side, side):
            raise ValueError("semantic section does not match the reference labels")
    lab = decode_label_map(data[_HEAD.size:], (side, side), pred, _default_priors() if priors is None else priors)
    if checksum(lab) != crc:
        raise ValueError("semantic section corrupt (checksum mismatch)")
    return lab, pred, factor


def decode_labels(data: bytes, predicted: np.ndarray | None = None, priors: LabelPriors | None = None
                  ) -> np.ndarray:
    """Inverse of :func:`encode_labels` at full resolution, with the same ``priors``; ValueError on
    malformed bytes."""
    lab, _, factor = _read(data, predicted, priors)
    return upsample_labels(lab, lab.shape[0] * factor)


def tally_labels(data: bytes, tally: Tally, predicted: np.ndarray | None = None,
                 priors: LabelPriors | None = None) -> None:
    """Count what a section's coder coded into ``tally`` (:mod:`gsvc.codecs.derive_priors`)."""
    lab, pred, _ = _read(data, predicted, priors)
    tally.label_map(lab, pred)

"""The structure map: edges of the frame, a condition any content can supply without learned weights.

Canny edges (scikit-image: Gaussian smoothing, Sobel gradients, non-maximum suppression,
hysteresis) of the frame's luma, with the smoothing scaled to the frame
(``sigma = EDGE_SIGMA_PX * side / 64``) so that the map marks the same structure at
every resolution. The binary ``[H, W]`` map is coded losslessly with the context-adaptive
label-map coder of :mod:`gsvc.codecs.semantic` (two classes; its models starting from the
probabilities counted on gsvc's own clips' edge maps, :data:`gsvc.codecs.entropy_priors.EDGES`):
intra in anchors, inter against the anchor's map moved by the transmitted motion in deltas,
behind the same 16-bit checksum, so a damaged section is concealed, never shown wrong.
"""
from __future__ import annotations

import numpy as np

from . import entropy_priors
from .entropy import Tally
from .semantic import decode_labels, encode_labels, tally_labels

__all__ = ["edge_map", "encode_structure", "decode_structure", "tally_structure", "EDGE_SIGMA_PX"]

#: Canny smoothing at 64 px, px (scaled with the frame side)
EDGE_SIGMA_PX = 1.0
#: hysteresis thresholds on the gradient magnitude of luma in [0, 1] (per px of a 64 px frame)
EDGE_LOW, EDGE_HIGH = 0.08, 0.16


def edge_map(rgb: np.ndarray, side_px: int | None = None) -> np.ndarray:
    """``[H, W, 3]`` float in [0, 1] -> ``[H, W]`` uint8 edge map (1 = edge).

    ``side_px``: side of the whole frame when ``rgb`` is a crop of it (training); default ``H``.
    """
    from skimage.feature import canny
    side = rgb.shape[0] if side_px is None else side_px
    luma = np.asarray(rgb, np.float64) @ np.array([0.299, 0.587, 0.114])
    scale = side / 64.0  # gradients of the same content are 'scale' times weaker per pixel at a larger side
    return canny(luma, sigma=EDGE_SIGMA_PX * scale, low_threshold=EDGE_LOW / scale,
                 high_threshold=EDGE_HIGH / scale).astype(np.uint8)


def encode_structure(edges: np.ndarray, predicted: np.ndarray | None = None) -> bytes:
    """Bytes of an edge map, inter-coded against ``predicted`` (the anchor's map, moved) if given."""
    return encode_labels(edges, predicted, priors=entropy_priors.EDGES)


def decode_structure(data: bytes, predicted: np.ndarray | None = None) -> np.ndarray:
    """Inverse of :func:`encode_structure`; ValueError on malformed bytes or a map that is not binary."""
    edges = decode_labels(data, predicted, priors=entropy_priors.EDGES)
    if edges.max(initial=0) > 1:
        raise ValueError("structure section corrupt (not a binary map)")
    return edges


def tally_structure(data: bytes, tally: Tally, predicted: np.ndarray | None = None) -> None:
    """Count what a section's coder coded into ``tally`` (:mod:`gsvc.codecs.derive_priors`)."""
    tally_labels(data, tally, predicted, priors=entropy_priors.EDGES)

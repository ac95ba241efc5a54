"""The conditioning sections of a diffusion frame, coded at the sender and parsed at the receiver.

Which parts a frame carries is set by the codec spec:

* ``semantic`` (``codec.semantic="auto"`` and the source has true labels): the label map;
* ``lowres`` (``codec.lowres`` = ``"anchors"`` or ``"all"``): the frame at ``1/codec.lowres_factor``
  of its side, lossy (:mod:`gsvc.codecs.lowres`);
* ``structure`` (``codec.structure`` = ``"anchors"`` or ``"all"``): the edge map, lossless
  (:mod:`gsvc.codecs.structure`).

Anchors code each part on its own; deltas code it against the anchor's version moved by
the frame's motion (or unmoved for codecs that send no motion), so a delta depends on its
anchor only. Both ends keep the anchor's parts exactly as the receiver decodes them
(:class:`AnchorConditions`). With ``codec.lowres_reference="previous"`` a delta's low-res
frame is coded against the previous low-res frame of its group instead (:mod:`gsvc.codecs.lowres_chain`),
moved by the motion between the two frames (the ``step`` section): a P-frame chain, which both
ends keep as decoded; with ``"best"`` the sender codes it both ways and keeps the one of lower
rate-distortion cost (:func:`gsvc.codecs.lowres.rd_cost`), as H.264 encoders
choose among reference frames.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lowres import downsample, encode_lowres, predict_lowres, rd_cost
from .lowres_chain import LowresChain, decode_delta_lowres
from .motion import MotionField, warp_labels
from .semantic import decode_labels, encode_labels
from .structure import decode_structure, edge_map, encode_structure

__all__ = ["AnchorConditions", "ConditionCoder", "parse_conditions", "PARTS"]

#: section names of the conditioning parts
PARTS = ("semantic", "lowres", "structure")


def _moved(label_map: np.ndarray | None, motion: MotionField | None) -> np.ndarray | None:
    """A label or edge map moved by ``motion`` (None: unmoved; None map: None)."""
    if label_map is None or motion is None:
        return label_map
    return warp_labels(label_map, motion)


@dataclass(frozen=True)
class AnchorConditions:
    """The anchor's parts as decoded: labels ``[H, W]`` uint8, lowres ``[n, n, 3]`` float32,
    structure ``[H, W]`` uint8; None for a part the anchor did not carry."""

    labels: np.ndarray | None = None
    lowres: np.ndarray | None = None
    structure: np.ndarray | None = None

    @classmethod
    def of(cls, parsed: dict) -> "AnchorConditions":
        """The parts of a decoded anchor, from :func:`parse_conditions`' result."""
        return cls(parsed.get("labels"), parsed.get("lowres"), parsed.get("structure"))

    def predicted_labels(self, motion: MotionField | None) -> np.ndarray | None:
        return _moved(self.labels, motion)

    def predicted_lowres(self, motion: MotionField | None, side_px: int, factor: int) -> np.ndarray | None:
        """The anchor's low-res frame moved by ``motion`` at ``side_px / factor`` px (a delta may be
        sent at another factor than its anchor)."""
        if self.lowres is None:
            return None
        return predict_lowres(self.lowres, motion, side_px, factor)

    def predicted_structure(self, motion: MotionField | None) -> np.ndarray | None:
        return _moved(self.structure, motion)


class ConditionCoder:
    """Sender side: codes a frame's conditioning sections and remembers the anchor's, and the low-res
    frame of the last delta as the receiver decodes it (``delta_lowres`` ``[n, n, 3]``, None when that
    delta sent none)."""

    def __init__(self, spec, side_px: int):
        self.spec, self.side = spec, side_px
        self.anchor_parts = AnchorConditions()
        self.delta_lowres: np.ndarray | None = None
        self.chain: LowresChain | None = None  # a chained codec.lowres_reference: the last low-res frame sent
        self.delta_chained = False  # the last delta's low-res frame was predicted from the chain

    def _labels(self, frame) -> np.ndarray | None:
        return frame.labels if self.spec.semantic == "auto" else None

    def anchor(self, frame, rgb: np.ndarray) -> dict[str, bytes]:
        """Sections of an anchor ``rgb`` ``[H, W, 3]``; it becomes the reference of later deltas."""
        spec, sections = self.spec, {}
        labels = lowres = structure = None
        if self._labels(frame) is not None:
            sections["semantic"] = encode_labels(frame.labels, factor=spec.label_factor)
            labels = decode_labels(sections["semantic"])
        if spec.lowres != "off":
            factor = spec.anchor_lowres_factor or spec.lowres_factor
            sections["lowres"], lowres = encode_lowres(rgb, factor, spec.anchor_lowres_quant or spec.lowres_quant)
        if spec.structure != "off":
            structure = edge_map(rgb)
            sections["structure"] = encode_structure(structure)
        self.anchor_parts = AnchorConditions(labels, lowres, structure)
        self.chain = None if lowres is None else LowresChain(lowres)
        return sections

    def delta(self, frame, rgb: np.ndarray, motion: MotionField | None, parts: tuple[str, ...] | None = None,
              step: MotionField | None = None) -> dict[str, bytes]:
        """Sections of a delta against the anchor moved by ``motion`` (the motion as the receiver decodes
        it; None: unmoved). ``parts`` limits which parts are sent (default: those the spec sends in deltas).
        ``step``: the motion from the previous frame, as decoded, that a chained low-res frame
        (``codec.lowres_reference`` "previous" or "best") is predicted with (None: not chained, the
        frame follows its anchor or the previous one was not sent); :attr:`delta_chained` says whether it was."""
        spec, a, sections = self.spec, self.anchor_parts, {}
        self.delta_lowres, self.delta_chained = None, False
        if parts is None:
            parts = ("semantic",) + tuple(p for p in PARTS[1:] if getattr(spec, p) == "all")
        if "semantic" in parts and self._labels(frame) is not None:
            sections["semantic"] = encode_labels(frame.labels, a.predicted_labels(motion), factor=spec.label_factor)
        if "lowres" in parts and spec.lowres != "off":
            sections["lowres"], self.delta_lowres = self._lowres(rgb, motion, step)
            if spec.lowres_reference != "anchor":
                self.chain = LowresChain(self.delta_lowres)
        if "structure" in parts and spec.structure != "off":
            sections["structure"] = encode_structure(edge_map(rgb), a.predicted_structure(motion))
        return sections

    def _lowres(self, rgb: np.ndarray, motion: MotionField | None, step: MotionField | None
                ) -> tuple[bytes, np.ndarray]:
        """A delta's low-res section and frame as decoded, predicted from the anchor or the chain."""
        spec, factor, quant = self.spec, self.spec.lowres_factor, self.spec.lowres_quant

        def coded(predicted: np.ndarray | None) -> tuple[bytes, np.ndarray]:
            return encode_lowres(rgb, factor, quant, predicted)

        if step is None or self.chain is None:
            return coded(self.anchor_parts.predicted_lowres(motion, self.side, factor))
        chained = coded(self.chain.predicted(step, self.side, factor))
        if spec.lowres_reference == "best":
            anchored = coded(self.anchor_parts.predicted_lowres(motion, self.side, factor))
            target = downsample(rgb, factor)
            if rd_cost(*anchored, target, quant) <= rd_cost(*chained, target, quant):
                return anchored
        self.delta_chained = True
        return chained


def parse_conditions(sections: dict[str, bytes], anchor: AnchorConditions | None, motion: MotionField | None,
                     side_px: int, chain: LowresChain | None = None, step: MotionField | None = None
                     ) -> dict[str, np.ndarray]:
    """Decode the conditioning parts present in ``sections``: ``labels``, ``lowres``, ``structure``.

    ``anchor`` None: the frame is an anchor (every part intra-coded). A delta with a ``step`` (the
    motion from the previous frame, its ``step`` section) predicts its low-res frame from ``chain``
    (the previous one's, :class:`~gsvc.codecs.lowres_chain.LowresChain`) moved by it; without, from
    the anchor's moved by ``motion``. ValueError on malformed or mismatched data (a step without a chain).
    """
    a = anchor or AnchorConditions()
    out = {}
    if "semantic" in sections:
        out["labels"] = decode_labels(sections["semantic"], a.predicted_labels(motion))
        if out["labels"].shape != (side_px, side_px):
            raise ValueError("semantic map has the wrong size")
    if "lowres" in sections:
        out["lowres"] = decode_delta_lowres(sections["lowres"], a.lowres, motion, side_px, chain, step)
    if "structure" in sections:
        out["structure"] = decode_structure(sections["structure"], a.predicted_structure(motion))
        if out["structure"].shape != (side_px, side_px):
            raise ValueError("structure map has the wrong size")
    return out

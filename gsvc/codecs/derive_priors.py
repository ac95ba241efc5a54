"""Derive where the coders' adaptive models start (:mod:`gsvc.codecs.entropy_priors`) from content gsvc
generates.

``python -m gsvc.codecs.derive_priors [OUT]`` renders :data:`CLIPS` clips of gsvc's own families
(procedural streets, dead leaves, fractal textures, in turn; :data:`SHOTS` shots of
:data:`SHOT_FRAMES` frames at 64 px and 15 fps, each with a camera and a speed drawn from the dev
set's lists, seeds from :data:`PRIORS_SEED0`, which no training, validation or dev-set clip uses),
codes each with the ``lowres`` codec at one of :data:`STREAMS` in turn, and again with cvsc sending its
label maps (the procedural clips have labels) and edge maps (:data:`MAP_STREAM`), reads every section
back to the values its coder coded, counts the bits each model saw (:class:`gsvc.codecs.entropy.Tally`)
and writes the module (default: print it). The sections are coded with every model starting at 1/2 while
counting, so the tables do not depend on the tables they replace. No image file and no dev-set clip
is read. It takes about two minutes on one core.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager

import numpy as np

from ..atomic import write_atomic
from ..video import VideoSpec
from ..video.devclips import CAMERAS, SPEEDS_PX
from ..video.photo import PhotoSource
from ..video.procedural import ProceduralSource
from ..video.source import ConcatSource, VideoSource
from ..video.stills import synthetic_image
from . import entropy_priors
from .conditions import AnchorConditions, parse_conditions
from .entropy import FLAT, FLAT_LABELS, LabelPriors, Priors, Tally
from .lowres import tally_lowres
from .motion import decode_motion, tally_motion
from .semantic import tally_labels
from .structure import tally_structure

__all__ = ["derive", "module_text", "prior_clip", "CLIPS", "STREAMS", "PRIORS_SEED0"]

PRIORS_SEED0 = 2_000_000
CLIPS = 24
SHOTS = 5
SHOT_FRAMES = 12
FAMILIES = ("procedural", "dead_leaves", "fractal")
#: the stream settings the clips are coded at, in turn, given in full so that the tables do not move
#: when a codec's defaults are tuned: cvsc's and lowres's stream when the tables were counted (deltas at
#: step 20; the defaults are 18 since), and whole anchors (``benchmarks/bench_devset.py``'s ``whole-anch``
#: rows)
STREAMS = ({"lowres_quant": 20}, {"anchor_lowres_factor": 1, "anchor_lowres_quant": 16, "lowres_quant": 32})
#: the stream whose label and edge maps are counted: cvsc's, with the edge map in every frame
MAP_STREAM = {"name": "cvsc", "structure": "all"}
_TABLES = ("LOWRES_INTRA", "LOWRES_INTER", "MOTION", "LABELS", "EDGES")


def prior_clip(i: int, side_px: int = 64, fps: float = 15.0) -> VideoSource:
    """Clip ``i`` of the derivation: :data:`SHOTS` shots with a hard cut between each two."""
    rng = np.random.default_rng([PRIORS_SEED0, i])
    family = FAMILIES[i % len(FAMILIES)]
    shots = []
    for j in range(SHOTS):
        seed = PRIORS_SEED0 + 100 * i + j
        spec = VideoSpec(seconds=SHOT_FRAMES / fps, fps=fps, resolution=side_px, camera=str(rng.choice(CAMERAS)),
                         motion_px=float(rng.choice(SPEEDS_PX)) * side_px / 64)
        if family == "procedural":
            shots.append(ProceduralSource(spec, seed))
        else:
            picture = synthetic_image(family, seed, int(side_px * 1.3) + 2, 2 * side_px)
            shots.append(PhotoSource([picture], spec, seed, world_height=2.0))
    return ConcatSource(shots)


@contextmanager
def _flat_tables():
    saved = {name: getattr(entropy_priors, name) for name in _TABLES}
    try:
        for name in _TABLES:
            setattr(entropy_priors, name, FLAT_LABELS if name in ("LABELS", "EDGES") else FLAT)
        yield
    finally:
        for name, value in saved.items():
            setattr(entropy_priors, name, value)


def derive(clips: int = CLIPS) -> dict[str, Priors | LabelPriors]:
    """The tables, by name (``LOWRES_INTRA``, ``LOWRES_INTER``, ``MOTION``, ``LABELS``, ``EDGES``), counted
    over ``clips`` clips."""
    from .registry import make_codec
    from .spec import CodecSpec

    intra, inter, motion = Tally(), Tally(), Tally()
    with _flat_tables():
        for i in range(clips):
            codec = make_codec(CodecSpec(name="lowres", **STREAMS[i % len(STREAMS)]),
                               VideoSpec(resolution=64, fps=15, labels="none"))
            enc = codec.encoder(0)
            for frame in prior_clip(i).clip().frames():
                for ef in enc.encode(frame, []):
                    tally_lowres(ef.sections["lowres"], intra, inter)
                    for name in ("motion", "step"):
                        if name in ef.sections:
                            tally_motion(ef.sections[name], motion)
        labels, edges = _tally_maps(clips)
    return {"LOWRES_INTRA": intra.priors(flags=True), "LOWRES_INTER": inter.priors(flags=True),
            "MOTION": motion.priors(flags=False), "LABELS": labels.label_priors(), "EDGES": edges.label_priors()}


def _tally_maps(clips: int) -> tuple[Tally, Tally]:
    """The label and edge maps of :data:`MAP_STREAM` over ``clips`` clips, each counted against the
    prediction the receiver makes of it (the anchor's map moved by the delta's decoded motion)."""
    from .registry import make_codec
    from .spec import CodecSpec

    labels, edges = Tally(), Tally()
    for i in range(clips):
        enc = make_codec(CodecSpec(**MAP_STREAM), VideoSpec(resolution=64, fps=15)).encoder(0)
        anchor = AnchorConditions()
        for frame in prior_clip(i).clip().frames():
            for ef in enc.encode(frame, []):
                delta = ef.kind == "delta"
                moved = decode_motion(ef.sections["motion"]) if delta and "motion" in ef.sections else None
                if "semantic" in ef.sections:
                    tally_labels(ef.sections["semantic"], labels, anchor.predicted_labels(moved) if delta else None)
                if "structure" in ef.sections:
                    tally_structure(ef.sections["structure"], edges,
                                    anchor.predicted_structure(moved) if delta else None)
                if not delta:
                    anchor = AnchorConditions.of(parse_conditions(ef.sections, None, None, 64))
    return labels, edges


def _rows(values: tuple[int, ...], indent: str) -> str:
    out, line = [], indent
    for v in values:
        piece = f"{v}, "
        if len(line) + len(piece) > 110:
            out.append(line.rstrip())
            line = indent
        line += piece
    out.append(line.rstrip())
    return "\n".join(out)


def module_text(tables: dict[str, Priors | LabelPriors], clips: int = CLIPS) -> str:
    """The source of :mod:`gsvc.codecs.entropy_priors` holding ``tables``."""
    parts = [f'''"""Where the adaptive models of gsvc's arithmetic-coded sections start (11-bit P(bit = 0); see
:class:`gsvc.codecs.entropy.Priors` and :class:`~gsvc.codecs.entropy.LabelPriors`): intra and inter low-res
sections (:mod:`gsvc.codecs.lowres`), motion sections (:mod:`gsvc.codecs.motion`), label maps
(:mod:`gsvc.codecs.semantic`) and edge maps (:mod:`gsvc.codecs.structure`).

Made by ``python -m gsvc.codecs.derive_priors`` ({clips} clips gsvc generates; see that module). Do not edit
by hand: a change of these numbers changes every coded section (and :data:`gsvc.codecs.cache.keys.FORMAT`
must change with it).
"""
from .entropy import LabelPriors, Priors
''']
    for name in _TABLES:
        t = tables[name]
        if isinstance(t, LabelPriors):
            fields = "".join(f"\n    {f}=(\n{_rows(getattr(t, f), ' ' * 8)}\n    )," for f in ("hit", "alt", "tree"))
            parts.append(f"\n{name} = LabelPriors({fields}\n)\n")
            continue
        flags = f"\n    flags=(\n{_rows(t.flags, ' ' * 8)}\n    )," if t.flags else ""
        values = "\n".join(f"        (\n{_rows(v, ' ' * 12)}\n        )," for v in t.values)
        parts.append(f"\n{name} = Priors({flags}\n    values=(\n{values}\n    ),\n)\n")
    return "".join(parts)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    text = module_text(derive())
    if argv:
        write_atomic(argv[0], lambda tmp: open(tmp, "w").write(text))
    else:
        print(text, end="")


if __name__ == "__main__":
    main()

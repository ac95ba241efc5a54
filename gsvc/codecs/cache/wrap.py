"""The one seam where the cache meets the codecs: an encoder or decoder wrapped in a cached one.

A decode is a function of the decoder's state, the encoded frame and the plan (with the
codec's spec, model and environment fixed); an encode of the encoder's state, the frame
and the feedback that reached the sender. So the key of a call is a hash of

* the coder: :func:`~gsvc.codecs.cache.keys.codec_digest` (codec spec, video spec, coder
  class, model files, library versions and thread count);
* the part of its state just before the call that the call reads (:mod:`.reads`; each
  attribute by the digest of its whole value, :func:`~gsvc.codecs.cache.state.snapshot`):
  references, anchors, cached samples, the controller's memory, the rate ladder's rung; the
  stream seed is part of it, and with the frame index it fixes the noise the call draws
  (:func:`gsvc.codecs.diffusion.frame_generator`: one generator per stream and frame, so the
  noise stream's position is the frame index and nothing is left to advance);
* its input: for a decode the encoded frame (kind, references, every section's bytes, meta),
  whether all its packets arrived, and the plan (path, steps, evaluations, strength); for an
  encode the frame (pixels, labels, index, time) and the feedback list.

The value is the call's output (a :class:`~gsvc.codecs.base.Decoded` with its image and
plan facts, or the encoded frames), the attributes the call wrote or changed, and the
digests of those and of the attributes it read as they were after it. A hit rebuilds all of
it, sets the written attributes and checks those digests; if anything fails to rebuild or
check, the state is put back as it was and the call runs for real (its entry is written
again). Which attributes a call reads is known only once it ran, so the look-up has two
steps: the inputs name the read sets earlier calls with these inputs had, and each read set
with the digests of those attributes now names an entry.
A rate-control target acts through the state it sets (``set_target_kbps`` picks the ladder's
rung), so it is keyed there.
"""
from __future__ import annotations

from dataclasses import dataclass

from .keys import codec_digest, key_of
from .reads import EVERYTHING, tracked
from .state import Uncacheable, Walker, build, fields_of, fingerprint, snapshot
from .store import CodecCache, Entry

__all__ = ["CacheCounts", "CachedCodec", "cache_codecs"]


@dataclass
class CacheCounts:
    """Calls of one run: how many, and how many the cache served."""

    decodes: int = 0
    decode_hits: int = 0
    encodes: int = 0
    encode_hits: int = 0
    #: coders whose state cannot be cached (they ran uncached throughout)
    uncacheable: int = 0
    #: entries that did not rebuild or check out (recomputed)
    rejected: int = 0

    def as_dict(self) -> dict:
        return dict(vars(self))


class CachedCodec:
    """``codec`` with every encoder and decoder it makes going through ``cache``; anything else is
    the codec's own."""

    def __init__(self, codec, cache: CodecCache, counts: CacheCounts):
        self._codec, self._cache, self.counts = codec, cache, counts
        self._digests: dict[type, str] = {}  # coder class -> codec_digest (the same for every stream)

    def __getattr__(self, name):
        if name == "_codec":
            raise AttributeError(name)
        return getattr(self._codec, name)

    def encoder(self, stream_seed: int):
        return _CachedEncoder(self._codec.encoder(stream_seed), self)

    def decoder(self, stream_seed: int):
        return _CachedDecoder(self._codec.decoder(stream_seed), self)

    def digest_of(self, coder) -> str:
        d = self._digests.get(type(coder))
        if d is None:
            d = self._digests[type(coder)] = codec_digest(self._codec, coder)
        return d


def cache_codecs(codecs: dict, cache: CodecCache) -> tuple[dict, CacheCounts]:
    """The codecs of a run wrapped in ``cache``, and the counts their calls will add to. Codecs that make
    no images (traffic models such as ``synthetic``, whose random sizes are their state) stay as they are."""
    counts = CacheCounts()
    return {name: CachedCodec(c, cache, counts) if c.makes_images else c for name, c in codecs.items()}, counts


class _Cached:
    """What the cached encoder and decoder share: key, look-up, rebuild, store."""

    what = ""

    def __init__(self, inner, codec: CachedCodec):
        self._inner, self._cache, self._counts = inner, codec._cache, codec.counts
        self._coder = None
        try:
            snapshot(inner)
            self._coder = codec.digest_of(inner)
        except Uncacheable:
            self._counts.uncacheable += 1

    def __getattr__(self, name):
        if name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)

    def _call(self, compute, inputs: dict) -> tuple[object, bool]:
        """``(compute(), False)`` or the stored output and True; ``inputs``: the call's arguments.

        Two look-ups, as in a build system with dynamic dependencies: the call's inputs (without the
        state) name an index of the read sets that calls with these inputs have had; each read set
        with the digests of those attributes now names an entry."""
        if self._coder is None:
            return compute(), False
        inner = self._inner
        try:
            pre = snapshot(inner)
            call = key_of({"what": self.what, "coder": self._coder,
                           **{k: fingerprint(v, k) for k, v in inputs.items()}})
        except Uncacheable:  # the state took a form the cache cannot hold: this coder runs uncached
            self._coder = None
            self._counts.uncacheable += 1
            return compute(), False
        fields = set(fields_of(inner))
        index = self._cache.get(call)
        for reads in index.tree["reads"] if index is not None else ():
            entry = self._cache.get(_state_key(call, reads, pre, fields))
            if entry is not None:
                out = self._replay(entry)
                if out is not _FAILED:
                    return out, True
                self._counts.rejected += 1
        out, access = tracked(inner, compute)
        self._store(call, index, pre, fields, access, out)
        return out, False

    def _replay(self, entry: Entry):
        """Rebuild the output and the state a stored call wrote; ``_FAILED`` leaves the state as it was."""
        inner, tree = self._inner, entry.tree
        try:
            values = {n: build(t, entry.arrays, getattr(inner, n, None)) for n, t in tree["state"].items()}
            out = build(tree["out"], entry.arrays)
        except (ValueError, KeyError, TypeError, AttributeError, ImportError, IndexError):
            return _FAILED
        before = {n: getattr(inner, n) for n in list(values) + list(tree["removed"]) if hasattr(inner, n)}
        for n, v in values.items():
            object.__setattr__(inner, n, v)
        for n in tree["removed"]:
            if hasattr(inner, n):
                object.__delattr__(inner, n)
        try:
            now = snapshot(inner).digests
            same = all(now.get(n) == d for n, d in tree["post"].items())
        except Uncacheable:
            same = False
        if same:
            return out
        for n in values:
            if n not in before and hasattr(inner, n):
                object.__delattr__(inner, n)
        for n, v in before.items():
            object.__setattr__(inner, n, v)
        return _FAILED

    def _store(self, call: str, index: Entry | None, pre, fields: set, access, out) -> None:
        """Keep a computed call: its output, the attributes it wrote or changed, and the digests of
        those and of the attributes it read as they are after it (checked on a hit)."""
        inner = self._inner
        try:
            post = snapshot(inner)
            w = Walker(keep=True)
            names = set(pre.digests) | set(post.digests)
            changed = {n for n in names if pre.digests.get(n) != post.digests.get(n)}
            kept = sorted((changed | access.writes) & set(post.digests))
            reads = [EVERYTHING] if access.everything else sorted(access.reads)
            checked = names if access.everything else (set(kept) | set(access.reads)) & names
            tree = {"out": w.tree(out, "output"), "state": {n: w.tree(getattr(inner, n), n) for n in kept},
                    "removed": sorted(n for n in pre.digests if n not in post.digests),
                    "post": {n: post.digests.get(n) for n in sorted(checked)}}
        except Uncacheable:
            return
        self._cache.put(_state_key(call, reads, pre, fields), Entry(tree, w.arrays))
        known = list(index.tree["reads"]) if index is not None else []
        if reads not in known:
            self._cache.put(call, Entry({"reads": [reads, *known][:_READ_SETS]}, []))


#: read sets remembered per call (most recent first); more than a few means the calls differ in kind
_READ_SETS = 8


def _state_key(call: str, reads: list, pre, fields: set) -> str:
    """The entry key of a call: its inputs' key and the digests of the attributes in ``reads`` (every
    attribute for :data:`EVERYTHING`); an attribute the object lacks, or holds as wiring, says so."""
    if reads == [EVERYTHING]:
        return key_of({"call": call, "state": pre.digest})
    return key_of({"call": call, "reads": {n: pre.digests.get(n, "wiring" if n in fields else "absent")
                                           for n in reads}})


_FAILED = object()


class _CachedDecoder(_Cached):
    """A decoder whose ``decode`` goes through the cache (``plan``, ``shed`` and the rest are its own)."""

    what = "decode"

    def __init__(self, inner, codec: CachedCodec):
        super().__init__(inner, codec)
        self._planned = (-1, None)  # (frame, complete) of the last plan made

    def plan(self, ef, complete: bool, budget_ms):
        self._planned = (ef.frame, bool(complete))
        return self._inner.plan(ef, complete, budget_ms)

    def decode(self, ef, plan):
        self._counts.decodes += 1
        complete = self._planned[1] if self._planned[0] == ef.frame else None
        out, hit = self._call(lambda: self._inner.decode(ef, plan), {"frame": ef, "complete": complete, "plan": plan})
        self._counts.decode_hits += hit
        return out


class _CachedEncoder(_Cached):
    """An encoder whose ``encode`` goes through the cache (``flush`` and ``set_target_kbps`` are its own)."""

    what = "encode"

    def encode(self, frame, feedback):
        self._counts.encodes += 1
        feedback = list(feedback)
        out, hit = self._call(lambda: self._inner.encode(frame, feedback), {"frame": frame, "feedback": feedback})
        self._counts.encode_hits += hit
        return out

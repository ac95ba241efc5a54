"""Context-adaptive binary arithmetic coding for the semantic sections.

A range coder of the LZMA kind (32-bit range, 11-bit adaptive probabilities,
carry propagation through a cached byte; Pavlov's LZMA SDK, ``LzmaEnc.c`` /
``LzmaDec.c``), with the two context models gsvc needs:

* :func:`encode_label_map` / :func:`decode_label_map`: a ``[H, W]`` class-id map in
  raster order. Each pixel first asks "same as the prediction?" where the prediction
  is the motion-compensated reference map (inter) or the left neighbour (intra), in
  a context made of which neighbours agree; a miss then asks "same as the other
  neighbour?" and finally codes the class with a 4-bit binary tree. On the 64 px
  procedural scenes (measured against zlib level 9 of the map, or of the XOR with the
  prediction): intra 182 vs 228 bytes, inter 85 vs 138 one frame apart and 139 vs 207
  seven frames apart. Their periodic details (windows, lane marks) are what remains.
* :func:`encode_residuals` / :func:`decode_residuals`: small signed integers (a
  low-res frame's transform coefficients, motion vectors) with an adaptive zero flag, sign and an
  exponential-Golomb-like magnitude; :func:`encode_blocks` / :func:`decode_blocks` code them in
  blocks, each behind a flag that says whether it has any non-zero value.

Models start at 1/2, or at the probabilities a :class:`Priors` gives (counted on many sections of
the same kind, :class:`Tally`). Each section ends with the shortest flush (:meth:`RangeEncoder.finish`);
the byte counts above were measured with LZMA's, three bytes longer per section.

Arithmetic-coded bytes carry no redundancy, so a flipped or missing byte decodes to
a wrong map silently; callers add a checksum (see :mod:`gsvc.codecs.semantic`).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

__all__ = ["RangeEncoder", "RangeDecoder", "encode_label_map", "decode_label_map", "encode_residuals",
           "decode_residuals", "encode_blocks", "decode_blocks", "checksum", "Priors", "FLAT", "LabelPriors",
           "FLAT_LABELS", "Tally"]

_TOP = 1 << 24
_BITS = 11
_ONE = 1 << _BITS
_HALF = _ONE >> 1
_MOVE = 5
_MASK32 = 0xFFFFFFFF


class RangeEncoder:
    """Binary arithmetic encoder; ``probs`` are lists of 11-bit P(bit = 0) updated in place."""

    def __init__(self) -> None:
        self.low, self.range, self.cache, self.cache_size = 0, _MASK32, 0, 1
        self.out = bytearray()

    def bit(self, probs: list[int], i: int, bit: int) -> None:
        p = probs[i]
        bound = (self.range >> _BITS) * p
        if bit:
            self.low += bound
            self.range -= bound
            probs[i] = p - (p >> _MOVE)
        else:
            self.range = bound
            probs[i] = p + ((_ONE - p) >> _MOVE)
        while self.range < _TOP:
            self.range = (self.range << 8) & _MASK32
            self._shift_low()

    def _shift_low(self) -> None:
        if self.low < 0xFF000000 or self.low > _MASK32:
            carry = self.low >> 32
            temp = self.cache
            while True:
                self.out.append((temp + carry) & 0xFF)
                temp = 0xFF
                self.cache_size -= 1
                if self.cache_size == 0:
                    break
            self.cache = (self.low >> 24) & 0xFF
        self.cache_size += 1
        self.low = (self.low & 0x00FFFFFF) << 8

    def name_models(self, flags: list[int], models: list) -> None:
        """Told which model lists a coding pass uses (for :class:`Tally`; the coder itself ignores it)."""

    def name_label_models(self, hit: list[int], alt: list[int], tree: list[int]) -> None:
        """Told which model lists a label-map pass uses (for :class:`Tally`; ignored here)."""

    def finish(self) -> bytes:
        """The coded bytes, ended by the shortest flush: any value in ``[low, low + range)`` decodes the
        same bits, and the decoder reads zeros past the end, so the value with the most trailing zero
        bytes is chosen and those bytes are not sent. ``range`` is at least ``2**24`` after each
        bit, so one byte of ``low`` always suffices (LZMA's flush sends four): 3 bytes fewer in every
        section, about 6 % of a cvsc delta (a low-res and two motion sections)."""
        for keep in range(5):
            unit = 1 << (32 - 8 * keep)
            value = -(-self.low // unit) * unit
            if value < self.low + self.range:
                break
        self.low = value
        for _ in range(keep + 1):
            self._shift_low()
        # the first byte is always the initial zero cache: drop it (the decoder assumes it)
        return bytes(self.out[1:])


class RangeDecoder:
    """Inverse of :class:`RangeEncoder`; reading past the end yields zero bytes."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0
        self.range, self.code = _MASK32, 0
        for _ in range(4):
            self.code = (self.code << 8) | self._byte()

    def _byte(self) -> int:
        b = self.data[self.pos] if self.pos < len(self.data) else 0
        self.pos += 1
        return b

    def bit(self, probs: list[int], i: int) -> int:
        p = probs[i]
        bound = (self.range >> _BITS) * p
        if self.code < bound:
            self.range = bound
            probs[i] = p + ((_ONE - p) >> _MOVE)
            b = 0
        else:
            self.code -= bound
            self.range -= bound
            probs[i] = p - (p >> _MOVE)
            b = 1
        while self.range < _TOP:
            self.range = (self.range << 8) & _MASK32
            self.code = ((self.code << 8) | self._byte()) & _MASK32
        return b

    @property
    def overrun(self) -> bool:
        """True if the decoder needed more bytes than it was given (truncated data). A complete stream
        ends with at most one byte of the flush value (:meth:`RangeEncoder.finish`), and the decoder
        keeps four bytes of it in ``code``: it reads up to four zero bytes past the end of complete data;
        a shorter cut may pass here, which the sections' checksums catch."""
        return self.pos > len(self.data) + 4


def checksum(values: np.ndarray) -> int:
    """16-bit checksum (low half of CRC-32) of an array's bytes, stored beside arithmetic-coded data."""
    return zlib.crc32(np.ascontiguousarray(values).tobytes()) & 0xFFFF


@dataclass(frozen=True)
class LabelPriors:
    """Initial probabilities (11-bit ``P(bit = 0)``) of the label-map coder's models: ``hit``, 16 contexts
    of "the pixel is the first prediction"; ``alt``, 8 of "it is the second"; ``tree``, the 16 nodes of
    the 4-bit class tree (node 0 unused). Empty: every model starts at 1/2. :class:`Tally` counts them
    from maps; :mod:`gsvc.codecs.entropy_priors` holds the ones gsvc's label and edge maps use."""

    hit: tuple[int, ...] = ()
    alt: tuple[int, ...] = ()
    tree: tuple[int, ...] = ()

    def __post_init__(self):
        for name, n in _LABEL_MODELS:
            probs = getattr(self, name)
            if probs and len(probs) != n:
                raise ValueError(f"LabelPriors.{name} has {len(probs)} probabilities; give {n} or none")
            if any(not 0 < q < _ONE for q in probs):
                raise ValueError(f"LabelPriors.{name} probabilities must lie in [1, {_ONE - 1}]")


_LABEL_MODELS = (("hit", 16), ("alt", 8), ("tree", 16))
FLAT_LABELS = LabelPriors()


def _label_models(priors: LabelPriors) -> tuple[list[int], list[int], list[int]]:
    return tuple(list(getattr(priors, name)) or [_HALF] * n for name, n in _LABEL_MODELS)


def _neighbours(out: list[list[int]], pred: list[list[int]] | None, y: int, x: int, w: int):
    """First and second prediction for pixel (y, x) and the context indices."""
    left = out[y][x - 1] if x else (out[y - 1][x] if y else 0)
    up = out[y - 1][x] if y else left
    ul = out[y - 1][x - 1] if y and x else up
    ur = out[y - 1][x + 1] if y and x + 1 < w else up
    if pred is None:
        first, second = left, (up if up != left else ur)
        ctx = (left == up) | ((up == ur) << 1) | ((left == ul) << 2)
    else:
        p = pred[y][x]
        first, second = p, (left if left != p else up)
        ctx = 8 | (p == left) | ((p == up) << 1) | ((left == up) << 2)
    return first, second, ctx, ctx & 7


def encode_label_map(labels: np.ndarray, predicted: np.ndarray | None = None,
                     priors: LabelPriors = FLAT_LABELS) -> bytes:
    """Arithmetic-code a ``[H, W]`` uint8 map with class ids < 16 (inter-coded against ``predicted``), its
    models starting from ``priors``."""
    enc = RangeEncoder()
    _code_label_map(enc, labels, predicted, priors)
    return enc.finish()


def _code_label_map(enc: RangeEncoder, labels, predicted, priors: LabelPriors) -> None:
    lab = np.asarray(labels, np.uint8)
    if lab.size and int(lab.max()) > 15:
        raise ValueError("label maps must have class ids < 16")
    h, w = lab.shape
    rows = lab.tolist()
    pred = None if predicted is None else np.asarray(predicted, np.uint8).tolist()
    hit, alt, tree = _label_models(priors)
    enc.name_label_models(hit, alt, tree)
    for y in range(h):
        row = rows[y]
        for x in range(w):
            v = row[x]
            first, second, ctx, actx = _neighbours(rows, pred, y, x, w)
            if v == first:
                enc.bit(hit, ctx, 0)
                continue
            enc.bit(hit, ctx, 1)
            if second != first:
                if v == second:
                    enc.bit(alt, actx, 0)
                    continue
                enc.bit(alt, actx, 1)
            node = 1
            for k in (3, 2, 1, 0):
                b = (v >> k) & 1
                enc.bit(tree, node, b)
                node = (node << 1) | b


def decode_label_map(data: bytes, side: tuple[int, int], predicted: np.ndarray | None = None,
                     priors: LabelPriors = FLAT_LABELS) -> np.ndarray:
    """Inverse of :func:`encode_label_map`; ``side`` is ``(H, W)``, ``priors`` as the encoder's."""
    h, w = side
    rows = [[0] * w for _ in range(h)]
    pred = None if predicted is None else np.asarray(predicted, np.uint8).tolist()
    hit, alt, tree = _label_models(priors)
    dec = RangeDecoder(data)
    for y in range(h):
        row = rows[y]
        for x in range(w):
            first, second, ctx, actx = _neighbours(rows, pred, y, x, w)
            if not dec.bit(hit, ctx):
                row[x] = first
                continue
            if second != first and not dec.bit(alt, actx):
                row[x] = second
                continue
            node = 1
            for _ in range(4):
                node = (node << 1) | dec.bit(tree, node)
            row[x] = node - 16
    if dec.overrun:
        raise ValueError("label map data is truncated")
    return np.array(rows, np.uint8)


#: models per value context: zero flag (2 states: was the value before it zero), sign, magnitude (16 for the
#: unary length of the exponential-Golomb code, 16 for its bits), and :func:`encode_blocks`' last flag
#: (:data:`_LAST_MODELS`, by the value's position in its block)
_LAST_MODELS = 5
_VALUE_MODELS = 35 + _LAST_MODELS
#: where each of a value context's model lists (zero, sign, magnitude, last) lies in its :data:`_VALUE_MODELS`
_MODEL_SPANS = ((0, 2), (2, 3), (3, 35), (35, _VALUE_MODELS))
_FLAG_CONTEXTS = 3 * 16


@dataclass(frozen=True)
class Priors:
    """Initial probabilities of a coder's adaptive models, 11-bit ``P(bit = 0)`` in [1, 2047].

    Every model starting at 1/2 costs each section the bits that teach it what every section looks
    like; a low-res delta is about 100 bytes, and on the dev set's cvsc deltas that lesson was 8.7 % of
    them (117.5 B per delta against 107.3 B from :mod:`gsvc.codecs.entropy_priors`; anchors 3.1 %,
    motion sections 11 %). CABAC starts each slice from initialisation tables for the same reason
    (ITU-T H.264, 9.3.1.1). ``flags``: the :data:`_FLAG_CONTEXTS` coded-block-flag models of
    :func:`encode_blocks` (empty: 1/2); ``values``: per value context, its :data:`_VALUE_MODELS`
    models (zero flag in its two states, sign, the 32 magnitude models, then the last flag's
    :data:`_LAST_MODELS`). A coder using more
    contexts than ``values`` gives starts the others at 1/2. :class:`Tally` counts them from sections;
    :mod:`gsvc.codecs.entropy_priors` holds the ones gsvc's sections use.
    """

    flags: tuple[int, ...] = ()
    values: tuple[tuple[int, ...], ...] = ()

    def __post_init__(self):
        if self.flags and len(self.flags) != _FLAG_CONTEXTS:
            raise ValueError(f"Priors.flags has {len(self.flags)} probabilities; give {_FLAG_CONTEXTS} or none")
        if any(len(v) != _VALUE_MODELS for v in self.values) or len(self.values) > 64:
            raise ValueError(f"Priors.values must give at most 64 contexts of {_VALUE_MODELS} probabilities each")
        if any(not 0 < p < _ONE for p in (*self.flags, *(q for v in self.values for q in v))):
            raise ValueError(f"Priors probabilities must lie in [1, {_ONE - 1}] (11-bit P(bit = 0))")


FLAT = Priors()


def _residual_models(n_contexts: int, priors: Priors = FLAT) -> list[tuple[list[int], ...]]:
    """Per context: its (zero, sign, magnitude, last) model lists."""
    given = [tuple(list(v[a:b]) for a, b in _MODEL_SPANS) for v in priors.values[:n_contexts]]
    return given + [tuple([_HALF] * (b - a) for a, b in _MODEL_SPANS) for _ in range(n_contexts - len(given))]


def _flag_models(priors: Priors) -> list[int]:
    return list(priors.flags) if priors.flags else [_HALF] * _FLAG_CONTEXTS


def _context_list(contexts, count: int) -> list[int]:
    if contexts is None:
        return [0] * count
    ctx = np.asarray(contexts, np.int64).ravel()
    if ctx.size != count or (count and (ctx.min() < 0 or ctx.max() > 63)):
        raise ValueError(f"contexts must give one id in [0, 63] per value ({count} values)")
    return ctx.tolist()


def _put_value(enc: RangeEncoder, model, state: int, v: int) -> None:
    """One signed integer with ``model`` (a context's): a zero flag in state ``state`` (0 or 1: was the
    value before it zero), the sign, and an exponential-Golomb magnitude (the number of bits after the
    leading one in unary, then those bits)."""
    zero, sign, mag = model[:3]
    enc.bit(zero, state, 0 if v == 0 else 1)
    if v == 0:
        return
    enc.bit(sign, 0, 1 if v < 0 else 0)
    a = abs(v)
    nbits = a.bit_length() - 1
    for k in range(nbits):
        enc.bit(mag, min(k, 15), 1)
    enc.bit(mag, min(nbits, 15), 0)
    for k in range(nbits - 1, -1, -1):
        enc.bit(mag, 16 + min(k, 15), (a >> k) & 1)


def _get_value(dec: RangeDecoder, model, state: int) -> int:
    """Inverse of :func:`_put_value`."""
    zero, sign, mag = model[:3]
    if not dec.bit(zero, state):
        return 0
    neg = dec.bit(sign, 0)
    nbits = 0
    while dec.bit(mag, min(nbits, 15)):
        nbits += 1
        if nbits > 15:
            raise ValueError("residual data is corrupt")
    val = 1  # |v|, whose leading one bit is implicit
    for k in range(nbits - 1, -1, -1):
        val = (val << 1) | dec.bit(mag, 16 + min(k, 15))
    return -val if neg else val


def encode_residuals(values: np.ndarray, contexts: np.ndarray | None = None, priors: Priors = FLAT) -> bytes:
    """Arithmetic-code small signed integers (|v| < 2**15).

    ``contexts`` (optional, same length as ``values``, ids in [0, 63]) gives each value a
    context whose probability models are kept apart, e.g. DC and AC transform
    coefficients; None codes everything in one context. ``priors``: where the models start.
    """
    enc = RangeEncoder()
    _code_residuals(enc, values, contexts, priors)
    return enc.finish()


def _code_residuals(enc: RangeEncoder, values, contexts, priors: Priors) -> None:
    vals = np.asarray(values, np.int64).ravel().tolist()
    ctx = _context_list(contexts, len(vals))
    models = _residual_models(max(ctx, default=0) + 1, priors)
    enc.name_models([], models)
    prev_zero = [1] * len(models)
    for v, c in zip(vals, ctx):  # a value's zero flag is in the state of its context's last value
        _put_value(enc, models[c], prev_zero[c], v)
        prev_zero[c] = int(v == 0)


def decode_residuals(data: bytes, count: int, contexts: np.ndarray | None = None,
                     priors: Priors = FLAT) -> np.ndarray:
    """Inverse of :func:`encode_residuals` for ``count`` values (int64), with the same ``contexts`` and
    ``priors``."""
    ctx = _context_list(contexts, count)
    models = _residual_models(max(ctx, default=0) + 1, priors)
    prev_zero = [1] * len(models)
    dec = RangeDecoder(data)
    out = []
    for c in ctx:
        out.append(_get_value(dec, models[c], prev_zero[c]))
        prev_zero[c] = int(out[-1] == 0)
    if dec.overrun:
        raise ValueError("residual data is truncated")
    return np.array(out, np.int64)


def _block_contexts(blocks: int, size: int, contexts: np.ndarray, block_class: np.ndarray,
                    left: np.ndarray, up: np.ndarray) -> tuple[list[list[int]], list[int], list[int], list[int]]:
    ctx = np.asarray(contexts, np.int64)
    ctx = np.broadcast_to(ctx, (blocks, size)) if ctx.ndim == 1 else ctx
    cls = np.asarray(block_class, np.int64).ravel()
    if ctx.shape != (blocks, size) or cls.shape != (blocks,) or np.asarray(left).shape != (blocks,) \
            or np.asarray(up).shape != (blocks,):
        raise ValueError(f"contexts, block_class, left and up must describe {blocks} blocks of {size} values")
    if blocks and (ctx.min() < 0 or ctx.max() > 63 or cls.min() < 0 or cls.max() > 15):
        raise ValueError("value contexts must lie in [0, 63] and block classes in [0, 15]")
    return ctx.tolist(), cls.tolist(), np.asarray(left).tolist(), np.asarray(up).tolist()


def _flag_context(i: int, cls: list[int], left: list[int], up: list[int], coded: list) -> int:
    """Context of block ``i``'s coded-block flag: its class, and how many of its left and upper
    neighbours (-1: none) had one."""
    return 3 * cls[i] + (left[i] >= 0 and coded[left[i]]) + (up[i] >= 0 and coded[up[i]])


def encode_blocks(values: np.ndarray, contexts: np.ndarray, block_class: np.ndarray,
                  left: np.ndarray, up: np.ndarray, priors: Priors = FLAT, last_flags: bool = False) -> bytes:
    """Arithmetic-code ``[N, K]`` small signed integers in blocks of ``K``, most of them all zero (a
    low-res delta's transform blocks): each block first says whether it has any non-zero value (a
    coded-block flag, as H.264's CABAC sends, in a context of its class and of how many of its
    ``left`` and ``up`` neighbours, block indices or -1, had one), then only non-zero blocks code their
    values as :func:`encode_residuals` does, in ``contexts`` (``[K]`` or ``[N, K]`` ids in [0, 63]),
    except that a zero flag's state is whether the value before it *in the block* was zero.
    ``last_flags``: after each non-zero value a last flag says whether it was the block's last (CABAC's
    ``last_significant_coeff_flag``, ITU-T H.264 9.3.2.3; in the value's context, by its position up to
    :data:`_LAST_MODELS` - 1), so the zeros that end a zig-zag scan cost nothing. It pays in large
    blocks, whose scans end in long runs of zeros (the 8x8 blocks of :mod:`gsvc.codecs.lowres`: the dev
    set's whole 64 px anchors at step 16 took 963 B against 990 B without, each with its own priors); in 4x4
    blocks it saved 0.4 % at the dev set's default steps and cost 1-6 % at fine ones (steps 3-6), where
    a dense block pays a flag per value to skip a short run.
    ``block_class``: ``[N]`` ids in [0, 15] (e.g. luma, chroma). On the low-res frames of cvsc's deltas
    over the dev set (8 clips x 60 frames at 64 px) this took 132.6 B per frame against 143.1 B for
    :func:`encode_residuals` of the same values in the same contexts. ``priors``: where the models start.
    """
    enc = RangeEncoder()
    _code_blocks(enc, values, contexts, block_class, left, up, priors, last_flags)
    return enc.finish()


def _code_blocks(enc: RangeEncoder, values, contexts, block_class, left, up, priors: Priors,
                 last_flags: bool = False) -> None:
    vals = np.asarray(values, np.int64)
    n, k = vals.shape
    ctx, cls, left, up = _block_contexts(n, k, contexts, block_class, left, up)
    rows = vals.tolist()
    coded = [any(r) for r in rows]
    models = _residual_models(max((max(c) for c in ctx), default=0) + 1, priors)
    flags = _flag_models(priors)
    enc.name_models(flags, models)
    for i in range(n):
        enc.bit(flags, _flag_context(i, cls, left, up, coded), int(coded[i]))
        if coded[i]:
            row, state = rows[i], 1
            last = max(j for j, v in enumerate(row) if v) if last_flags else k - 1
            for j in range(last + 1):
                model = models[ctx[i][j]]
                _put_value(enc, model, state, row[j])
                state = int(row[j] == 0)
                if last_flags and row[j] and j < k - 1:
                    enc.bit(model[3], min(j, _LAST_MODELS - 1), int(j == last))


def decode_blocks(data: bytes, contexts: np.ndarray, block_class: np.ndarray, left: np.ndarray,
                  up: np.ndarray, size: int, priors: Priors = FLAT, last_flags: bool = False) -> np.ndarray:
    """Inverse of :func:`encode_blocks`: ``[N, size]`` int64, ``N = len(block_class)``, with the same
    ``priors`` and ``last_flags``."""
    n = len(block_class)
    ctx, cls, left, up = _block_contexts(n, size, contexts, block_class, left, up)
    models = _residual_models(max((max(c) for c in ctx), default=0) + 1, priors)
    flags = _flag_models(priors)
    dec = RangeDecoder(data)
    coded, out = [], np.zeros((n, size), np.int64)
    for i in range(n):
        coded.append(dec.bit(flags, _flag_context(i, cls, left, up, coded)))
        if coded[i]:
            state = 1
            for j, c in enumerate(ctx[i]):
                out[i, j] = v = _get_value(dec, models[c], state)
                state = int(v == 0)
                if last_flags and v and j < size - 1 and dec.bit(models[c][3], min(j, _LAST_MODELS - 1)):
                    break
    if dec.overrun:
        raise ValueError("block data is truncated")
    return out


class _CountingEncoder(RangeEncoder):
    """Codes as :class:`RangeEncoder` does, and adds each coded bit to a :class:`Tally`."""

    def __init__(self, tally: "Tally") -> None:
        super().__init__()
        self.tally, self.where = tally, {}

    def name_models(self, flags: list[int], models: list) -> None:
        self.where = {id(flags): self.tally.flags}
        for c, lists in enumerate(models):
            for probs, (start, _) in zip(lists, _MODEL_SPANS):
                self.where[id(probs)] = self.tally.values[c, start:]

    def name_label_models(self, hit: list[int], alt: list[int], tree: list[int]) -> None:
        self.where = {id(probs): counts for probs, counts in zip((hit, alt, tree), self.tally.labels)}

    def bit(self, probs: list[int], i: int, bit: int) -> None:
        self.where[id(probs)][i, bit] += 1
        super().bit(probs, i, bit)


class Tally:
    """How often each model of a coder saw a 0 and a 1, over many sections; :meth:`priors` turns the
    counts into the :class:`Priors` those sections' models would best have started from."""

    def __init__(self) -> None:
        self.flags = np.zeros((_FLAG_CONTEXTS, 2), np.int64)
        self.values = np.zeros((64, _VALUE_MODELS, 2), np.int64)
        self.labels = [np.zeros((n, 2), np.int64) for _, n in _LABEL_MODELS]

    def blocks(self, values, contexts, block_class, left, up, last_flags: bool = False) -> None:
        """Count what :func:`encode_blocks` codes for these arguments."""
        _code_blocks(_CountingEncoder(self), values, contexts, block_class, left, up, FLAT, last_flags)

    def residuals(self, values, contexts=None) -> None:
        """Count what :func:`encode_residuals` codes for these arguments."""
        _code_residuals(_CountingEncoder(self), values, contexts, FLAT)

    def label_map(self, labels, predicted=None) -> None:
        """Count what :func:`encode_label_map` codes for these arguments."""
        _code_label_map(_CountingEncoder(self), labels, predicted, FLAT_LABELS)

    def priors(self, flags: bool) -> Priors:
        """Each model's ``P(0)`` estimated as ``(zeros + 1) / (bits + 2)`` (Laplace's rule, so that an
        unseen model starts at 1/2), within the range the adaptation itself reaches (31-2017 of 2048).
        ``flags``: whether the coder has coded-block flags (:func:`encode_blocks`) or not."""
        used = np.flatnonzero(self.values.sum((1, 2)))
        n = int(used.max()) + 1 if used.size else 0
        return Priors(_laplace(self.flags) if flags else (), tuple(_laplace(v) for v in self.values[:n]))

    def label_priors(self) -> LabelPriors:
        """The :class:`LabelPriors` of the label maps counted (:meth:`label_map`), as :meth:`priors`."""
        return LabelPriors(*(_laplace(counts) for counts in self.labels))


def _laplace(counts: np.ndarray) -> tuple[int, ...]:
    """``[n, 2]`` counts of 0s and 1s -> n 11-bit ``P(0)``: ``(zeros + 1) / (bits + 2)``, clipped to the
    range the adaptation itself reaches (31-2017 of 2048)."""
    return tuple(int(np.clip(np.rint((c0 + 1) / (c0 + c1 + 2) * _ONE), 31, _ONE - 31)) for c0, c1 in counts)

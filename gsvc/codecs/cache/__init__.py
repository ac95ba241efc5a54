"""A content-addressed cache of encodes and decodes, shared by the runs of a sweep.

Across the points of an SNR x bandwidth sweep most frames reach the decoder intact, and
the decoder is then in the same state with the same bytes as at the neighbouring point:
the same decode, run again. This cache runs it once. As in git's object store, the key of
an entry is a hash of every input that changes the output (:mod:`.wrap` lists them: the
model's bytes, the codec's spec, the coder's state, the encoded frame and the plan), so a
hit is the same result by construction; and the entry carries its own checksum, so a
damaged one is recomputed, never used (:mod:`.store`).

::

    import gsvc
    from gsvc.codecs.cache import CodecCache
    from gsvc.scenarios.presets import demo_scenario

    sc = demo_scenario().updated({"video.seconds": 0.4})
    cache = CodecCache()                       # memory only; CodecCache(folder) also on disk
    first = gsvc.run(sc, cache=cache)
    again = gsvc.run(sc.updated({"channel.snr_db": 12}), cache=cache)
    again.meta["cache"]["decode_hits"]         # decodes served from the first run's entries

The cache wraps a codec's encoders and decoders at one seam (:func:`.wrap.cache_codecs`);
codecs hold no cache code. A coder whose state it cannot capture as plain data (the
FFmpeg contexts of ``h264``/``h265``) runs uncached. Runs whose time is the wall clock
(``receiver.latency="measured"``) and timing-only runs do not use it.
"""
from .state import Uncacheable
from .store import CodecCache, Entry
from .wrap import CacheCounts, CachedCodec, cache_codecs

__all__ = ["CodecCache", "Entry", "CacheCounts", "CachedCodec", "cache_codecs", "Uncacheable", "process_cache"]

_PROCESS: dict[tuple, CodecCache] = {}


def process_cache(folder=None, memory_mb: float = 512.0, disk_mb: float = 4096.0) -> CodecCache:
    """This process's cache for ``folder`` (None: memory only): the same object on every call with
    the same arguments, so the runs of a sweep that land in one worker share its memory. A
    process holds one such cache at a time (another set of arguments replaces it)."""
    key = (None if folder is None else str(folder), float(memory_mb), float(disk_mb))
    cache = _PROCESS.get(key)
    if cache is None:
        _PROCESS.clear()
        cache = _PROCESS[key] = CodecCache(folder, memory_mb, disk_mb)
    return cache

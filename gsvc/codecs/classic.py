"""``h264`` and ``h265``: classic low-delay baselines (libx264 / libx265 through PyAV).

Sender: one encoder per stream at the video's size and frame rate, rate-controlled
to ``codec.bitrate_kbps`` with a VBV buffer of :data:`VBV_S` seconds at that rate,
no B-frames and no lookahead, so each ``encode`` returns the bytes of the frame
just given (no encoder delay). Keyframes (IDR, with parameter sets repeated) come
as in a real-time (WebRTC) sender: on the first frame, when feedback reports a loss
or asks for an anchor about a frame sent since the last keyframe (older reports
are already answered by it), and every ``codec.keyframe_s`` seconds (None: never
periodically). Each frame is one section, ``"bitstream"`` (Annex B).

Receiver: one FFmpeg decoder per stream. A frame whose data is incomplete, or a
delta whose reference chain is broken (a frame was lost, skipped or undecodable
since the last keyframe), cannot be decoded by a classic decoder: the last image
is shown again (freeze) and the decoder asks for a keyframe, like an RTCP PLI
(RFC 4585 sec. 6.3.1), until one arrives. Corrupt data that FFmpeg reports
(an error or a frame flagged corrupt) is treated the same way.

Decoding costs no denoiser evaluations; plans have path ``"classic"`` and a latency
profile times them with its ``classic_ms`` (fill it with :func:`gsvc.timing.classic_decode.measure_decode_ms`).
"""
from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import av
import numpy as np
from av.video.frame import PictureType

from ..video.quality import to_uint8
from .base import DecodePlan, Decoded, EncodedFrame, Feedback

__all__ = ["ClassicCodec", "H264Codec", "H265Codec", "encoder_options", "h265_ctu_px", "PRESET", "VBV_S", "PIX_FMT", "keyframe_interval"]

#: encoder speed preset (x264/x265 ``--preset``); ``veryfast`` is a common real-time choice
PRESET = "veryfast"
#: VBV buffer size, seconds at the target rate: what WebRTC gives its real-time encoder
#: (libvpx ``rc_buf_sz = 1000`` ms in libwebrtc's ``LibvpxVp8Encoder::InitEncode``), so a
#: keyframe may take up to a second of the rate and the next frames pay it back. A buffer of
#: a few frame intervals starves keyframes: measured here at 64 px, 15 fps, 32 kbit/s on a
#: procedural pan, 3 intervals gave x264 keyframes of 53 bytes at 15.0 dB (24.6 kbit/s, 23.6 dB
#: mean over 4 s); one second gives 1682 bytes at 25.5 dB (33.5 kbit/s, 24.5 dB mean).
VBV_S = 1.0
#: pixel format given to the encoders (4:2:0, as real-time video uses). Chroma subsampling
#: alone limits PSNR to ~27.5 dB on the 64 px procedural scenes (sharp coloured edges).
PIX_FMT = "yuv420p"

# SEI NAL unit types dropped from the bitstream: they carry the encoder's version and
# option banner (~680 bytes on x264's first frame), which no decoder needs.
_SEI_TYPES = {"h264": (6,), "h265": (39, 40)}  # H.264 sec. 7.4.1; H.265 table 7-1


def h265_ctu_px(side_px: int) -> int:
    """x265 coding-tree-unit size for a ``side_px`` picture: the largest of 64/32/16 that fits
    twice across it. With a CTU as large as the picture (x265's default 64 at 64 px, or 32
    at 32 px) the libx265 in PyAV 18.1 gave different bytes run to run for the same input from the
    fourth frame on (measured here, frame-threads=1, no pools); at half the picture or
    less the bytes were identical in every run at 4-64 kbit/s and 32-192 px."""
    return 64 if side_px >= 128 else 32 if side_px >= 64 else 16


def keyframe_interval(keyframe_s: float | None, fps: float) -> int | None:
    """Frames between periodic keyframes (None: no periodic keyframes)."""
    return None if keyframe_s is None else max(1, int(round(keyframe_s * fps)))


def encoder_options(name: str, bitrate_kbps: float, fps: float, keyint: int | None,
                    side_px: int = 1080) -> dict[str, str]:
    """FFmpeg encoder options for ``name`` (``"h264"`` or ``"h265"``); ``fps`` in frames/s,
    ``keyint`` frames between periodic keyframes (None: none), ``side_px`` the coded picture
    side (sets x265's CTU size, :func:`h265_ctu_px`).

    ``tune=zerolatency`` already gives no B-frames and no lookahead in both encoders
    (x264 ``common/base.c``; x265 docs, "Presets and tunings"); they are also set
    explicitly. Parameter names are those of ``x264 --fullhelp`` and the x265 CLI
    reference (x265.readthedocs.io/en/master/cli.html), passed through FFmpeg's
    ``x264-params`` / ``x265-params``; ``forced-idr`` is an FFmpeg wrapper option. ``vbv-maxrate`` (kbit/s) caps the rate at the target,
    ``vbv-bufsize`` (kbit) is :data:`VBV_S` seconds at that rate. ``scenecut=0``:
    keyframes only when the codec asks. One thread (x264 ``threads=1``; x265
    ``frame-threads=1:pools=none``) makes the bytes identical run to run.
    """
    bufsize_kbit = max(1, int(round(bitrate_kbps * VBV_S)))
    # no periodic keyframe: x264 "infinite", x265 -1 (both CLI references)
    key = keyint if keyint is not None else ("infinite" if name == "h264" else -1)
    rc = (f"vbv-maxrate={max(1, int(round(bitrate_kbps)))}:vbv-bufsize={bufsize_kbit}"
          f":keyint={key}:min-keyint=1:scenecut=0:bframes=0:rc-lookahead=0")
    # forced-idr: a forced keyframe is an IDR (decodable after any loss), not an open-GOP I frame
    opts = {"preset": PRESET, "tune": "zerolatency", "forced-idr": "1"}
    if name == "h264":
        opts["x264-params"] = rc + ":threads=1"
        # the same VBV on the codec context: FFmpeg's libx264 reconfigures the encoder when the
        # context's rate fields differ from x264's, so they must agree for a later change of
        # ``bit_rate`` (rate control) to take effect; the bytes are unchanged by it
        opts["maxrate"] = f"{max(1, int(round(bitrate_kbps)))}k"
        opts["bufsize"] = f"{bufsize_kbit}k"
    elif name == "h265":
        opts["x265-params"] = (rc + f":ctu={h265_ctu_px(side_px)}:frame-threads=1:pools=none:repeat-headers=1"
                               ":info=0:log-level=error")
    else:
        raise ValueError(f"codec.name={name!r} is not a classic codec; use 'h264' or 'h265'")
    return opts


def _strip_sei(data: bytes, sei_types: tuple[int, ...], hevc: bool) -> bytes:
    """Annex B bytes without the NAL units whose type is in ``sei_types``."""
    units = []  # (first byte of the start code, NAL unit type)
    i = data.find(b"\x00\x00\x01")
    while i >= 0 and i + 3 < len(data):
        header = data[i + 3]
        units.append((i - 1 if i > 0 and data[i - 1] == 0 else i,  # 4-byte start code
                      (header >> 1) & 0x3F if hevc else header & 0x1F))
        i = data.find(b"\x00\x00\x01", i + 3)
    if not any(t in sei_types for _, t in units):
        return data
    ends = [b for b, _ in units[1:]] + [len(data)]
    return b"".join(data[b:e] for (b, t), e in zip(units, ends) if t not in sei_types)


class ClassicCodec:
    """A conventional codec at a target bitrate; subclasses name the FFmpeg encoder and decoder."""

    name = "classic"
    group_frames = 1
    uses_pixels = True
    makes_images = True
    encoder_lib = ""
    decoder_lib = ""

    def __init__(self, codec_spec, video_spec):
        self.spec, self.video = codec_spec, video_spec
        self.side = int(video_spec.resolution)
        self.coded_side = self.side + self.side % 2  # 4:2:0 needs even sizes; odd frames are edge-padded
        self.rate = Fraction(video_spec.fps).limit_denominator(1001)  # frames/s
        self.keyint = keyframe_interval(codec_spec.keyframe_s, float(self.rate))
        self.options = encoder_options(self.name, codec_spec.rate_kbps, float(self.rate), self.keyint,
                                       self.coded_side)

    def encoder(self, stream_seed: int) -> "ClassicEncoder":
        return ClassicEncoder(self)

    def decoder(self, stream_seed: int) -> "ClassicDecoder":
        return ClassicDecoder(self)


class H264Codec(ClassicCodec):
    name, encoder_lib, decoder_lib = "h264", "libx264", "h264"
    capabilities = frozenset({"rate"})


class H265Codec(ClassicCodec):
    name, encoder_lib, decoder_lib = "h265", "libx265", "hevc"
    capabilities = frozenset()

    @classmethod
    def rate_problem(cls, spec) -> str | None:
        return "cannot change its rate mid-stream (FFmpeg's libx265 wrapper applies no bitrate change to an open encoder)"


class ClassicEncoder:
    """Sender state: the FFmpeg encoder and the index of the last keyframe sent."""

    def __init__(self, codec: ClassicCodec):
        self.codec = codec
        ctx = av.CodecContext.create(codec.encoder_lib, "w")
        ctx.width = ctx.height = codec.coded_side
        ctx.pix_fmt = PIX_FMT
        ctx.framerate, ctx.time_base = codec.rate, 1 / codec.rate
        ctx.bit_rate = int(round(codec.spec.rate_kbps * 1e3))  # bit/s
        ctx.gop_size, ctx.max_b_frames, ctx.thread_count = codec.keyint or 1_000_000, 0, 1
        ctx.options = dict(codec.options)
        ctx.open()
        self.ctx = ctx
        self.last_key: int | None = None
        self.last_index = -1  # the last frame encoded

    def set_target_kbps(self, kbps: float) -> None:
        """Rate control: aim at ``kbps`` (at most ``codec.bitrate_kbps``, the VBV's maximum rate,
        which an open encoder cannot raise). Only libx264 takes a new rate mid-stream."""
        self.ctx.bit_rate = int(round(min(kbps, self.codec.spec.rate_kbps) * 1e3))

    def _wants_key(self, index: int, feedback: Sequence[Feedback]) -> bool:
        if self.last_key is None or self.codec.keyint is not None and index - self.last_key >= self.codec.keyint:
            return True
        return any(f.frame >= self.last_key for f in feedback)

    def encode(self, frame, feedback: Sequence[Feedback]) -> list[EncodedFrame]:
        c = self.codec
        rgb = to_uint8(np.asarray(frame.rgb))
        if rgb.shape != (c.side, c.side, 3):
            raise ValueError(f"frame {frame.index} has shape {rgb.shape}; {c.name} was set up for "
                             f"video.resolution={c.side} ({c.side}, {c.side}, 3)")
        if c.coded_side != c.side:
            rgb = np.pad(rgb, ((0, 1), (0, 1), (0, 0)), mode="edge")
        vf = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=PIX_FMT)
        vf.pts = frame.index
        vf.pict_type = PictureType.I if self._wants_key(frame.index, feedback) else PictureType.NONE
        packets = self.ctx.encode(vf)
        if len(packets) != 1:
            raise RuntimeError(f"{c.encoder_lib} returned {len(packets)} packets for frame {frame.index}; "
                               "zero-latency encoding gives exactly one")
        data = _strip_sei(bytes(packets[0]), _SEI_TYPES[c.name], hevc=c.name == "h265")
        prev, self.last_index = self.last_index, frame.index
        if packets[0].is_keyframe:
            self.last_key = frame.index
            return [EncodedFrame(frame.index, "anchor", {"bitstream": data}, (), frame.scene_cut)]
        # the reference is the last frame encoded (the sender may drop frames before the encoder)
        return [EncodedFrame(frame.index, "delta", {"bitstream": data}, (prev,), frame.scene_cut)]


class ClassicDecoder:
    """Receiver state: the FFmpeg decoder, the last image shown and the reference chain.

    ``plan`` keeps the chain (so timing-only runs take the same paths); ``decode``
    breaks it when FFmpeg rejects the data.
    """

    def __init__(self, codec: ClassicCodec):
        self.codec = codec
        self.ctx = None
        self.image: np.ndarray | None = None  # [H, W, 3] float32 in [0, 1], last shown
        self.last_frame = -1  # index of the last frame given to the decoder
        self.broken = True  # a frame since the last keyframe was not decoded

    def plan(self, ef: EncodedFrame, complete: bool, budget_ms: float | None) -> DecodePlan:
        if complete and (ef.kind == "anchor" or (not self.broken and ef.refs == (self.last_frame,))):
            if ef.kind == "anchor" and self.broken:
                self.ctx = None  # start a fresh decoder at the keyframe
            self.broken, self.last_frame = False, ef.frame
            return DecodePlan("classic")
        self.broken = True
        return DecodePlan("conceal")

    def shed(self, ef: EncodedFrame, plan: DecodePlan, budget_ms: float, arrived_late: bool) -> str | None:
        """Load shedding: every frame is the next one's reference, so a late frame is decoded
        if it arrived late or can still start before its deadline; one the receiver's queue
        held past its deadline makes the chain drop and a keyframe be asked for (``"resync"``,
        as a PLI would). A frame that could only be concealed is skipped (``"late"``, or
        ``"resync"`` while the chain is broken)."""
        if plan.path == "classic":
            if budget_ms >= 0 or arrived_late:
                return None
            self.broken = True
        return "resync" if self.broken else "late"

    def advance(self, ef: EncodedFrame, plan: DecodePlan) -> Decoded:
        """Timing-only: what :meth:`decode` returns when FFmpeg accepts the data, without an image
        (``plan`` already kept the chain); a concealment asks for a keyframe."""
        if plan.path == "classic":
            return Decoded(None, 0, 0, anchor=ef.kind == "anchor")
        return Decoded(None, 0, 0, request_anchor=True, path="conceal")

    def decode(self, ef: EncodedFrame, plan: DecodePlan) -> Decoded:
        if plan.path == "classic":
            image = self._decode(ef.sections.get("bitstream", b""))
            if image is not None:
                self.image = image
                return Decoded(image, 0, 0, anchor=ef.kind == "anchor")
            self.broken = True
        if self.image is None:
            side = self.codec.side
            self.image = np.full((side, side, 3), 0.5, np.float32)
        return Decoded(self.image, 0, 0, request_anchor=True, path="conceal")

    def _decode(self, data: bytes) -> np.ndarray | None:
        """The picture in ``data`` as [H, W, 3] float32 in [0, 1], or None if FFmpeg rejects it."""
        if not data:  # an empty packet would put the decoder into drain mode
            return None
        if self.ctx is None:
            self.ctx = av.CodecContext.create(self.codec.decoder_lib, "r")
            self.ctx.thread_count = 1
        try:
            frames = self.ctx.decode(av.Packet(data))
        except (av.FFmpegError, ValueError):
            return None
        side = self.codec.coded_side
        if len(frames) != 1 or frames[0].is_corrupt or (frames[0].width, frames[0].height) != (side, side):
            return None
        rgb = frames[0].to_ndarray(format="rgb24")[: self.codec.side, : self.codec.side]
        return rgb.astype(np.float32) / 255.0

"""The scenario: everything one run simulates, validated before anything runs.

Dotted paths into a scenario (``channel.snr_db``, ``link.bandwidth_mhz``,
``codec.name``, ``streams`` ...) are the sweep keys and the names used in every
error message.
"""
from __future__ import annotations

import copy
import hashlib
import json
from typing import Any, Union

from pydantic import BaseModel, field_validator, model_validator

from ..codecs.spec import CodecSpec
from ..netsim.channel import CellSpec, ChannelSpec, LinkSpec, validate_cell, validate_pair
from ..netsim.satisfaction import FLOORS, CapacitySpec
from ..netsim.receiverspec import JitterBufferSpec, ReceiverSpec
from ..spec import Spec, SpecError, bounded, unknown_field
from ..timing.custom import reads_wall_clock
from ..video.spec import VideoSpec

__all__ = ["Scenario"]


class Scenario(Spec):
    """One simulated setting: video, codec, channel, link, jitter buffer, receiver, streams, seed."""

    name: str = "scenario"
    seed: int = bounded(0, 0, 2**63 - 1, "", "master seed of every random draw in the run")
    #: how many streams share the radio and the receiver: a count, or groups with their own codec and
    #: content (:mod:`gsvc.scenarios.groups`)
    streams: Union[int, tuple[dict[str, Any], ...]] = 1
    video: VideoSpec = VideoSpec()
    codec: CodecSpec = CodecSpec()
    channel: ChannelSpec = ChannelSpec()
    link: LinkSpec = LinkSpec()
    #: how the streams' UEs share the radio (one carrier each by default)
    cell: CellSpec = CellSpec()
    jitter: JitterBufferSpec = JitterBufferSpec()
    receiver: ReceiverSpec = ReceiverSpec()
    #: per-frame quality of what the viewer saw (``gsvc.metrics.METRICS``); psnr and ssim always
    metrics: tuple[str, ...] = ("psnr", "ssim")
    #: when a stream's user is satisfied (:mod:`gsvc.netsim.satisfaction`); the delay budget is ``cell.pdb_ms``
    capacity: CapacitySpec = CapacitySpec()

    @model_validator(mode="before")
    @classmethod
    def _codec_default_fps(cls, data):
        """A codec that declares a ``default_fps`` (``xr``: TR 38.838's 60 frames/s) captures at it unless
        ``video.fps`` is given."""
        if isinstance(data, dict):
            codec, video = data.get("codec"), data.get("video")
            name = codec.get("name") if isinstance(codec, dict) else getattr(codec, "name", None)
            if video is None or isinstance(video, dict) and "fps" not in video:
                from ..codecs.registry import codec_class, codec_names
                fps = getattr(codec_class(name), "default_fps", None) if name in codec_names() else None
                if fps is not None:
                    data = {**data, "video": {**(video or {}), "fps": fps}}
        return data

    @field_validator("streams", mode="before")
    @classmethod
    def _streams_shape(cls, v):
        if isinstance(v, bool) or (isinstance(v, (int, float)) and not (isinstance(v, int) and 1 <= v <= 10_000)):
            raise ValueError("is not a number of streams in [1, 10000] (or a list of groups)")
        if isinstance(v, list):
            v = tuple(v)
        if isinstance(v, tuple):
            from .groups import check_groups
            errors = check_groups(v)
            if errors:
                raise ValueError("; ".join(errors))
        return v

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, v):
        from ..metrics import METRICS
        unknown = [m for m in v if m not in METRICS]
        if unknown:
            raise ValueError(f"names unknown metrics {unknown}; known: {sorted(METRICS)}")
        return tuple(dict.fromkeys(("psnr", "ssim") + tuple(v)))

    @model_validator(mode="after")
    def _consistent(self) -> "Scenario":
        rx = self.receiver
        if rx.decode == "timing-only" and reads_wall_clock(rx.latency):
            raise ValueError(f"receiver.decode='timing-only' skips the decode, so receiver.latency={rx.latency!r} "
                             "(wall-clock time) cannot time it; give 'profile:NAME' or an inline profile")
        validate_pair(self.channel, self.link)
        validate_cell(self.cell, self.channel, self.link, self.num_streams)
        self._check_model_serves_video()
        self._check_motion_blocks_fit()
        self._check_rate_control()
        self._check_quality_is_measured()
        self.groups()  # each group's own scenario is valid (errors name streams[i].field)
        return self

    # --- streams and their groups ---------------------------------------------------
    @property
    def num_streams(self) -> int:
        """Streams in the run (the count, or the sum of the groups' counts)."""
        return self.streams if isinstance(self.streams, int) else sum(g["count"] for g in self.streams)

    def groups(self) -> list[tuple[str, int, "Scenario"]]:
        """``(name, count, scenario)`` per group of streams, in stream order; one group (the scenario
        itself, named after its codec) when ``streams`` is a count."""
        if isinstance(self.streams, int):
            return [(self.codec.name, self.streams, self)]
        from .groups import group_name, group_overrides, prefix_errors
        out = []
        for i, g in enumerate(self.streams):
            try:
                sc = self.updated({**group_overrides(g), "streams": g["count"],
                                   "cell.ue_distances_m": None})
            except SpecError as err:
                raise prefix_errors(err, i) from None
            out.append((group_name(g, i), g["count"], sc))
        return out

    def stream_groups(self) -> list[tuple[str, "Scenario"]]:
        """``(group name, group scenario)`` of every stream, in stream order."""
        return [(name, sc) for name, count, sc in self.groups() for _ in range(count)]

    def _check_quality_is_measured(self) -> None:
        """A quality floor of ``capacity`` needs its metric scored, and a metric beyond PSNR/SSIM needs
        images: a codec that makes none (``xr``, ``synthetic``) or a timing-only run scores nothing."""
        from ..codecs.registry import makes_images
        floors = self.capacity.floors()
        for field in floors:
            metric = FLOORS[field][0].removesuffix("_db")
            if metric not in self.metrics:
                raise ValueError(f"capacity.{field} needs {metric!r} in metrics (now {list(self.metrics)})")
        codecs = [self.codec.name] if isinstance(self.streams, int) else \
            [(g.get("codec") or {}).get("name", self.codec.name) for g in self.streams]
        no_images = [name for name in codecs if not makes_images(name)]
        extra = [m for m in self.metrics if m not in ("psnr", "ssim")]
        for what in [f"capacity.{f}" for f in floors] + ([f"metrics {extra}"] if extra else []):
            if self.timing_only:
                raise ValueError(f"{what} needs decoded images; receiver.decode='timing-only' scores none "
                                 "(set receiver.decode='real' or drop it)")
            if no_images:
                raise ValueError(f"{what} needs decoded images; codec.name={no_images[0]!r} makes none (a traffic "
                                 "model: its runs are timing-only)")

    def _check_rate_control(self) -> None:
        """``link.rate_control`` needs a codec whose rate can change while it runs."""
        from ..codecs.registry import has, names_with, problem_of
        c, ctl = self.codec, self.link.rate_control
        if ctl == "off":
            return
        problem = problem_of(c.name, "rate_problem", c)
        if not has(c.name, "rate"):
            raise ValueError(f"link.rate_control={ctl!r} needs a codec whose rate can change mid-stream; "
                             f"codec.name={c.name!r} {problem or 'has a fixed rate'}; use one of "
                             f"{', '.join(names_with('rate'))}, or link.rate_control='off'")
        if problem:
            raise ValueError(f"link.rate_control={ctl!r} {problem}")

    def _check_motion_blocks_fit(self) -> None:
        """``codec.motion_block_px`` of a codec that sends motion must fit in the frame."""
        from ..codecs.registry import has
        c, side = self.codec, self.video.resolution
        if has(c.name, "reference") and c.motion_block_px is not None and c.motion_block_px > side:
            raise ValueError(f"codec.motion_block_px={c.motion_block_px} is larger than the frame "
                             f"(video.resolution={side}); choose 4 to {side} px, or None for half the side")

    def _check_model_serves_video(self) -> None:
        """A codec that sends the low-res frame (the diffusion codecs and ``lowres``) needs a low-res
        factor that divides ``video.resolution``; a diffusion codec also needs a model back-end that
        exists (``codec.model``: the shipped one, or a complete diffusers folder, checked from its
        configs) and, when it decodes for real, serves ``video.resolution``. Frames beyond the shipped
        model's largest side (up to 1024 px) are for latent back-ends that serve them."""
        from ..codecs.backends import SHIPPED, list_sides, served_resolutions_of
        from ..codecs.registry import has
        c, side = self.codec, self.video.resolution
        if not has(c.name, "lowres"):
            return
        for field, factor in (("lowres_factor", c.lowres_factor), ("anchor_lowres_factor", c.anchor_lowres_factor)):
            if c.lowres != "off" and factor and (side % factor or side // factor < 4):
                raise ValueError(f"codec.{field}={factor} does not divide video.resolution={side} into a low-res "
                                 "frame of at least 4 px; choose a factor that divides it")
        if not has(c.name, "diffusion"):
            return
        served = served_resolutions_of(c)  # raises for an incomplete codec.model folder
        self._check_controlnet_is_timed()
        if self.timing_only:
            return
        if side not in served:
            if c.model == SHIPPED:
                model = c.weights or "the shipped denoiser"
            else:
                model = f"codec.model={c.model!r}"
            have = list_sides(served) or "none (no weights found there)"
            raise ValueError(f"video.resolution={side} is not served by {model}; it serves {have} px "
                             "(or run with receiver.decode='timing-only')")

    def _check_controlnet_is_timed(self) -> None:
        """A folder whose ControlNet runs at every evaluation, timed by a profile that knows the
        ControlNet's cost (a ``controlnet_factor``), must have it counted (``receiver.controlnet="on"``);
        otherwise the timing leaves out the ControlNet's ~40 % per step."""
        from ..codecs.backends import SHIPPED
        from ..timing.profile import profile_of
        c, rx = self.codec, self.receiver
        if c.model == SHIPPED or rx.controlnet == "on":
            return
        prof = profile_of(rx.latency)
        if prof is None or prof.controlnet_factor is None:
            return
        from ..codecs.backends.folder import check_folder
        if check_folder(c.model, c.prompt).has_controlnet:
            raise ValueError(f"codec.model={c.model!r} runs a ControlNet at every evaluation but receiver.controlnet="
                             "'off' times the UNet alone; set receiver.controlnet='on' (the profile's "
                             "controlnet_factor) or use receiver.latency='measured'")

    # --- dotted paths -------------------------------------------------------------
    @classmethod
    def field_paths(cls) -> list[str]:
        """Every settable dotted path (``channel.snr_db`` ...)."""
        sections, out = set(cls.sections()), []
        for name, f in cls.model_fields.items():
            if name in sections:
                out += [f"{name}.{sub}" for sub in f.annotation.model_fields]
            else:
                out.append(name)
        return out

    def group_paths(self) -> list[str]:
        """The settable paths of this scenario's stream groups (sweep keys too):
        ``streams.<group>.count``, ``streams.<group>.codec.<field>`` and ``streams.<group>.video.<field>``
        (content fields; the frame clock is shared). None when ``streams`` is a count."""
        if isinstance(self.streams, int):
            return []
        from .groups import FIXED_VIDEO, group_name
        out = []
        for i, g in enumerate(self.streams):
            name = group_name(g, i)
            out.append(f"streams.{name}.count")
            out += [f"streams.{name}.codec.{f}" for f in CodecSpec.model_fields]
            out += [f"streams.{name}.video.{f}" for f in VideoSpec.model_fields if f not in FIXED_VIDEO]
        return out

    def _group_path(self, path: str) -> tuple[int, list[str]] | None:
        """``(group index, [key, field] or ["count"])`` of a group path, None for any other path."""
        if isinstance(self.streams, int) or not path.startswith("streams."):
            return None
        from .groups import group_name
        for i, g in enumerate(self.streams):
            prefix = f"streams.{group_name(g, i)}."
            if path.startswith(prefix):
                return i, path[len(prefix):].split(".", 1)
        return None

    def get(self, path: str) -> Any:
        where = self._group_path(path)
        if where is not None:
            i, rest = where   # a group's count, or the value its streams run with
            return self.streams[i]["count"] if rest == ["count"] else self.groups()[i][2].get(".".join(rest))
        obj: Any = self
        for part in path.split("."):
            obj = getattr(obj, part)
        return obj

    @classmethod
    def sections(cls) -> list[str]:
        """The names of the scenario's sections (``video``, ``codec``, ``channel`` ...)."""
        return [name for name, f in cls.model_fields.items()
                if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)]

    def updated(self, changes: dict[str, Any]) -> "Scenario":
        """A new scenario with dotted paths set to new values, validated like the original.
        Paths are :meth:`field_paths` and, when ``streams`` holds groups, :meth:`group_paths`.

        A section's name (:meth:`sections`) with a dict replaces the whole section: its fields at their
        defaults but those given. ``preset.updated({"codec": {"name": "h264"}})`` is H.264 at its own
        settings, where ``{"codec.name": "h264"}`` keeps the preset's other codec fields (its steps, its
        strength ...). Section replacements apply before dotted paths, whatever their order."""
        sections = self.sections()
        valid = set(self.field_paths()) | set(self.group_paths()) | set(sections)
        bad = [k for k in changes if k not in valid]
        if bad:
            raise SpecError([unknown_field(k, valid) for k in bad])
        bad = [k for k in changes if k in sections and not isinstance(changes[k], (dict, BaseModel))]
        if bad:
            raise SpecError([f"{k}={changes[k]!r} replaces the whole section: give a dict of its fields, "
                             f"e.g. {{{k!r}: {{...}}}}, or set one field as {k}.<field>" for k in bad])
        data = self.model_dump(mode="python")
        # the codec's own defaults (``spec_defaults``) are left out, so a changed codec.name takes its own
        data["codec"] = self.codec.model_dump(mode="python", exclude_unset=True)
        for key in sections:
            if key in changes:
                value = changes[key]
                data[key] = value.model_dump(mode="python", exclude_unset=True) if isinstance(value, BaseModel) \
                    else copy.deepcopy(dict(value))
        for key, value in changes.items():
            if key in sections:
                continue
            where = self._group_path(key)
            if where is not None:
                i, rest = where
                groups = [copy.deepcopy(dict(g)) for g in data["streams"]]
                if rest == ["count"]:
                    groups[i]["count"] = value
                else:
                    groups[i][rest[0]] = {**(groups[i].get(rest[0]) or {}), rest[1]: value}
                data["streams"] = groups
                continue
            parts = key.split(".")
            node = data
            for p in parts[:-1]:
                node = node[p]
            node[parts[-1]] = value
        return Scenario(**data)

    @classmethod
    def from_dump(cls, doc: dict) -> "Scenario":
        """The scenario a JSON dump (``scenario.json``, ``gsvc presets NAME``) holds: equal to the one dumped (same
        :meth:`spec_hash`), its codec fields at their codec's defaults read as left out
        (:meth:`CodecSpec.given_fields`), so ``updated({"codec.name": ...})`` behaves as on the original."""
        doc = dict(doc)
        codec = doc.get("codec")
        if isinstance(codec, dict) and "name" in codec:
            doc["codec"] = CodecSpec.given_fields(codec)
        return cls(**doc)

    def spec_hash(self) -> str:
        """Stable hash of the scenario's content (independent of process and dict order)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @property
    def timing_only(self) -> bool:
        return self.receiver.decode == "timing-only"

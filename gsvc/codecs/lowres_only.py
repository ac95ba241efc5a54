"""``lowres``: the no-generation reference. It sends the low-res frame and the motion exactly as
``cvsc`` sends them for the same settings (the same bytes; no label map and no edge map, which
only a generator could use) and shows every frame without a denoiser: an anchor is its low-res
frame upsampled, a delta the anchor's reconstruction moved by the frame's motion with the pixels
the motion uncovered taken from its upsampled low-res frame; each is then back-projected onto its
own low-res frame (``codec.lowres_backprojection`` steps).

No denoiser evaluations: the plan is a ``classic`` decode, which the receiver's latency model
times with its ``classic_ms`` as it does H.264. What a diffusion codec shows above this row, at
the same settings, is what its generation adds to the stream it sends."""
from __future__ import annotations

from .base import DecodePlan
from .cvsc import TUNED_CHAINED
from .diffusion import DiffusionCodec, DiffusionDecoder


class LowresDecoder(DiffusionDecoder):
    def plan_frame(self, ef, budget_ms):
        return DecodePlan("classic")

    def generate(self, ef, plan, parsed):
        return self.predict(parsed)


class LowresCodec(DiffusionCodec):
    name = "lowres"
    capabilities = frozenset({"lowres", "reference", "rate", "rate_ceiling", "lowres_chain"})
    spec_defaults = TUNED_CHAINED  # cvsc's stream, shown without generation

    @classmethod
    def spec_problem(cls, spec) -> str | None:
        if spec.lowres == "off":
            return ("codec.name='lowres' shows the low-res frame it sends, but codec.lowres='off'; "
                    "set codec.lowres to 'all' or 'anchors'")
        return None
    decoder_cls = LowresDecoder

    def __init__(self, codec_spec, video_spec):
        # the low-res frame and motion only: labels and edges need a generator to turn them into pixels
        super().__init__(codec_spec.model_copy(update={"semantic": "off", "structure": "off"}), video_spec)

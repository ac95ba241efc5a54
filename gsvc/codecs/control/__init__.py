"""Adaptive real-time control for the reference-based diffusion codecs (``codec.control="adaptive"``).

What none of the reproduced methods (cvsc, reuse, anchor_residual, content_motion) does,
added to each of them without changing what they do with ``control="off"``:

1. **Cut and large-motion detection** at the sender (:mod:`.detect`), from consecutive
   frames and their semantic maps; a cut always starts a new anchor. The flags travel in
   a 2-byte ``control`` section of every frame.
2. **Uncertainty**: the sender measures how much of each frame its reference, moved to
   the frame, explains (:func:`.confidence.reference_confidence`) and sends it in the
   same section, so the receiver knows it from the transmitted data.
3. **Deadline-aware steps** (:mod:`.planner`): the receiver gets the time left to the
   frame's playout deadline and an expected-cost model from its latency model; low
   confidence asks for more noise and steps, and the plan that fits is taken.
4. **Anchor refresh**: at the sender on cuts and drift (:mod:`.sender`), at the receiver
   by a request over the feedback path after loss, a degraded anchor or low confidence
   (:mod:`.receiver`).
5. **Quality safeguard**: when the wanted plan does not fit, fewer steps, then warp-only
   (the reference moved to the frame, no denoiser) or the low-res frame for an anchor, then
   repeat; the path taken is the log's ``plan`` column, next to ``steps``,
   ``cut_detected`` and ``confidence``.
"""
from .confidence import ControlInfo, decode_control, encode_control, reference_confidence
from .detect import SceneChange, SceneChangeDetector, appearance_change
from .planner import FALLBACK_PATHS, DeadlinePlanner, wanted_strength
from .receiver import ReceiverControl
from .sender import SenderControl

__all__ = ["ControlInfo", "encode_control", "decode_control", "reference_confidence", "SceneChange",
           "SceneChangeDetector", "appearance_change", "DeadlinePlanner", "wanted_strength", "FALLBACK_PATHS",
           "ReceiverControl", "SenderControl"]

"""The built-in codecs: each class declares its name and capabilities itself (:mod:`gsvc.codecs.registry`).

Adding a built-in codec: its module, and one entry here.
"""
from .anchor_residual import AnchorResidualCodec
from .classic import H264Codec, H265Codec
from .content_motion import ContentMotionCodec
from .cvsc import CvscCodec
from .full import FullCodec
from .lowres_only import LowresCodec
from .oneshot import OneshotCodec
from .reuse import ReuseCodec
from .synthetic import SyntheticCodec
from .xr import XrCodec

__all__ = ["BUILTIN"]

BUILTIN = (FullCodec, OneshotCodec, CvscCodec, ReuseCodec, AnchorResidualCodec, ContentMotionCodec, LowresCodec,
           H264Codec, H265Codec, SyntheticCodec, XrCodec)

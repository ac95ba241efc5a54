"""Frame sources: procedural labelled street scenes, files, arrays and photos.

``open_source(spec, seed)`` turns a :class:`VideoSpec` into a :class:`VideoSource`
that yields :class:`Frame` objects in order; ``procedural_clip`` renders a batch
of labelled frames as arrays for training.
"""
from .arrays import from_array
from .camera import warp_previous
from .classes import CLASS_RGB, CLASSES, NUM_CLASSES, colorize
from .files import read_frames, write_image, write_images, write_video
from .frame import Frame
from .flow import block_flow_px, mean_flow_px, phase_shift_px
from .open import open_source
from .photo import photo_source
from .procedural import procedural_clip
from .segment import estimate_labels
from .source import Clip, VideoSource, concat
from .spec import VideoSpec

__all__ = [
    "Frame", "VideoSpec", "VideoSource", "Clip", "CLASSES", "NUM_CLASSES", "CLASS_RGB", "colorize",
    "open_source", "procedural_clip", "from_array", "photo_source", "concat",
    "read_frames", "write_video", "write_image", "write_images",
    "estimate_labels", "warp_previous", "phase_shift_px", "block_flow_px", "mean_flow_px",
]

"""Frame sources: procedural labelled street scenes, files and arrays."""
from .frame import Frame
from .spec import VideoSpec

__all__ = ["Frame", "VideoSpec"]

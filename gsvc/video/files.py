"""Reading and writing video files and image sequences with PyAV (FFmpeg).

Only file I/O lives here; fitting frames to a resolution is in
:mod:`gsvc.video.resize` and playing them is the array source's job.
"""
from __future__ import annotations

import glob
import os
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np

from .arrays import check_fps, check_rgb

__all__ = ["read_frames", "image_files", "write_video", "write_image", "write_images", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")

# encoder pixel formats; ffv1 and png are lossless for 8-bit RGB
_PIX_FMT = {"ffv1": "bgr0", "png": "rgb24", "libx264": "yuv420p", "libx264rgb": "rgb24", "mpeg4": "yuv420p"}


def _decode_file(path: str, max_frames: int | None, max_seconds: float | None = None
                 ) -> tuple[list[np.ndarray], Fraction | None]:
    with av.open(path) as container:
        if not container.streams.video:
            raise ValueError("it has no video stream")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        if max_seconds is not None and rate:
            by_time = int(np.ceil(max_seconds * float(rate))) + 1
            max_frames = by_time if max_frames is None else min(max_frames, by_time)
        frames = []
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
            if max_frames is not None and len(frames) >= max_frames:
                break
    is_image = Path(path).suffix.lower() in IMAGE_SUFFIXES
    return frames, (None if is_image or not rate else Fraction(rate))


def image_files(path: str) -> list[str] | None:
    """Sorted image files of a directory or glob pattern, or None when ``path`` is a single file."""
    if os.path.isdir(path):
        return sorted(str(p) for p in Path(path).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if any(ch in path for ch in "*?["):
        return sorted(glob.glob(path))
    return None


def read_frames(path: str | os.PathLike, max_frames: int | None = None, name: str = "path",
                max_seconds: float | None = None) -> tuple[np.ndarray, float | None]:
    """Decode a video file, one image, a directory of images or a glob pattern of images.

    Args:
        path: the file, directory (its images in name order) or pattern (``"shots/*.png"``).
        max_frames: stop after this many frames (None: all).
        max_seconds: stop after the frames of this many seconds (video files with a known rate).
        name: how error messages call ``path`` (e.g. ``"video.path"``).

    Returns:
        frames ``[T, H, W, 3]`` uint8 RGB and the file's frame rate in frames/s
        (None for images, which have none).

    Raises:
        ValueError naming ``name`` when the path does not exist, cannot be decoded, holds
        no frames, or holds images of different sizes.
    """
    path = os.fspath(path)
    files = image_files(path)
    try:
        if files is None:
            if not os.path.exists(path):
                raise ValueError("no such file or directory")
            frames, rate = _decode_file(path, max_frames, max_seconds)
        else:
            frames, rate = [], None
            for f in files[:max_frames]:
                frames.extend(_decode_file(f, 1)[0])
    except (OSError, av.FFmpegError, ValueError) as err:
        raise ValueError(f"{name}={path!r} could not be read as video or images: {err}") from None
    if not frames:
        raise ValueError(f"{name}={path!r} holds no frames")
    sizes = {f.shape for f in frames}
    if len(sizes) > 1:
        raise ValueError(f"{name}={path!r} holds images of different sizes {sorted(sizes)}; give one size")
    return np.stack(frames), (None if rate is None else float(rate))


def _to_uint8(rgb, name: str, ndim: int) -> np.ndarray:
    a = np.asarray(rgb)
    if a.dtype == np.uint8 and a.ndim == ndim and a.shape[-1] == 3 and a.size:
        return a
    return np.round(check_rgb(a, name, ndim) * 255.0).astype(np.uint8)


def write_video(path: str | os.PathLike, rgb, fps: float,
                codec: Literal["ffv1", "png", "libx264", "libx264rgb", "mpeg4"] = "ffv1",
                options: dict[str, str] | None = None) -> Path:
    """Encode frames to a video file.

    Args:
        path: output file; the container follows the suffix (``.mkv`` suits every codec here).
        rgb: ``[T, H, W, 3]`` float in [0, 1] or uint8.
        fps: frame rate, frames/s.
        codec: ``"ffv1"`` and ``"png"`` are lossless (8-bit); ``"libx264"`` (4:2:0, even H and W)
            and ``"mpeg4"`` are lossy.
        options: encoder options, e.g. ``{"crf": "18"}`` for libx264.

    Returns:
        the path written.
    """
    frames = _to_uint8(rgb, "rgb", 4)
    fps = check_fps(fps)
    if codec not in _PIX_FMT:
        raise ValueError(f"codec={codec!r} is not one of {', '.join(_PIX_FMT)}")
    t, h, w, _ = frames.shape
    if _PIX_FMT[codec] == "yuv420p" and (h % 2 or w % 2):
        raise ValueError(f"rgb frames are {h}x{w}; codec={codec!r} needs even sides (use 'ffv1' for any size)")
    path = Path(path)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001), options=options or {})
        stream.width, stream.height, stream.pix_fmt = w, h, _PIX_FMT[codec]
        for f in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        container.mux(stream.encode())
    return path


def write_image(path: str | os.PathLike, rgb) -> Path:
    """Write one image ``[H, W, 3]`` (float in [0, 1] or uint8) as PNG (or another format by suffix)."""
    frame = _to_uint8(rgb, "rgb", 3)
    path = Path(path)
    codec = {".png": "png", ".jpg": "mjpeg", ".jpeg": "mjpeg", ".bmp": "bmp", ".ppm": "ppm"}.get(
        path.suffix.lower())
    if codec is None:
        raise ValueError(f"path={str(path)!r} has no image suffix this writer knows (.png, .jpg, .bmp, .ppm)")
    pix_fmt = {"mjpeg": "yuvj444p", "bmp": "bgr24"}.get(codec, "rgb24")
    with av.open(str(path), "w", format="image2") as container:
        stream = container.add_stream(codec, rate=1)
        stream.width, stream.height, stream.pix_fmt = frame.shape[1], frame.shape[0], pix_fmt
        container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def write_images(directory: str | os.PathLike, rgb, pattern: str = "frame_{:05d}.png") -> list[Path]:
    """Write frames ``[T, H, W, 3]`` as numbered images in ``directory`` (created if missing)."""
    frames = _to_uint8(rgb, "rgb", 4)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return [write_image(directory / pattern.format(i), f) for i, f in enumerate(frames)]

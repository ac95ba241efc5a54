"""A camera moving over still photographs.

Each photo is scaled so that its shorter side is ``WORLD_HEIGHT`` (1.25) screen
sides, as tall as a procedural world, and the camera of ``spec.camera`` moves
over it (pan, zoom or shake with ``spec.motion_px``, bilinear sampling). Scenes
start at the cuts of the spec; with several photos and no cuts given, the clip
is split into equal parts, one per photo. Scene ``k`` shows photo ``k mod n``
from a new random viewpoint. Photos carry no labels.
"""
from __future__ import annotations

import numpy as np

from .arrays import check_rgb
from .camera import CameraPath, camera_path, sample_bilinear
from .files import image_files, read_frames
from .resize import resize
from .scenes import STREAM_SCENE, check_seed, cut_frames, scene_starts, stream_rng
from .source import Clip, VideoSource
from .spec import VideoSpec
from .world import WORLD_HEIGHT

__all__ = ["PhotoSource", "photo_source", "read_photos"]

#: smallest photo side accepted, px
MIN_PHOTO_PX = 8


class PhotoSource(VideoSource):
    """Camera paths over ``photos`` for ``spec`` and ``seed`` (see the module docstring);
    ``world_height``: the photos' shorter side in screen sides (more: the view shows less of the
    photo, and a pan travels further before it turns)."""

    def __init__(self, photos: list[np.ndarray], spec: VideoSpec, seed: int, world_height: float = WORLD_HEIGHT):
        self.spec, self.seed = spec, check_seed(seed)
        self.fps, self.resolution, self.num_frames = spec.fps, spec.resolution, spec.num_frames
        side = spec.resolution
        self.photos = []
        for img in photos:
            h, w = img.shape[:2]
            k = world_height * side / min(h, w)
            self.photos.append(resize(img, max(2, int(round(h * k))), max(2, int(round(w * k)))))
        cuts = cut_frames(spec, self.seed)
        if not len(cuts) and len(photos) > 1:
            n = min(len(photos), self.num_frames)
            cuts = (np.arange(1, n) * self.num_frames) // n
        self.cuts = cuts
        self._starts = np.concatenate([scene_starts(cuts), [self.num_frames]])
        self._paths: dict[int, tuple[CameraPath, np.ndarray, np.ndarray]] = {}

    def num_scenes(self) -> int:
        return len(self._starts) - 1

    def _scene(self, k: int) -> tuple[CameraPath, np.ndarray, np.ndarray]:
        if k not in self._paths:
            rng = stream_rng(self.seed, STREAM_SCENE, k)
            camera = self.spec.camera if self.spec.camera != "mixed" else str(rng.choice(["pan", "zoom", "shake"]))
            photo = self.photos[k % len(self.photos)]
            n = int(self._starts[k + 1] - self._starts[k])
            path = camera_path(camera, self.spec.motion_px, n, photo.shape[:2], self.resolution, self.resolution,
                               rng, self.spec.pan_angle_deg)
            if len(self._paths) >= 2:
                self._paths.pop(next(iter(self._paths)))
            self._paths[k] = (path, *path.motion(self.resolution))
        return self._paths[k]

    def clip(self, start: int = 0, stop: int | None = None) -> Clip:
        start, stop = self._span(start, stop)
        k0 = int(np.searchsorted(self._starts, start, side="right") - 1)
        k1 = int(np.searchsorted(self._starts, stop - 1, side="right") - 1)
        rgbs, ids, motions, zooms = [], [], [], []
        for k in range(k0, k1 + 1):
            first = int(self._starts[k])
            t0, t1 = max(start, first) - first, min(stop, int(self._starts[k + 1])) - first
            path, motion, zoom = self._scene(k)
            sub = CameraPath(path.center_xy[t0:t1], path.view_px[t0:t1], path.kind)
            rgbs.append(np.clip(sample_bilinear(self.photos[k % len(self.photos)], sub, self.resolution), 0, 1))
            ids.append(np.full(t1 - t0, k, np.int64))
            motions.append(motion[t0:t1])
            zooms.append(zoom[t0:t1])
        return Clip(np.concatenate(rgbs), None, np.concatenate(ids), np.isin(np.arange(start, stop), self.cuts),
                    np.concatenate(motions), np.concatenate(zooms), self.fps, start)


def _check_photo(img, name: str) -> np.ndarray:
    photo = check_rgb(img, name, ndim=3)
    if min(photo.shape[:2]) < MIN_PHOTO_PX:
        raise ValueError(f"{name} is {photo.shape[0]}x{photo.shape[1]} px; a photo needs sides of at least "
                         f"{MIN_PHOTO_PX} px")
    return photo


def photo_source(image, spec: VideoSpec, seed: int) -> PhotoSource:
    """A camera over photo(s) held in memory.

    Args:
        image: ``[H, W, 3]`` float in [0, 1] or uint8, or a list of such photos.
        spec: camera, motion, cuts, resolution, fps and seconds are taken from it
            (its ``source`` and ``path`` are not used).
        seed: chooses the viewpoints and directions.
    """
    images = list(image) if isinstance(image, (list, tuple)) else [image]
    if not images:
        raise ValueError("image is an empty list; give at least one photo")
    names = ["image"] if len(images) == 1 and not isinstance(image, (list, tuple)) else \
        [f"image[{i}]" for i in range(len(images))]
    return PhotoSource([_check_photo(img, n) for img, n in zip(images, names)], spec, seed)


def read_photos(spec: VideoSpec) -> list[np.ndarray]:
    """The photos at ``spec.path`` (each file's first frame; a directory or pattern gives each image)."""
    p = spec.spec_path
    photos = []
    for i, path in enumerate(spec.paths):
        name = f"{p}.path" if isinstance(spec.path, str) else f"{p}.path[{i}]"
        frames, _ = read_frames(path, max_frames=None if image_files(path) is not None else 1, name=name)
        photos.extend(_check_photo(f, name) for f in frames)
    return photos

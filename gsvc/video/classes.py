"""Semantic classes of gsvc frames and their reference colours.

A class id is the index of its name in :data:`CLASSES`; label maps store ids as
uint8. The procedural street scenes draw every class from a colour distribution
centred on its reference colour (before per-scene lighting), and the heuristic
extractor in :mod:`gsvc.video.segment` assigns pixels to the nearest of them.
The palette loosely follows the Cityscapes colour conventions (blue vehicles,
red pedestrians, green vegetation) so that rendered maps read familiarly.
"""
from __future__ import annotations

import numpy as np

__all__ = ["CLASSES", "NUM_CLASSES", "CLASS_RGB", "class_id", "colorize"]

#: class names; the id of a class is its index
CLASSES: tuple[str, ...] = (
    "sky",
    "building",
    "window",
    "road",
    "lane_marking",
    "sidewalk",
    "vegetation",
    "vehicle",
    "pedestrian",
    "pole",
)
NUM_CLASSES: int = len(CLASSES)

#: reference colour per class: ``[NUM_CLASSES, 3]`` float32 RGB in [0, 1]
CLASS_RGB: np.ndarray = np.array(
    [
        [0.55, 0.72, 0.92],  # sky: light blue
        [0.62, 0.52, 0.44],  # building: desaturated beige / brick
        [0.22, 0.38, 0.46],  # window: dark teal glass
        [0.30, 0.30, 0.32],  # road: asphalt
        [0.95, 0.80, 0.20],  # lane_marking: yellow paint
        [0.70, 0.68, 0.62],  # sidewalk: light paving
        [0.25, 0.48, 0.18],  # vegetation: foliage green
        [0.16, 0.20, 0.62],  # vehicle: saturated blue bodywork
        [0.80, 0.14, 0.24],  # pedestrian: red clothing
        [0.10, 0.10, 0.11],  # pole: near black metal
    ],
    dtype=np.float32,
)
CLASS_RGB.setflags(write=False)


def class_id(name: str) -> int:
    """Id of the class called ``name``; ValueError listing the known names otherwise."""
    try:
        return CLASSES.index(name)
    except ValueError:
        raise ValueError(f"unknown class {name!r}; known classes: {', '.join(CLASSES)}") from None


def colorize(labels: np.ndarray) -> np.ndarray:
    """Label map ``[..., H, W]`` uint8 -> reference-colour image ``[..., H, W, 3]`` float32 (for viewing)."""
    return CLASS_RGB[np.asarray(labels)]

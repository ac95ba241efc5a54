"""The shape of a sector's antenna panel: a leaf the spec, the drop and the beams all read."""
from __future__ import annotations

__all__ = ["panel_shape"]


def panel_shape(elements: int, rows: int, polarization: str) -> tuple[int, int, int]:
    """``(rows, columns, polarisations)`` of a sector's panel of ``elements`` (``cell.bs_rows``,
    ``cell.bs_polarization``): ``elements = rows x columns x polarisations``."""
    pols = 2 if polarization == "dual" else 1
    return rows, elements // (rows * pols), pols

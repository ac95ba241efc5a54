"""Is each stream's user satisfied? The 3GPP rule for the radio, and the viewer's own rule.

3GPP's XR capacity method (TR 38.838 V17.0.0, evaluation methodology: a UE is satisfied when more
than X = 99 % of its packets are delivered within the air-interface packet delay budget; capacity
is the largest number of UEs per cell at which at least Y = 90 % of UEs are satisfied) judges the
radio alone. gsvc judges a stream twice, from its per-frame log:

- ``radio_satisfied``: at least ``capacity.on_time_ratio`` (X) of the frames the sender handed to
  the radio have ``air_delay_ms <= cell.pdb_ms`` (a frame is the PDU set; a lost one fails).
- ``viewer_satisfied``: at least X of all its frames were shown on time (``status == "ok"``: after
  the jitter buffer, the GPU queue and the decode), and its mean quality meets every floor that
  is set (``capacity.min_psnr_db``, ``min_ssim``, ``max_lpips``, ``max_dists``, ``min_vmaf``;
  none set: time only).

A viewer that is not satisfied says why (``fails``): when too few frames were shown on time, what
held most of the missing frames back: ``"radio"`` (lost, over the budget in the air, or dropped
by the sender's congestion control), else whichever end held the frame longer: ``"gpu"`` (the
receiver: queue wait and decode, or shed) or ``"codec"`` (the sender: encoding, or a group codec
holding frames until its group is complete); when enough were on time, ``"quality"`` (below a
floor). Ties go to the radio, then the GPU.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..spec import Spec, bounded

__all__ = ["CapacitySpec", "satisfaction", "satisfaction_summary", "FLOORS", "BINDING"]

#: quality floors: field -> (per-frame column, True where larger is better)
FLOORS = {"min_psnr_db": ("psnr_db", True), "min_ssim": ("ssim", True), "max_lpips": ("lpips", False),
          "max_dists": ("dists", False), "min_vmaf": ("vmaf", True)}
#: what a stream fails on first, in the order checked
BINDING = ("radio", "gpu", "codec", "quality")


class CapacitySpec(Spec):
    """When a stream's user counts as satisfied (:mod:`gsvc.netsim.satisfaction`), and when a cell
    serves its users: at least ``satisfied_ratio`` (Y) of them satisfied (TR 38.838: X = 99 %,
    Y = 90 %). The packet delay budget is ``cell.pdb_ms``."""

    spec_path = "capacity"
    on_time_ratio: float = bounded(0.99, 0.5, 1.0, "", "X: fraction of frames within the delay budget")
    satisfied_ratio: float = bounded(0.9, 0.1, 1.0, "", "Y: fraction of users satisfied for the cell to serve them")
    min_psnr_db: float | None = bounded(None, 0.0, 100.0, "dB", "floor on a stream's mean PSNR")
    min_ssim: float | None = bounded(None, 0.0, 1.0, "", "floor on a stream's mean SSIM")
    max_lpips: float | None = bounded(None, 0.0, 1.0, "", "ceiling on a stream's mean LPIPS")
    max_dists: float | None = bounded(None, 0.0, 1.0, "", "ceiling on a stream's mean DISTS")
    min_vmaf: float | None = bounded(None, 0.0, 100.0, "", "floor on a stream's mean VMAF")

    def floors(self) -> dict[str, float]:
        """The quality floors that are set, by field name."""
        return {k: getattr(self, k) for k in FLOORS if getattr(self, k) is not None}


def satisfaction(frames: pd.DataFrame, pdb_ms: float, spec: CapacitySpec) -> list[dict]:
    """Per stream, in stream order: ``radio_on_time`` and ``viewer_on_time`` (fractions),
    ``radio_satisfied``, ``viewer_satisfied`` (bools) and ``fails`` (``None`` or one of
    :data:`BINDING`). ``frames``: a run's per-frame log."""
    floors = spec.floors()
    out = []
    for _, f in frames.groupby("stream", sort=True):
        sent = f["bytes"].to_numpy() > 0
        air = f["air_delay_ms"].to_numpy()[sent]
        radio = float(np.mean(air <= pdb_ms)) if len(air) else 0.0      # NaN (lost) compares False
        viewer = float(np.mean(f["status"].to_numpy() == "ok")) if len(f) else 0.0
        quality_ok = all(_meets(f, field, value) for field, value in floors.items())
        radio_ok = radio >= spec.on_time_ratio
        viewer_ok = viewer >= spec.on_time_ratio and quality_ok
        fails = None if viewer_ok else _cause(f, pdb_ms) if viewer < spec.on_time_ratio else "quality"
        out.append({"radio_on_time": radio, "viewer_on_time": viewer, "radio_satisfied": radio_ok,
                    "viewer_satisfied": viewer_ok, "fails": fails})
    return out


def _cause(f: pd.DataFrame, pdb_ms: float) -> str:
    """What held back most of the frames of stream table ``f`` that were not shown on time."""
    m = f[f["status"] != "ok"]
    air = m["air_delay_ms"].to_numpy()
    sent = m["bytes"].to_numpy() > 0
    radio = ~(air <= pdb_ms) & (sent | (m["skip_reason"].to_numpy() == "congestion"))
    sender_ms = (m["encode_done_ms"] - m["capture_ms"]).fillna(0.0).to_numpy()
    receiver_ms = (m["queue_wait_ms"].fillna(0.0) + (m["decode_done_ms"] - m["decode_start_ms"]).fillna(0.0)).to_numpy()
    codec = ~radio & (sender_ms > receiver_ms)           # a frame the receiver shed for arriving late too
    counts = {"radio": int(radio.sum()), "codec": int(codec.sum())}
    counts["gpu"] = len(m) - counts["radio"] - counts["codec"]
    return max(("radio", "gpu", "codec"), key=lambda k: counts[k])          # first in order wins a tie


def _meets(f: pd.DataFrame, field: str, floor: float) -> bool:
    column, higher_better = FLOORS[field]
    mean = f[column].mean() if column in f else float("nan")
    if not np.isfinite(mean):
        return False
    return bool(mean >= floor) if higher_better else bool(mean <= floor)


def satisfaction_summary(rows: list[dict]) -> dict:
    """Run-level: ``radio_satisfied_fraction``, ``viewer_satisfied_fraction`` and ``binding`` (what most
    unsatisfied viewers failed on first, ``"none"`` when every viewer is satisfied)."""
    if not rows:
        return {"radio_satisfied_fraction": None, "viewer_satisfied_fraction": None, "binding": None}
    fails = [r["fails"] for r in rows if r["fails"]]
    binding = max(BINDING, key=lambda b: (fails.count(b), -BINDING.index(b))) if fails else "none"
    return {"radio_satisfied_fraction": float(np.mean([r["radio_satisfied"] for r in rows])),
            "viewer_satisfied_fraction": float(np.mean([r["viewer_satisfied"] for r in rows])),
            "binding": binding}

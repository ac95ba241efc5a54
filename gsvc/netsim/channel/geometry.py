"""Mean SNR of a UE in TR 38.901 UMi-Street Canyon or UMa: path loss, LoS, shadowing, noise.

The UE keeps its 2D distance ``distance_m`` from the BS (it moves around it at
``speed_kmh``); its shadow fading evolves along the path with the exponential
autocorrelation of TR 38.901 Sec. 7.6.3.1 (Gudmundson), ``exp(-dx / d_corr)``.
The LoS state is fixed for the trace (drawn from the LoS probability when
``los="auto"``).

Sources (3GPP TR 38.901 v16):
- Table 7.4.1-1: path loss, shadow-fading std, BS heights (UMi 10 m, UMa 25 m),
  UE height 1.5 m, effective environment height h_E = 1 m.
- Table 7.4.2-1: LoS probability (UE height 1.5 m, so UMa's C'(h_UT) = 0).
- Table 7.5-6 Part-1: shadow-fading decorrelation distance and the mean of
  lg(DS/1s), whose 10^mean is used as the delay spread of the small-scale model.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["BS_HEIGHT_M", "UT_HEIGHT_M", "pathloss_db", "los_probability", "shadowing_std_db",
           "shadowing_decorrelation_m", "median_delay_spread_s", "shadowing_db", "noise_power_dbm"]

SPEED_OF_LIGHT_M_S = 299_792_458.0
BS_HEIGHT_M = {"umi": 10.0, "uma": 25.0}
UT_HEIGHT_M = 1.5
_H_E_M = 1.0


def _breakpoint_m(scenario: str, fc_ghz: float) -> float:
    """d'_BP = 4 h'_BS h'_UT f_c / c (Table 7.4.1-1 note 1), m."""
    return 4 * (BS_HEIGHT_M[scenario] - _H_E_M) * (UT_HEIGHT_M - _H_E_M) * fc_ghz * 1e9 / SPEED_OF_LIGHT_M_S


def pathloss_db(scenario: str, d2d_m: float, fc_ghz: float, los: bool) -> float:
    """Path loss, dB (TR 38.901 Table 7.4.1-1), ``scenario`` in {"umi", "uma"}."""
    h_bs, h_ut = BS_HEIGHT_M[scenario], UT_HEIGHT_M
    d3d = math.hypot(d2d_m, h_bs - h_ut)
    d_bp = _breakpoint_m(scenario, fc_ghz)
    lg = math.log10
    if scenario == "umi":
        if d2d_m <= d_bp:
            pl_los = 32.4 + 21 * lg(d3d) + 20 * lg(fc_ghz)
        else:
            pl_los = 32.4 + 40 * lg(d3d) + 20 * lg(fc_ghz) - 9.5 * lg(d_bp ** 2 + (h_bs - h_ut) ** 2)
        if los:
            return pl_los
        return max(pl_los, 35.3 * lg(d3d) + 22.4 + 21.3 * lg(fc_ghz) - 0.3 * (h_ut - 1.5))
    if d2d_m <= d_bp:
        pl_los = 28.0 + 22 * lg(d3d) + 20 * lg(fc_ghz)
    else:
        pl_los = 28.0 + 40 * lg(d3d) + 20 * lg(fc_ghz) - 9 * lg(d_bp ** 2 + (h_bs - h_ut) ** 2)
    if los:
        return pl_los
    return max(pl_los, 13.54 + 39.08 * lg(d3d) + 20 * lg(fc_ghz) - 0.6 * (h_ut - 1.5))


def los_probability(scenario: str, d2d_m: float) -> float:
    """LoS probability (TR 38.901 Table 7.4.2-1, UE at 1.5 m)."""
    if d2d_m <= 18.0:
        return 1.0
    d_decay = 36.0 if scenario == "umi" else 63.0
    return 18.0 / d2d_m + math.exp(-d2d_m / d_decay) * (1 - 18.0 / d2d_m)


def shadowing_std_db(scenario: str, los: bool) -> float:
    """Shadow-fading standard deviation, dB (Table 7.4.1-1)."""
    if los:
        return 4.0
    return 7.82 if scenario == "umi" else 6.0


def shadowing_decorrelation_m(scenario: str, los: bool) -> float:
    """Shadow-fading decorrelation distance, m (Table 7.5-6 Part-1)."""
    return {("umi", True): 10.0, ("umi", False): 13.0, ("uma", True): 37.0, ("uma", False): 50.0}[(scenario, los)]


def median_delay_spread_s(scenario: str, fc_ghz: float, los: bool) -> float:
    """10^mu_lgDS, s (Table 7.5-6 Part-1; f_c floored at 2 GHz for UMi, 6 GHz for UMa)."""
    if scenario == "umi":
        f = max(fc_ghz, 2.0)
        mu = -0.24 * math.log10(1 + f) + (-7.14 if los else -6.83)
    else:
        f = max(fc_ghz, 6.0)
        mu = (-6.955 - 0.0963 * math.log10(f)) if los else (-6.28 - 0.204 * math.log10(f))
    return 10.0 ** mu


def shadowing_db(num_slots: int, slot_s: float, speed_mps: float, std_db: float, decorrelation_m: float,
                 rng: np.random.Generator) -> np.ndarray:
    """Shadow fading along the UE path, ``[num_slots]`` float64, dB.

    A first-order autoregression with correlation ``exp(-v * slot / d_corr)`` per
    slot, started in its stationary distribution.
    """
    from scipy.signal import lfilter

    z = rng.standard_normal(num_slots)
    if speed_mps <= 0:
        return np.full(num_slots, std_db * z[0])
    rho = math.exp(-speed_mps * slot_s / decorrelation_m)
    z[1:] *= math.sqrt(1.0 - rho * rho)                   # innovations; z[0] ~ N(0, 1) is the start
    return std_db * lfilter([1.0], [1.0, -rho], z)        # x[i] = rho x[i-1] + z[i]


def noise_power_dbm(bandwidth_hz: float, noise_figure_db: float) -> float:
    """Thermal noise -174 dBm/Hz + NF + 10 lg(B), dBm."""
    return -174.0 + noise_figure_db + 10.0 * math.log10(bandwidth_hz)

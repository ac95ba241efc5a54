"""Time-varying multipath channels as sums of complex sinusoids, sampled at slot rate.

Sionna's TR 38.901 TDL and CDL models are both sums of complex sinusoids: every
path ``l`` of the channel impulse response, at receive antenna ``r``, is

    a[r, l](t) = sum_n gain[r, l, n] * exp(1j * omega_rad_s[l, n] * t)

(TDL: the sum-of-sinusoids Rayleigh/Rice taps; CDL: the rays of each cluster with
their Doppler shifts, TR 38.901 eq. 7.5-22). :mod:`.sources` draws ``gain`` and
``omega_rad_s`` from Sionna's models; this module evaluates the OFDM frequency
response of many slots at once:

    H[t, r, k] = sum_l a[r, l](t) * exp(-2j*pi*f_k*tau_l)

Sionna's own ``__call__`` always starts at t = 0 and materialises
``[paths, time, sinusoids]``, which neither fits in memory for a ten-minute
trace nor continues across chunks. Here time is split as
``t = t0 + (b*S + s) * dt`` so that ``exp(1j*w*t)`` factorises into an outer
product, and the sum over sinusoids becomes one batched matrix product per path
(speed trick: GEMM instead of ``[T, L, N]`` transcendental calls). The block
phase ``w * (t0 + b*S*dt)`` is formed in float64, so phases stay exact for hours
of simulated time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["SumOfSinusoids", "frequency_response"]

#: inner block length S of the time factorisation, slots
_INNER = 256


@dataclass(frozen=True)
class SumOfSinusoids:
    """One drawn realisation of a multipath channel (see module docstring).

    Attributes:
        gain: ``[num_rx_ant, num_paths, num_sinusoids]`` complex128, amplitude and phase
            at t = 0; the mean power summed over paths and sinusoids is 1 per antenna.
        omega_rad_s: ``[num_paths, num_sinusoids]`` float64, radian Doppler frequency, rad/s.
        delays_s: ``[num_paths]`` float64, path delays, s.
    """

    gain: np.ndarray
    omega_rad_s: np.ndarray
    delays_s: np.ndarray

    def __post_init__(self) -> None:
        r, l, n = self.gain.shape
        if self.omega_rad_s.shape != (l, n) or self.delays_s.shape != (l,):
            raise ValueError(f"SumOfSinusoids shapes disagree: gain {self.gain.shape}, "
                             f"omega {self.omega_rad_s.shape}, delays {self.delays_s.shape}")

    @property
    def num_rx_ant(self) -> int:
        return self.gain.shape[0]


def frequency_response(sos: SumOfSinusoids, freqs_hz: np.ndarray, t0_s: float, dt_s: float,
                       num_steps: int) -> torch.Tensor:
    """OFDM channel frequency response at ``num_steps`` instants ``t0_s + i * dt_s``.

    Args:
        sos: the channel.
        freqs_hz: ``[num_freq]`` float64, baseband frequencies (offsets from the carrier), Hz.
        t0_s, dt_s: first instant and spacing, s.
        num_steps: number of instants.

    Returns:
        ``h: [num_steps, num_rx_ant, num_freq]`` complex64.
    """
    r, l, n = sos.gain.shape
    s_len = min(_INNER, num_steps)
    b_len = math.ceil(num_steps / s_len)
    omega = sos.omega_rad_s                                            # [L, N] float64
    t_block = t0_s + np.arange(b_len) * (s_len * dt_s)                 # [B] float64
    # e1[l, b, r, n] = gain[r, l, n] * exp(j w[l, n] t_block[b]), in float64, then complex64
    e1 = np.exp(1j * omega[:, None, :] * t_block[None, :, None])       # [L, B, N]
    x = e1[:, :, None, :] * np.transpose(sos.gain, (1, 0, 2))[:, None, :, :]   # [L, B, R, N]
    x = torch.from_numpy(x.reshape(l, b_len * r, n).astype(np.complex64))
    # e2[l, n, s] = exp(j w[l, n] s dt)
    e2 = np.exp(1j * omega[:, :, None] * (np.arange(s_len) * dt_s)[None, None, :])   # [L, N, S]
    e2 = torch.from_numpy(e2.astype(np.complex64))
    a = torch.bmm(x, e2)                                               # [L, B*R, S]
    a = a.reshape(l, b_len, r, s_len).permute(1, 3, 2, 0)              # [B, S, R, L]
    a = a.reshape(b_len * s_len, r, l)[:num_steps]                     # [T, R, L]
    f = np.exp(-2j * np.pi * np.outer(sos.delays_s, freqs_hz))         # [L, K]
    f = torch.from_numpy(f.astype(np.complex64))
    return torch.matmul(a, f)                                          # [T, R, K]

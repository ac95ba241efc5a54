"""Draw one channel realisation from Sionna's TR 38.901 models as a :class:`SumOfSinusoids`.

- :func:`tdl_sos`: Sionna ``TDL`` (TR 38.901 Sec. 7.7.2). The random variables are
  drawn exactly as ``TDL.__call__`` draws them for ``batch_size=1`` (same shapes,
  same order, same generator), so the channel equals Sionna's output sample for
  sample; only the evaluation over time differs (:mod:`.fading`).
- :func:`rayleigh_sos`: flat Rayleigh fading, the one-tap case of the same
  sum-of-sinusoids generator (Jakes Doppler spectrum).
- :func:`cdl_sos`: Sionna ``CDL`` (TR 38.901 Sec. 7.7.1) with omni, vertically
  polarised single-element BS and a 1 x ``num_rx_ant`` UE array at half-wavelength
  spacing; the UE moves horizontally in a random direction. The per-ray gains come
  from Sionna's channel-coefficient generator evaluated at t = 0 and the per-ray
  Doppler from TR 38.901 eq. 7.5-22, so the result again equals Sionna's CIR.

Every draw uses the ``torch.Generator`` passed in, never Sionna's global one.
Sionna is imported inside the functions (importing it takes seconds).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .fading import SumOfSinusoids

__all__ = ["tdl_sos", "rayleigh_sos", "cdl_sos", "SPEED_OF_LIGHT_M_S"]

SPEED_OF_LIGHT_M_S = 299_792_458.0
#: sinusoids per tap of Sionna's TDL sum-of-sinusoids model (its default)
NUM_SINUSOIDS = 20
#: LoS angle of arrival of Sionna's TDL (TR 38.901 Sec. 7.7.2: Doppler peak at 0.7 f_D)
LOS_AOA_RAD = float(np.arccos(0.7))


def _draw_sos(mean_powers: np.ndarray, delays_s: np.ndarray, los_power: float | None,
              max_doppler_rad_s: float, num_rx_ant: int, gen: torch.Generator) -> SumOfSinusoids:
    """The random part of Sionna's ``TDL.__call__`` (batch 1), in its order of draws.

    ``mean_powers``: ``[L]`` NLoS tap powers; ``los_power``: specular power of tap 0
    (LoS models) or ``None``; powers sum to 1 with the specular part.
    """
    from sionna.phy.utils import rand

    l, n = len(mean_powers), NUM_SINUSOIDS
    f32 = torch.float32
    # Sionna draws a Doppler for the link even when min_speed == max_speed
    doppler = rand((1,) * 8, dtype=f32, device="cpu", generator=gen) * 0.0 + max_doppler_rad_s
    theta = rand((1, 1, 1, 1, 1, l, 1, n), dtype=f32, device="cpu", generator=gen) * (2 * math.pi / n) - math.pi / n
    alpha_const = 2.0 * math.pi / n * torch.arange(1.0, n + 1, 1.0, dtype=f32)
    alpha = alpha_const + theta
    phi = rand((1, 1, num_rx_ant, 1, 1, l, 1, n), dtype=f32, device="cpu", generator=gen) * 2 * math.pi - math.pi
    omega = (doppler.double() * torch.cos(alpha).double()).reshape(l, n).numpy()          # [L, N]
    gain = (np.sqrt(mean_powers / n)[None, :, None]
            * np.exp(1j * phi.double().reshape(num_rx_ant, l, n).numpy()))              # [R, L, N]
    if los_power is not None:
        phi_0 = rand((1,) * 7, dtype=f32, device="cpu", generator=gen) * 2 * math.pi - math.pi
        spec_gain = np.zeros((num_rx_ant, l, 1), complex)
        spec_gain[:, 0, 0] = math.sqrt(los_power) * np.exp(1j * float(phi_0))
        spec_omega = np.zeros((l, 1))
        spec_omega[0, 0] = float(doppler) * math.cos(float(torch.tensor(LOS_AOA_RAD, dtype=f32)))
        gain = np.concatenate([gain, spec_gain], axis=2)
        omega = np.concatenate([omega, spec_omega], axis=1)
    return SumOfSinusoids(gain=gain, omega_rad_s=omega, delays_s=np.asarray(delays_s, np.float64))


def _doppler_rad_s(speed_mps: float, carrier_hz: float) -> float:
    """Maximum radian Doppler frequency 2 pi v f_c / c, rad/s (float32, as Sionna computes it)."""
    return float(torch.tensor(2.0 * math.pi * speed_mps / SPEED_OF_LIGHT_M_S * carrier_hz, dtype=torch.float32))


def tdl_sos(letter: str, delay_spread_s: float, carrier_hz: float, speed_mps: float,
            num_rx_ant: int, gen: torch.Generator) -> SumOfSinusoids:
    """One TR 38.901 TDL-``letter`` realisation (letter in A..E); see module docstring."""
    from sionna.phy.channel.tr38901 import TDL

    tdl = TDL(letter, delay_spread=delay_spread_s, carrier_frequency=carrier_hz, min_speed=speed_mps,
              max_speed=speed_mps, num_rx_ant=num_rx_ant, precision="single", device="cpu")
    powers = tdl.mean_powers.double().numpy().copy()       # LoS power folded into tap 0
    los_power = None
    if tdl.los:
        los_power = float(tdl.mean_power_los)
        powers[0] -= los_power
    return _draw_sos(powers, tdl.delays.double().numpy(), los_power,
                     _doppler_rad_s(speed_mps, carrier_hz), num_rx_ant, gen)


def rayleigh_sos(carrier_hz: float, speed_mps: float, num_rx_ant: int, gen: torch.Generator) -> SumOfSinusoids:
    """Flat Rayleigh fading: one tap of power 1, 20 sinusoids (Jakes spectrum)."""
    return _draw_sos(np.ones(1), np.zeros(1), None, _doppler_rad_s(speed_mps, carrier_hz), num_rx_ant, gen)


def _with_generator(block, gen: torch.Generator):
    """Make a Sionna block draw from ``gen`` instead of Sionna's global generator."""
    cls = type(block)
    block.__class__ = type(cls.__name__, (cls,), {"torch_rng": property(lambda self: gen)})
    return block


def cdl_sos(letter: str, delay_spread_s: float, carrier_hz: float, speed_mps: float,
            num_rx_ant: int, gen: torch.Generator) -> SumOfSinusoids:
    """One TR 38.901 CDL-``letter`` realisation (letter in A..E); see module docstring."""
    direction_rad = float(torch.rand((), dtype=torch.float64, generator=gen)) * 2 * math.pi
    velocity = torch.tensor([speed_mps * math.cos(direction_rad), speed_mps * math.sin(direction_rad), 0.0],
                            dtype=torch.float32)
    cdl = make_cdl(letter, delay_spread_s, carrier_hz, velocity, num_rx_ant)
    _with_generator(cdl, gen)
    cir = _with_generator(cdl._cir_gen, gen)
    # the steps of CDL.__call__ (batch 1), then Sionna's coefficient generator at t = 0
    topology = cdl._create_topology(1, cdl._get_velocity(1))
    rays = cdl._create_rays(1)
    k_factor = float(cdl._get_k_factor(1).reshape(()))
    phi = cir._step_10(rays.aoa.shape)
    t0 = torch.zeros(1, dtype=torch.float32)
    h_rays = cir._step_11_nlos(phi, topology, rays, t0)               # [1, 1, 1, C, M, R, 1, 1]
    c, m = h_rays.shape[3], h_rays.shape[4]
    gain = h_rays.reshape(c, m, num_rx_ant).permute(2, 0, 1).to(torch.complex128).numpy()   # [R, C, M]
    lambda_m = SPEED_OF_LIGHT_M_S / carrier_hz
    v = velocity.double().numpy()
    # TR 38.901 eq. 7.5-22: Doppler of ray (c, m) is r_rx(c, m) . v / lambda
    r_hat = cir._unit_sphere_vector(rays.zoa, rays.aoa).reshape(c, m, 3).double().numpy()
    omega = 2 * math.pi / lambda_m * (r_hat @ v)                      # [C, M]
    delays = rays.delays.reshape(c).double().numpy()
    order = np.argsort(delays, kind="stable")
    gain, omega, delays = gain[:, order], omega[order], delays[order]
    gain = gain * math.sqrt(1.0 / (k_factor + 1.0))
    if k_factor > 0:
        h_los = cir._step_11_los(topology, t0).reshape(num_rx_ant).to(torch.complex128).numpy()   # [R]
        r_los = cir._unit_sphere_vector(topology.los_zoa, topology.los_aoa).reshape(3).double().numpy()
        spec_gain = np.zeros((num_rx_ant, c, 1), complex)
        spec_gain[:, 0, 0] = h_los * math.sqrt(k_factor / (k_factor + 1.0))
        spec_omega = np.zeros((c, 1))
        spec_omega[0, 0] = 2 * math.pi / lambda_m * float(r_los @ v)
        gain = np.concatenate([gain, spec_gain], axis=2)
        omega = np.concatenate([omega, spec_omega], axis=1)
    return SumOfSinusoids(gain=gain, omega_rad_s=omega, delays_s=delays)


def make_cdl(letter: str, delay_spread_s: float, carrier_hz: float, velocity: torch.Tensor, num_rx_ant: int):
    """Sionna ``CDL`` with the antenna setup described in the module docstring (downlink)."""
    from sionna.phy.channel.tr38901 import CDL, AntennaArray

    ut = AntennaArray(num_rows=1, num_cols=num_rx_ant, polarization="single", polarization_type="V",
                      antenna_pattern="omni", carrier_frequency=carrier_hz, precision="single", device="cpu")
    bs = AntennaArray(num_rows=1, num_cols=1, polarization="single", polarization_type="V",
                      antenna_pattern="omni", carrier_frequency=carrier_hz, precision="single", device="cpu")
    return CDL(letter, delay_spread_s, carrier_hz, ut_array=ut, bs_array=bs, direction="downlink",
               ut_velocity=velocity, precision="single", device="cpu")

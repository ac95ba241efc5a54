"""Fading: the slot-rate evaluator reproduces Sionna's TDL/CDL channels and their Doppler."""
import math

import numpy as np
import pytest
import torch

from gsvc.netsim.channel.fading import frequency_response
from gsvc.netsim.channel.sources import cdl_sos, make_cdl, rayleigh_sos, tdl_sos

FS_HZ = 2000.0                                   # one sample per 0.5 ms slot
FREQS_HZ = np.array([-3.6e6, 0.0, 1.08e6])


def _sionna_response(h, tau):
    """Frequency response of a Sionna CIR h [1,1,R,1,1,L,T], tau [1,1,1,L] -> [T, R, K] complex128."""
    phase = torch.exp(-2j * math.pi * torch.outer(tau[0, 0, 0].double(), torch.tensor(FREQS_HZ)))
    return torch.einsum("rlt,lk->trk", h[0, 0, :, 0, 0].to(torch.complex128), phase)


class _GlobalRng:
    """Run Sionna's own blocks from a given generator state, then restore Sionna's global generator."""

    def __init__(self, state):
        from sionna.phy import config
        self.rng, self.state = config.torch_rng("cpu"), state

    def __enter__(self):
        self.saved = self.rng.get_state()
        self.rng.set_state(self.state)

    def __exit__(self, *exc):
        self.rng.set_state(self.saved)


@pytest.mark.parametrize("letter, num_rx_ant", [("C", 1), ("D", 2)])
def test_tdl_realisation_equals_sionna_tdl_output(letter, num_rx_ant):
    from sionna.phy.channel.tr38901 import TDL
    gen = torch.Generator().manual_seed(11)
    state = gen.get_state()
    sos = tdl_sos(letter, 100e-9, 3.5e9, 30 / 3.6, num_rx_ant, gen)
    with _GlobalRng(state):
        h, tau = TDL(letter, delay_spread=100e-9, carrier_frequency=3.5e9, min_speed=30 / 3.6,
                     max_speed=30 / 3.6, num_rx_ant=num_rx_ant, precision="single", device="cpu")(1, 400, FS_HZ)
    ref = _sionna_response(h, tau)
    ours = frequency_response(sos, FREQS_HZ, 0.0, 1 / FS_HZ, 400).to(torch.complex128)
    assert (ours - ref).abs().max() < 1e-4


@pytest.mark.parametrize("letter, num_rx_ant", [("A", 1), ("E", 2)])
def test_cdl_realisation_equals_sionna_cdl_output(letter, num_rx_ant):
    gen = torch.Generator().manual_seed(5)
    sos = cdl_sos(letter, 100e-9, 3.5e9, 30 / 3.6, num_rx_ant, gen)
    replay = torch.Generator().manual_seed(5)
    direction = float(torch.rand((), dtype=torch.float64, generator=replay)) * 2 * math.pi
    velocity = torch.tensor([30 / 3.6 * math.cos(direction), 30 / 3.6 * math.sin(direction), 0.0])
    with _GlobalRng(replay.get_state()):
        h, tau = make_cdl(letter, 100e-9, 3.5e9, velocity, num_rx_ant)(1, 400, FS_HZ)
    ours = frequency_response(sos, FREQS_HZ, 0.0, 1 / FS_HZ, 400).to(torch.complex128)
    assert (ours - _sionna_response(h, tau)).abs().max() < 1e-4


def test_chunks_continue_the_same_channel():
    sos = tdl_sos("C", 300e-9, 3.5e9, 60 / 3.6, 1, torch.Generator().manual_seed(2))
    whole = frequency_response(sos, FREQS_HZ, 0.0, 5e-4, 1000)
    parts = torch.cat([frequency_response(sos, FREQS_HZ, 0.0, 5e-4, 333),
                       frequency_response(sos, FREQS_HZ, 333 * 5e-4, 5e-4, 667)])
    assert (whole - parts).abs().max() < 1e-5


def test_channel_power_is_normalised():
    sos = tdl_sos("A", 100e-9, 3.5e9, 120 / 3.6, 2, torch.Generator().manual_seed(3))
    h = frequency_response(sos, np.linspace(-4e6, 4e6, 12), 0.0, 5e-4, 40_000)
    assert float((h.abs() ** 2).mean()) == pytest.approx(1.0, rel=0.15)


def _half_power_lag_s(speed_kmh: float, seed: int, dt_s: float = 1e-4) -> float:
    """Lag at which the autocorrelation of |h|^2 of flat Rayleigh fading first drops below 0.5."""
    sos = rayleigh_sos(3.5e9, speed_kmh / 3.6, 1, torch.Generator().manual_seed(seed))
    p = (frequency_response(sos, np.zeros(1), 0.0, dt_s, 60_000).abs() ** 2).reshape(-1).double().numpy()
    p = p - p.mean()
    acf = np.correlate(p, p[:40_000], "valid") / np.dot(p[:40_000], p[:40_000])     # acf[k], k = 0..20000
    assert np.any(acf < 0.5)
    return float(np.argmax(acf < 0.5)) * dt_s


@pytest.mark.parametrize("speed_kmh", [3.0, 30.0])
def test_rayleigh_coherence_time_follows_clarke(speed_kmh):
    f_d = speed_kmh / 3.6 * 3.5e9 / 299_792_458.0
    # |h|^2 of Clarke's model has autocorrelation J0(2 pi f_d tau)^2, which is 0.5 at 2 pi f_d tau = 1.126
    expected = 1.126 / (2 * math.pi * f_d)
    lags = [_half_power_lag_s(speed_kmh, s) for s in range(4)]
    assert np.median(lags) == pytest.approx(expected, rel=0.25)

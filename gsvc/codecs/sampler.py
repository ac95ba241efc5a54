"""The one sampler every diffusion codec uses.

A codec differs from another only in *where the loop starts* and *what it is
conditioned on*:

* from pure noise (``start=None``, ``strength=1``) over ``steps`` steps (``full``, ``oneshot``);
* from a reference image noised to ``strength`` in (0, 1]: only the last
  ``k = ceil(strength * steps)`` steps run (``cvsc``);
* from a cached intermediate sample ``(index, x_t)`` of an earlier run (``reuse``).

With ``keep=True`` every intermediate sample is returned, for codecs that cache them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["SampleResult", "sample", "start_index"]


@dataclass
class SampleResult:
    """``x0``: ``[B, C, h, w]`` in model space (an image in [-1, 1] for the shipped model, a latent
    for a latent back-end); ``evals``: denoiser evaluations run; ``timesteps``: the schedule used;
    ``samples``: ``{index: x_t}`` before each step (if kept)."""

    x0: object
    evals: int
    timesteps: list[int]
    samples: dict[int, object] = field(default_factory=dict)


def start_index(steps: int, strength: float) -> int:
    """Index in a ``steps``-step schedule where a sample noised to ``strength`` enters."""
    k = max(1, min(steps, math.ceil(strength * steps - 1e-9)))
    return steps - k


def sample(denoiser, cond, steps: int, *, start=None, strength: float = 1.0, cached=None, generator=None,
           sampler: str = "ddim", keep: bool = False, **renamed) -> SampleResult:
    """Run the denoising loop.

    Args:
        denoiser: a :class:`gsvc.codecs.backends.Denoiser` (the shipped model or a latent back-end).
        cond: what its :meth:`~gsvc.codecs.backends.Denoiser.condition` returned.
        steps: length of the full schedule.
        start: ``[B, C, h, w]`` model-space reference to noise to ``strength`` (None: pure noise).
        cached: ``(index, x_t)`` to resume from an intermediate sample instead.
        generator: ``torch.Generator`` for the noise (the run's own).
        sampler: ``codec.sampler``, the solver (``"ddim"``, ``"dpm"``); the back-end's
            ``make_scheduler`` builds it (a diffusers scheduler) on its noise schedule.
    """
    import torch

    if "scheduler" in renamed:
        raise TypeError("sample(scheduler=...) was renamed sample(sampler=...): codec.sampler, the solver")
    if renamed:
        raise TypeError(f"sample() got unexpected keyword arguments {sorted(renamed)}")
    sched = denoiser.make_scheduler(sampler)
    sched.set_timesteps(steps)
    ts = sched.timesteps
    noise = torch.randn(denoiser.noise_shape(cond), generator=generator).to(denoiser.device)
    if cached is not None:
        i0, x = cached
    elif start is None or strength >= 1.0:
        i0, x = 0, noise * sched.init_noise_sigma
    else:
        i0 = start_index(steps, strength)
        x = sched.add_noise(start, noise, ts[i0:i0 + 1])
    samples = {}
    with torch.no_grad():
        for i in range(i0, len(ts)):
            if keep:
                samples[i] = x
            out = denoiser.predict(sched.scale_model_input(x, ts[i]), ts[i], cond)
            x = sched.step(out, ts[i], x).prev_sample
    return SampleResult(x, len(ts) - i0, [int(t) for t in ts], samples)

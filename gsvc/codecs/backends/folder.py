"""The diffusers pipeline folder of a latent back-end (``codec.model="path/to/folder"``).

Layout (each component as written by diffusers' ``save_pretrained(safe_serialization=True)``)::

    unet/          UNet2DConditionModel       config.json + *.safetensors
    vae/           AutoencoderKL or AutoencoderTiny (from config.json's "_class_name")
    scheduler/     scheduler_config.json      the noise schedule (betas, prediction type, spacing)
    controlnet/    ControlNetModel            optional: fed the frame's semantic or structure map
    prompt_embeds.safetensors                 key "prompt_embeds", [1, tokens, cross_attention_dim]
      or text_encoder/ + tokenizer/           with codec.prompt (needs the transformers package)

:func:`check_folder` reads only the JSON configs and the safetensors headers, so a scenario
is refused before anything runs; :func:`load_components` loads the weights, from safetensors
only and from this folder only (nothing is downloaded).
"""
from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FolderLayout", "check_folder", "load_components", "MAX_SIDE_PX", "VAE_CLASSES"]

#: the largest frame side (px) a latent back-end is offered at
MAX_SIDE_PX = 1024
#: autoencoders a folder's vae/ may hold
VAE_CLASSES = ("AutoencoderKL", "AutoencoderTiny")

_WHAT = {
    "unet": "unet/ (a UNet2DConditionModel saved with save_pretrained)",
    "vae": "vae/ (an AutoencoderKL or AutoencoderTiny saved with save_pretrained)",
    "scheduler": "scheduler/ (a scheduler_config.json saved by a diffusers scheduler's save_pretrained)",
    "controlnet": "controlnet/ weights (a ControlNetModel saved with save_pretrained)",
}


@dataclass(frozen=True)
class FolderLayout:
    """What :func:`check_folder` found.

    ``vae_class``: one of :data:`VAE_CLASSES`; ``scale_factor``: image px per latent px;
    ``latent_channels``; ``multiple_px``: frame sides must be multiples of it (VAE factor x
    the UNet's total downsampling); ``prompt_source``: ``"prompt_embeds"`` or ``"text_encoder"``.
    """

    root: Path
    vae_class: str
    scale_factor: int
    latent_channels: int
    multiple_px: int
    cross_attention_dim: int
    has_controlnet: bool
    prompt_source: str

    @property
    def resolutions_px(self) -> tuple[int, ...]:
        """Multiples of ``multiple_px`` from 32 (the smallest ``video.resolution``) to :data:`MAX_SIDE_PX`."""
        return tuple(s for s in range(self.multiple_px, MAX_SIDE_PX + 1, self.multiple_px) if s >= 32)


def _err(model: str, text: str) -> ValueError:
    return ValueError(f"codec.model={model!r} {text}")


def _config(model: str, root: Path, part: str, name: str = "config.json") -> dict:
    path = root / part / name
    if not path.is_file():
        raise _err(model, f"has no {_WHAT[part]}: {path} is missing")
    try:
        return json.loads(path.read_text())
    except ValueError as e:
        raise _err(model, f"has an unreadable {part}/{name} ({e})") from None


def _weights(model: str, root: Path, part: str) -> None:
    if not any((root / part).glob("*.safetensors")):
        raise _err(model, f"has no safetensors weights in {part}/ (weights are loaded from safetensors only; "
                          "save with save_pretrained(safe_serialization=True))")


def vae_factor(cfg: dict) -> int:
    """Image px per latent px of the VAE whose ``vae/config.json`` is ``cfg``."""
    if cfg.get("_class_name") == "AutoencoderTiny":  # one stride-2 block after the first, per encoder block
        return 2 ** (len(cfg.get("encoder_block_out_channels", (64,) * 4)) - 1)
    return 2 ** (len(cfg.get("block_out_channels", (64,))) - 1)


def _prompt_source(model: str, root: Path, prompt: str | None, dim: int) -> str:
    if prompt is not None:
        for part in ("text_encoder", "tokenizer"):
            if not (root / part).is_dir():
                raise _err(model, f"has no {part}/ to encode codec.prompt={prompt!r} with; give a folder with "
                                  "text_encoder/ and tokenizer/, or unset codec.prompt and save the embedding as "
                                  "prompt_embeds.safetensors")
        if importlib.util.find_spec("transformers") is None:
            raise _err(model, f"encodes codec.prompt={prompt!r} with its text_encoder/, which needs the "
                              "'transformers' package (not installed); install it, or unset codec.prompt and save "
                              "the embedding as prompt_embeds.safetensors (key 'prompt_embeds')")
        return "text_encoder"
    path = root / "prompt_embeds.safetensors"
    if not path.is_file():
        raise _err(model, "has no prompt_embeds.safetensors (key 'prompt_embeds', shape [1, tokens, "
                          f"{dim}]) and codec.prompt is unset; save the embedding there, or give codec.prompt "
                          "with a folder that has text_encoder/ and tokenizer/")
    from safetensors import safe_open
    with safe_open(str(path), "pt") as f:
        if "prompt_embeds" not in f.keys():
            raise _err(model, f"prompt_embeds.safetensors has no key 'prompt_embeds' (keys: {', '.join(f.keys())})")
        shape = tuple(f.get_slice("prompt_embeds").get_shape())
    if len(shape) != 3 or shape[0] != 1 or shape[2] != dim:
        raise _err(model, f"prompt_embeds.safetensors holds shape {list(shape)}; the UNet needs "
                          f"[1, tokens, {dim}] (its cross_attention_dim)")
    return "prompt_embeds"


def check_folder(model: str, prompt: str | None = None) -> FolderLayout:
    """The layout of the folder ``codec.model`` names, from its configs (no weights are read).

    Raises ValueError naming ``codec.model`` and the missing or wrong part.
    """
    root = Path(model).expanduser()
    if not root.is_dir():
        raise _err(model, "is neither 'shipped' nor a folder; give 'shipped' or the path of a diffusers pipeline "
                          "folder (unet/, vae/, scheduler/, prompt_embeds.safetensors)")
    unet = _config(model, root, "unet")
    _weights(model, root, "unet")
    if unet.get("_class_name", "UNet2DConditionModel") != "UNet2DConditionModel":
        raise _err(model, f"unet/ holds a {unet['_class_name']}; a latent back-end needs a UNet2DConditionModel")
    vae = _config(model, root, "vae")
    _weights(model, root, "vae")
    if vae.get("_class_name") not in VAE_CLASSES:
        raise _err(model, f"vae/ holds a {vae.get('_class_name')!r}; give one of {', '.join(VAE_CLASSES)}")
    _config(model, root, "scheduler", "scheduler_config.json")
    has_cn = (root / "controlnet").is_dir()
    if has_cn:
        _config(model, root, "controlnet")
        _weights(model, root, "controlnet")
    factor = vae_factor(vae)
    latent_ch = int(vae.get("latent_channels", 4))
    if int(unet.get("in_channels", 4)) != latent_ch:
        raise _err(model, f"unet/ takes {unet.get('in_channels')} channels but vae/ makes {latent_ch}")
    dim = unet.get("cross_attention_dim", 1280)
    dim = int(dim[0] if isinstance(dim, (list, tuple)) else dim)
    down = len(unet.get("down_block_types", ("DownBlock2D",) * 4))
    return FolderLayout(root=root, vae_class=vae["_class_name"], scale_factor=factor, latent_channels=latent_ch,
                        multiple_px=factor * 2 ** (down - 1), cross_attention_dim=dim, has_controlnet=has_cn,
                        prompt_source=_prompt_source(model, root, prompt, dim))


def _scheduler_config(root: Path) -> tuple[dict, str]:
    """The noise schedule from scheduler/: loaded with the diffusers scheduler class its config names
    (``SchedulerMixin.from_pretrained``), or read as DDIM's where diffusers has no such class."""
    import diffusers
    from diffusers import DDIMScheduler, SchedulerMixin
    name = json.loads((root / "scheduler" / "scheduler_config.json").read_text()).get("_class_name", "DDIMScheduler")
    cls = getattr(diffusers, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, SchedulerMixin)):
        cls, name = DDIMScheduler, f"{name} (unknown to diffusers {diffusers.__version__}; read as DDIMScheduler)"
    sched = cls.from_pretrained(str(root), subfolder="scheduler", local_files_only=True)
    return dict(sched.config), str(name)


def _prompt_embeds(root: Path, model: str, prompt: str | None, source: str):
    """``[1, tokens, cross_attention_dim]`` float32: the saved embedding, or ``prompt`` through text_encoder/."""
    import torch
    if source == "prompt_embeds":
        from safetensors.torch import load_file
        return load_file(str(root / "prompt_embeds.safetensors"))["prompt_embeds"].to(torch.float32)
    try:
        import transformers
    except ImportError:
        raise _err(model, f"encodes codec.prompt={prompt!r} with its text_encoder/, which needs the 'transformers' "
                          "package (not installed); install it or save prompt_embeds.safetensors") from None
    tok = transformers.AutoTokenizer.from_pretrained(str(root / "tokenizer"), local_files_only=True)
    arch = json.loads((root / "text_encoder" / "config.json").read_text()).get("architectures", ["CLIPTextModel"])[0]
    enc_cls = getattr(transformers, arch, transformers.CLIPTextModel)
    enc = enc_cls.from_pretrained(str(root / "text_encoder"), local_files_only=True, use_safetensors=True).eval()
    ids = tok(prompt, padding="max_length", max_length=tok.model_max_length, truncation=True,
              return_tensors="pt").input_ids
    with torch.no_grad():
        return enc(ids)[0].to(torch.float32)


def load_components(model: str, prompt: str | None = None, device: str = "cpu") -> dict:
    """Load every part of the folder (safetensors only, local files only), in eval mode on ``device``.

    Returns ``layout`` (:class:`FolderLayout`), ``unet``, ``vae``, ``controlnet`` (or None),
    ``scheduler_config`` (dict), ``scheduler_class`` (str) and ``prompt_embeds``
    ``[1, tokens, cross_attention_dim]`` float32.
    """
    import diffusers
    from diffusers import ControlNetModel, UNet2DConditionModel
    layout = check_folder(model, prompt)
    root = layout.root
    kw = dict(use_safetensors=True, local_files_only=True, low_cpu_mem_usage=False)  # no accelerate needed
    unet = UNet2DConditionModel.from_pretrained(str(root / "unet"), **kw).to(device).eval()
    vae = getattr(diffusers, layout.vae_class).from_pretrained(str(root / "vae"), **kw).to(device).eval()
    cn = ControlNetModel.from_pretrained(str(root / "controlnet"), **kw).to(device).eval() \
        if layout.has_controlnet else None
    sched_cfg, sched_cls = _scheduler_config(root)
    return dict(layout=layout, unet=unet, vae=vae, controlnet=cn, scheduler_config=sched_cfg,
                scheduler_class=sched_cls, prompt_embeds=_prompt_embeds(root, model, prompt,
                                                                        layout.prompt_source).to(device))

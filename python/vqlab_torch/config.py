"""A run's ``config.json`` (src/models/config.ts) as typed Python: the input shape, the
architecture and the quantizer with every option resolved to vqlab's defaults. An audio config
(modality 'audio', input {sampleRate, channels, samples}) is read as a one-row signal
[channels, 1, samples], as vqlab's model seam takes it, with its sample rate beside it.

vqlab saves only some options (those its option schema keeps: src/quantizers/option-schema.ts,
e.g. ``cosine`` only when true), so a config read here fills in the rest exactly as
``resolveQuantizerConfig`` does. Version-1 configs (``quantizer.name`` instead of ``kind``) are
upgraded as vqlab upgrades them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

QUANTIZER_KINDS = ("vq", "ema", "simvq", "fsq", "lfq", "residual")
RESIDUAL_BASES = ("vq", "ema", "simvq")


class ConfigError(ValueError):
    """A config.json that does not describe a model this package builds; the message names the field."""


@dataclass(frozen=True)
class InputShape:
    channels: int
    height: int
    width: int


@dataclass(frozen=True)
class ConvArchitecture:
    """The 'conv' family (src/models/conv-vqvae.ts)."""

    hidden_channels: int = 128
    downsamples: int = 2
    residual_blocks: int = 2
    residual_channels: int = 128
    activation: str = "groupnorm-silu"


@dataclass(frozen=True)
class SeanetArchitecture:
    """The 'seanet' family of audio models (src/models/seanet.ts), with its defaults."""

    channels: int = 32
    strides: Tuple[int, ...] = (2, 4, 5, 8)
    dilations: Tuple[int, ...] = (1, 3, 9)
    residual_kernel: int = 3
    kernel: int = 7
    compress: int = 2


@dataclass(frozen=True)
class ModelConfig:
    """config.json: ``raw`` is the parsed JSON as written, kept to save it back unchanged."""

    input: InputShape
    architecture: str
    conv: Optional[ConvArchitecture]
    quantizer: Dict[str, Any]
    raw: Dict[str, Any] = field(compare=False)
    #: The 'seanet' architecture of an audio model (whose input is a signal [channels, 1, samples]).
    seanet: Optional[SeanetArchitecture] = None
    #: Samples per second of an audio model's input; None for images.
    sample_rate: Optional[int] = None

    @property
    def dim(self) -> int:
        return int(self.quantizer["dim"])


_CODEBOOK_OPTIONS: Dict[str, Any] = {
    "cosine": False,
    "rotationTrick": False,
    "orthogonalWeight": 0.0,
    "kmeansIters": 0,
    "kmeansSamples": 0,
    "deadCodeThreshold": 0.0,
    "deadCodeShare": 0.0,
    "usageDecay": 0.99,
}
_COMMON = {"beta": 0.25, "weight": 1.0}


def _defaults(kind: str, options: Mapping[str, Any]) -> Dict[str, Any]:
    """vqlab's default of every option of ``kind`` (derived ones from ``options``)."""
    if kind == "vq":
        init = options.get("init", "uniform")
        k = options.get("codebookSize", 1)
        return {**_COMMON, "init": init, "initScale": 1.0 / k if init == "uniform" else 1.0,
                "codebookDim": options.get("dim"), **_CODEBOOK_OPTIONS}
    if kind == "ema":
        init = options.get("init", "normal")
        k = options.get("codebookSize", 1)
        return {**_COMMON, "decay": 0.99, "epsilon": 1e-5, "init": init,
                "initScale": 1.0 / k if init == "uniform" else 1.0, "initialCount": 1.0,
                **{key: _CODEBOOK_OPTIONS[key] for key in ("rotationTrick", "kmeansIters", "kmeansSamples", "deadCodeThreshold", "deadCodeShare", "usageDecay")}}
    if kind == "simvq":
        return {**_COMMON, "optimize": "W", "frozenW": "identity", "bias": True, "initScale": float(options.get("dim", 1)) ** -0.5, **_CODEBOOK_OPTIONS}
    if kind == "fsq":
        return {"levels": [8, 5, 5, 5], "preNorm": "none"}
    if kind == "lfq":
        return {**_COMMON, "entropyWeight": 0.1, "diversityGamma": 1.0, "temperature": 0.01, "entropyGroupBits": 12, "preNorm": "none"}
    raise ConfigError(f"quantizer kind {kind!r} is not one of {', '.join(QUANTIZER_KINDS)}")


#: The choice options and their values (option-schema.ts), checked so that a model is never built
#: from a value this package does not compute.
_CHOICES = {"init": ("uniform", "normal", "unit"), "optimize": ("W", "C", "both"), "frozenW": ("identity", "random"),
            "preNorm": ("none", "latent", "batch")}

_REQUIRED = {"vq": ("codebookSize", "dim"), "ema": ("codebookSize", "dim"), "simvq": ("codebookSize", "dim"),
             "fsq": ("dim",), "lfq": ("codebookSize", "dim")}


def resolve_quantizer(section: Mapping[str, Any], source: str) -> Dict[str, Any]:
    """The quantizer section of config.json with every option resolved: ``{kind, ...options}``.

    A residual config resolves its own options (base, depth, quantizeDropout) and the base's.
    """
    options = {k: v for k, v in section.items() if k not in ("kind", "search")}
    kind = section.get("kind")
    if kind not in QUANTIZER_KINDS:
        raise ConfigError(f"{source}: quantizer.kind {kind!r} is not one of {', '.join(QUANTIZER_KINDS)}")
    if kind == "residual":
        own = {"base": options.pop("base", "vq"), "depth": int(options.pop("depth", 4)),
               "quantizeDropout": bool(options.pop("quantizeDropout", False))}
        if own["base"] not in RESIDUAL_BASES:
            raise ConfigError(f"{source}: residual base {own['base']!r} is not one of {', '.join(RESIDUAL_BASES)}")
        stage = resolve_quantizer({"kind": own["base"], **options}, source)
        stage.pop("kind")
        return {"kind": "residual", **own, **stage}
    defaults = _defaults(kind, options)
    for name in _REQUIRED[kind]:
        if name not in options:
            raise ConfigError(f"{source}: quantizer option {name!r} is missing")
    unknown = sorted(set(options) - set(defaults) - set(_REQUIRED[kind]))
    if unknown:
        raise ConfigError(f"{source}: quantizer {kind} has no option {unknown[0]!r} that this package knows (a newer vqlab wrote it?)")
    resolved = {"kind": kind, **defaults, **options}
    for name, choices in _CHOICES.items():
        if name in resolved and resolved[name] not in choices:
            raise ConfigError(f"{source}: quantizer {kind} option {name!r} is {resolved[name]!r}, not one of {', '.join(choices)} (a newer vqlab wrote it?)")
    if kind == "simvq" and resolved["frozenW"] != "identity" and resolved["optimize"] != "C":
        raise ConfigError(f"{source}: SimVQ frozenW {resolved['frozenW']!r} says how W is frozen, but optimize {resolved['optimize']!r} trains W; set optimize 'C' or drop frozenW")
    return resolved


def _upgrade_v1(q: Mapping[str, Any]) -> Dict[str, Any]:
    """A version-1 quantizer section ``{name, codebookSize, dim, beta, optimize?}`` as version 2."""
    out = {"kind": q.get("name"), "codebookSize": q.get("codebookSize"), "dim": q.get("dim"), "beta": q.get("beta", 0.25)}
    if q.get("name") == "simvq" and q.get("optimize") is not None:
        out["optimize"] = q["optimize"]
    return out


def parse_config(json_value: Mapping[str, Any], source: str) -> ModelConfig:
    """Validate parsed config.json content (``source`` names it in errors)."""
    if not isinstance(json_value, dict) or json_value.get("format") != "vqlab-model":
        raise ConfigError(f'{source} is not a vqlab model config (expected "format": "vqlab-model")')
    version = json_value.get("version")
    if version not in (1, 2):
        raise ConfigError(f"{source} has config version {version!r}; this package reads versions 1 and 2")
    modality = json_value.get("modality", "image")
    if modality not in ("image", "audio"):
        raise ConfigError(f"{source}: modality {modality!r} is not built by this package (image or audio)")
    if modality == "audio":
        shape, kind, conv, seanet, sample_rate = _audio_model(json_value, source)
    else:
        shape, kind, conv = _image_model(json_value, source)
        seanet, sample_rate = None, None
    q = json_value.get("quantizer")
    if not isinstance(q, dict):
        raise ConfigError(f'{source}: missing "quantizer" section')
    quantizer = resolve_quantizer(_upgrade_v1(q) if version == 1 else q, source)
    return ModelConfig(shape, kind, conv, quantizer, dict(json_value), seanet, sample_rate)


def _image_model(json_value: Mapping[str, Any], source: str) -> Tuple[InputShape, str, Optional[ConvArchitecture]]:
    i = json_value.get("input") or {}
    try:
        shape = InputShape(int(i["channels"]), int(i["height"]), int(i["width"]))
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"{source}: missing or invalid \"input\" {{channels, height, width}}") from None
    a = json_value.get("architecture") or {}
    kind = a.get("kind")
    conv: Optional[ConvArchitecture] = None
    if kind == "conv":
        conv = ConvArchitecture(int(a["hiddenChannels"]), int(a["downsamples"]), int(a["residualBlocks"]),
                                int(a["residualChannels"]), str(a["activation"]))
        if conv.activation not in ("relu", "groupnorm-silu"):
            raise ConfigError(f"{source}: conv activation {conv.activation!r} is not relu or groupnorm-silu")
    elif kind != "reference-mnist":
        raise ConfigError(f"{source}: architecture.kind {kind!r} is not reference-mnist or conv")
    return shape, kind, conv


def _audio_model(json_value: Mapping[str, Any], source: str) -> Tuple[InputShape, str, None, SeanetArchitecture, int]:
    """An audio config: input {sampleRate, channels, samples} (a one-row signal at the model seam) and a 'seanet' architecture."""
    i = json_value.get("input") or {}
    try:
        sample_rate, shape = int(i["sampleRate"]), InputShape(int(i["channels"]), 1, int(i["samples"]))
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"{source}: missing or invalid \"input\" {{sampleRate, channels, samples}}") from None
    a = json_value.get("architecture") or {}
    if a.get("kind") != "seanet":
        raise ConfigError(f"{source}: architecture.kind {a.get('kind')!r} is not seanet (the audio family this package builds)")
    try:
        seanet = SeanetArchitecture(int(a["channels"]), tuple(int(s) for s in a["strides"]), tuple(int(d) for d in a["dilations"]),
                                    int(a["residualKernel"]), int(a["kernel"]), int(a["compress"]))
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"{source}: the seanet architecture needs channels, strides, dilations, residualKernel, kernel and compress") from None
    return shape, "seanet", None, seanet, sample_rate


def read_config(path: str) -> ModelConfig:
    """Read and validate the config.json at ``path``."""
    with open(path, "rb") as f:
        text = f.read()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise ConfigError(f"{path} is not valid JSON; the checkpoint is corrupt") from None
    return parse_config(value, path)


def levels_product(levels: List[int]) -> int:
    """K = Π L_j of an FSQ grid."""
    k = 1
    for level in levels:
        k *= int(level)
    return k

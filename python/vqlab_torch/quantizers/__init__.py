"""Every quantizer of vqlab's registry (src/quantizers/registry.ts), built from the resolved
quantizer section of a config (config.resolve_quantizer)."""
from __future__ import annotations

from typing import Any, Dict

from torch import nn

from .common import QuantizerOutput, nearest_code
from .ema import EmaVectorQuantizer
from .fsq import FSQ
from .lfq import LFQ
from .residual import ResidualQuantizer
from .simvq import SimVQ
from .vq import VectorQuantizer

__all__ = ["QuantizerOutput", "build_quantizer", "nearest_code", "VectorQuantizer", "EmaVectorQuantizer", "SimVQ", "FSQ", "LFQ", "ResidualQuantizer"]

_SINGLE = {"vq": VectorQuantizer, "ema": EmaVectorQuantizer, "simvq": SimVQ, "fsq": FSQ, "lfq": LFQ}


def build_quantizer(o: Dict[str, Any], seed: int = 0) -> nn.Module:
    """The quantizer of resolved options ``o`` ({kind, ...}); ``seed`` is the run's (residual dropout)."""
    kind = o["kind"]
    if kind == "residual":
        stage = {k: v for k, v in o.items() if k not in ("kind", "base", "depth", "quantizeDropout")}
        return ResidualQuantizer(o, lambda: _SINGLE[o["base"]](dict(stage)), seed)
    return _SINGLE[kind](o)

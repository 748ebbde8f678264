"""Vector quantization (VQ-VAE, van den Oord et al. 2017, §3.1–3.2; src/quantizers/vector-quantizer.ts).

Given z_e [M, d] and a learned codebook e [K, c]:

    z'    = z_e·W_in + b_in                  only with codebookDim c ≠ d (VQGAN-FC, Yu et al. 2021)
    k_i   = argmin_k ‖z'_i − e_k‖²            ties → lowest k (cosine: both l2-normalized first)
    L     = weight · (‖sg(z') − e_k‖² + β·‖z' − sg(e_k)‖² [+ λ_orth·L_orth])
    z_q   = (z' + sg(e_k − z'))·W_out + b_out  (straight-through, or the rotation trick)

Variables: ``codebook`` [K, c]; with codebookDim ``proj_in.{weight,bias}``, ``proj_out.{weight,bias}``;
with dead-code replacement the buffer ``code_usage`` [K].
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch import nn

from ..distributed import all_reduce_sum
from .common import QuantizerOutput, VqlabLinear, codebook_init, l2_normalize_rows, quantize_against
from .dead_codes import replace_dead_codes, replaces_dead_codes, track_usage

#: Zeroes the optimizer state of rows of a parameter (``reset_rows`` of optim.VqlabAdam).
RowReset = Callable[[nn.Parameter, List[int]], None]


class VectorQuantizer(nn.Module):
    kind = "vq"
    depth = 1

    def __init__(self, o: Dict[str, Any]) -> None:
        super().__init__()
        self.o = o
        self.codebook_size = int(o["codebookSize"])
        self.dim = int(o["dim"])
        self.codebook_dim = int(o["codebookDim"])
        self.counts_size = self.codebook_size
        self.codebook = nn.Parameter(codebook_init(self.codebook_size, self.codebook_dim, str(o["init"]), float(o["initScale"])))
        self.proj_in: Optional[VqlabLinear] = None
        self.proj_out: Optional[VqlabLinear] = None
        if self.projected:
            self.proj_in = VqlabLinear(self.dim, self.codebook_dim)
            self.proj_out = VqlabLinear(self.codebook_dim, self.dim)
        self.code_usage: Optional[torch.Tensor]
        self.register_buffer("code_usage", torch.zeros(self.codebook_size) if replaces_dead_codes(o) else None)

    @property
    def projected(self) -> bool:
        return self.codebook_dim != self.dim

    @property
    def needs_host_step(self) -> bool:
        return replaces_dead_codes(self.o)

    def no_decay(self) -> List[nn.Parameter]:
        """Parameters vqlab never decays: the codebook (decaying it would move the codes towards 0)."""
        return [self.codebook]

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Code vectors [..., d] of int64 indices [...]."""
        codes = l2_normalize_rows(self.codebook) if self.o["cosine"] else self.codebook
        rows = codes[indices]
        return self.proj_out(rows) if self.proj_out is not None else rows

    def search_space(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The vectors [M, c] and codes [K, c] the nearest-code search compares (agreement.py)."""
        x = self.proj_in(z) if self.proj_in is not None else z
        if self.o["cosine"]:
            return l2_normalize_rows(x), l2_normalize_rows(self.codebook)
        return x, self.codebook

    def forward(self, z: torch.Tensor) -> QuantizerOutput:
        inner = self.proj_in(z) if self.proj_in is not None else z
        out = quantize_against(inner, self.codebook, beta=float(self.o["beta"]), weight=float(self.o["weight"]),
                               size=self.codebook_size, cosine=bool(self.o["cosine"]),
                               rotation_trick=bool(self.o["rotationTrick"]), orthogonal_weight=float(self.o["orthogonalWeight"]))
        if self.training:
            with torch.no_grad():
                out.counts = all_reduce_sum(out.counts)
                track_usage(self.code_usage, float(self.o["usageDecay"]), out.counts)
        if self.proj_out is not None:
            out.quantized = self.proj_out(out.quantized)
        return out

    def host_step(self, step: int, seed: int, out: QuantizerOutput, reset_rows: RowReset) -> int:
        """Dead-code replacement after optimizer step ``step`` (dead_codes.py); codes re-seeded."""
        if self.code_usage is None or out.search_inputs is None:
            return 0

        def write(codes: List[int], vectors: torch.Tensor) -> None:
            with torch.no_grad():
                self.codebook[torch.tensor(codes, device=vectors.device)] = vectors.to(self.codebook.dtype)
            reset_rows(self.codebook, codes)

        return replace_dead_codes(self.o, self.code_usage, step, seed, out.search_inputs, out.counts, write)

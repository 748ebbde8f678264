"""SimVQ (Zhu et al. 2024, arXiv:2411.02038; src/quantizers/simvq.ts): the codebook is a basis C
times one linear layer,

    q_k = C_k·W + b                      C [K, d], W [d, d] (x·W convention), b [d]
    k_i = argmin_k ‖z_e,i − q_k‖²        (cosine: both l2-normalized first)
    L   = weight · (‖sg(z_e) − q_k‖² + β·‖z_e − sg(q_k)‖² [+ λ_orth·L_orth])
    z_q = z_e + sg(q_k − z_e)            (or the rotation trick)

``optimize`` picks what is trained: 'W' (C frozen; SimVQ), 'C' (W and b frozen: with ``frozenW``
'identity' W = I, b = 0, vanilla VQ; with 'random' their nn.Linear initialization, the paper's first
scenario), 'both'. Frozen factors are parameters with ``requires_grad = False``, saved in model.safetensors
and without optimizer state, as in vqlab.

Variables: ``codebook`` C, ``proj.weight`` W, ``proj.bias`` b (without ``bias: false``); with
dead-code replacement the buffer ``code_usage`` [K]. None is weight-decayed.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import nn

from ..distributed import all_reduce_sum
from .common import QuantizerOutput, VqlabLinear, l2_normalize_rows, quantize_against
from .dead_codes import replace_dead_codes, replaces_dead_codes, track_usage
from .vq import RowReset


class SimVQ(nn.Module):
    kind = "simvq"
    depth = 1

    def __init__(self, o: Dict[str, Any]) -> None:
        super().__init__()
        self.o = o
        self.codebook_size = int(o["codebookSize"])
        self.dim = d = int(o["dim"])
        self.counts_size = self.codebook_size
        train_c = o["optimize"] != "W"
        train_w = o["optimize"] != "C"
        self.codebook = nn.Parameter(torch.empty(self.codebook_size, d).normal_(0, float(o["initScale"])), requires_grad=train_c)
        self.proj = VqlabLinear(d, d, bias=bool(o["bias"]))
        if not train_w and o["frozenW"] == "identity":
            with torch.no_grad():
                self.proj.weight.copy_(torch.eye(d))
                if self.proj.bias is not None:
                    self.proj.bias.zero_()
        for p in self.proj.parameters():
            p.requires_grad_(train_w)
        self.code_usage: Optional[torch.Tensor]
        self.register_buffer("code_usage", torch.zeros(self.codebook_size) if replaces_dead_codes(o) else None)

    @property
    def needs_host_step(self) -> bool:
        return replaces_dead_codes(self.o)

    def no_decay(self) -> List[nn.Parameter]:
        return [self.codebook, *self.proj.parameters()]

    def effective_codebook(self) -> torch.Tensor:
        """C·W + b [K, d]."""
        return self.proj(self.codebook)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        codes = self.effective_codebook()
        return (l2_normalize_rows(codes) if self.o["cosine"] else codes)[indices]

    def search_space(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The vectors and codes the nearest-code search compares (agreement.py)."""
        codes = self.effective_codebook()
        return (l2_normalize_rows(z), l2_normalize_rows(codes)) if self.o["cosine"] else (z, codes)

    def forward(self, z: torch.Tensor) -> QuantizerOutput:
        out = quantize_against(z, self.effective_codebook(), beta=float(self.o["beta"]), weight=float(self.o["weight"]),
                               size=self.codebook_size, cosine=bool(self.o["cosine"]),
                               rotation_trick=bool(self.o["rotationTrick"]), orthogonal_weight=float(self.o["orthogonalWeight"]))
        if self.training:
            with torch.no_grad():
                out.counts = all_reduce_sum(out.counts)
                track_usage(self.code_usage, float(self.o["usageDecay"]), out.counts)
        return out

    def host_step(self, step: int, seed: int, out: QuantizerOutput, reset_rows: RowReset) -> int:
        """Dead-code replacement: the basis row is solved so that the effective code equals the
        chosen vector v, C_k = (v − b)·W⁻¹ (in float64; W and b are shared by all codes)."""
        if self.code_usage is None or out.search_inputs is None:
            return 0

        def write(codes: List[int], vectors: torch.Tensor) -> None:
            w = self.proj.weight.detach().double()
            b = self.proj.bias.detach().double() if self.proj.bias is not None else torch.zeros(self.dim, dtype=torch.float64, device=w.device)
            targets = vectors.double() - b
            # rows·W = targets  ⇔  Wᵀ·rowsᵀ = targetsᵀ
            try:
                rows = torch.linalg.solve(w.t(), targets.t()).t()
            except RuntimeError:
                raise RuntimeError("SimVQ: cannot re-seed codes because the projection W is singular (the codebook has collapsed); lower the learning rate") from None
            with torch.no_grad():
                self.codebook[torch.tensor(codes, device=w.device)] = rows.to(self.codebook.dtype)
            reset_rows(self.codebook, codes)

        return replace_dead_codes(self.o, self.code_usage, step, seed, out.search_inputs, out.counts, write)

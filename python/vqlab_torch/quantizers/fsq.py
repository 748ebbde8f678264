"""Finite Scalar Quantization (Mentzer et al. 2023, §3 and appendix A.1; src/quantizers/fsq.ts).
With D = |levels| and z [M, d]:

    h     = N(z)·W_in + b_in                            (only when d ≠ D; N: ``preNorm``, pre_norm.py)
    f_j   = tanh(h_j + s_j)·a_j − o_j,   a_j = (L_j − 1)(1 + 10⁻³)/2,  o_j = ½ if L_j even else 0,
            s_j = atanh(o_j / a_j)
    q_j   = round(f_j), gradient straight-through       round(f) = ⌊f + ½ + B⌋ − B, B = max_j L_j
    ẑ_j   = q_j / ⌊L_j/2⌋
    z_q   = ẑ·W_out + b_out                             (only when d ≠ D)
    index = Σ_j (q_j + ⌊L_j/2⌋)·Π_{i<j} L_i             first dimension fastest

No loss of its own. tanh is computed as 2σ(2x) − 1, as vqlab's graph does.

Variables: with d ≠ the code width ``proj_in.{weight,bias}``, ``proj_out.{weight,bias}``; with
preNorm 'batch' the buffers ``pre_norm.mean``, ``pre_norm.var`` [d] (pre_norm.py).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import nn

from ..config import levels_product
from ..distributed import all_reduce_sum
from .common import QuantizerOutput, VqlabLinear, code_counts
from .pre_norm import PreNorm

_BOUND_EPS = 1e-3


class FSQ(nn.Module):
    kind = "fsq"
    depth = 1
    needs_host_step = False

    def __init__(self, o: Dict[str, Any]) -> None:
        super().__init__()
        self.o = o
        self.levels: List[int] = [int(v) for v in o["levels"]]
        self.dim = int(o["dim"])
        self.latent_dim = len(self.levels)
        self.codebook_size = levels_product(self.levels)
        self.counts_size = self.codebook_size
        self.pre_norm = PreNorm(str(o["preNorm"]), self.dim)
        self.proj_in: Optional[VqlabLinear] = None
        self.proj_out: Optional[VqlabLinear] = None
        if self.dim != self.latent_dim:
            self.proj_in = VqlabLinear(self.dim, self.latent_dim)
            self.proj_out = VqlabLinear(self.latent_dim, self.dim)

    def no_decay(self) -> List[nn.Parameter]:
        return []

    def _row(self, values: List[float], like: torch.Tensor) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.float32, device=like.device).reshape(1, self.latent_dim)

    def implicit_codebook(self, device: torch.device) -> torch.Tensor:
        """Every code's normalized grid point [K, D]; digit j of code k = ⌊k / Π_{i<j} L_i⌋ mod L_j."""
        k = torch.arange(self.codebook_size, device=device)
        columns = []
        for level in self.levels:
            half = level // 2
            columns.append(((k % level) - half).float() / half)
            k = torch.div(k, level, rounding_mode="floor")
        return torch.stack(columns, 1)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        rows = self.implicit_codebook(indices.device)[indices]
        return self.proj_out(rows) if self.proj_out is not None else rows

    def _bounded(self, z: torch.Tensor) -> torch.Tensor:
        """f = tanh(h + s)·a − o, with h = N(z)·W_in + b_in (file comment)."""
        x = self.pre_norm(z)
        h = self.proj_in(x) if self.proj_in is not None else x
        half_l = [(level - 1) * (1 + _BOUND_EPS) / 2 for level in self.levels]
        offset = [0.5 if level % 2 == 0 else 0.0 for level in self.levels]
        shifted = h + self._row([math.atanh(o / a) for o, a in zip(offset, half_l)], h)
        tanh = torch.sigmoid(shifted * 2) * 2 - 1
        return tanh * self._row(half_l, h) - self._row(offset, h)

    def search_space(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """f and the integer grid points q [K, D]: round(f) is f's nearest grid point (agreement.py)."""
        halves = self._row([float(level // 2) for level in self.levels], z)
        return self._bounded(z), self.implicit_codebook(z.device) * halves

    def forward(self, z: torch.Tensor) -> QuantizerOutput:
        bounded = self._bounded(z)
        big = max(self.levels)
        rounded = torch.trunc(bounded.detach() + (0.5 + big)) - big
        q = bounded + (rounded - bounded).detach()
        normalized = q / self._row([float(level // 2) for level in self.levels], bounded)
        basis: List[float] = []
        acc = 1
        for level in self.levels:
            basis.append(float(acc))
            acc *= level
        digits = rounded + self._row([float(level // 2) for level in self.levels], bounded)
        indices = (digits @ torch.tensor(basis, dtype=torch.float32, device=bounded.device).reshape(-1, 1)).reshape(-1).long()
        counts = code_counts(indices, self.codebook_size)
        if self.training:
            counts = all_reduce_sum(counts)
        return QuantizerOutput(
            quantized=self.proj_out(normalized) if self.proj_out is not None else normalized,
            indices=indices,
            loss=torch.zeros((), device=z.device),
            terms={},
            counts=counts,
        )

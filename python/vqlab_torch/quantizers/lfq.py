"""Lookup-Free Quantization (MAGVIT-v2, Yu et al. 2023, §3.1, eq. 1–3; src/quantizers/lfq.ts).
The codes are the corners {−1, 1}^b, K = 2^b. With z [M, d]:

    h     = N(z)·W_in + b_in                           (only when d ≠ b; N: ``preNorm``, pre_norm.py)
    q_j   = +1 if h_j > 0 else −1
    index = Σ_j [q_j > 0]·2^(b−1−j)                    first dimension = most significant bit
    z_q   = (h + sg(q − h))·W_out + b_out              (only when d ≠ b)
    p(k | h_i) = softmax_k(2⟨h_i, c_k⟩/τ), per bit group (b split into ⌈b/B⌉ near-equal groups)
    L_ent = Σ_g E_i[H(p_g(·|h_i))] − γ·Σ_g H(E_i[p_g])
    L     = weight · (λ_ent·L_ent + β·‖h − sg(q)‖²)

The per-sample entropy is logsumexp(l) − Σ p·l, the batch entropy −Σ p̄ log(p̄ + 10⁻¹²). Under DDP
the batch term is each rank's own (an approximation of the global batch's, as in every DDP
implementation of this loss).

Variables: with d ≠ the code width ``proj_in.{weight,bias}``, ``proj_out.{weight,bias}``; with
preNorm 'batch' the buffers ``pre_norm.mean``, ``pre_norm.var`` [d] (pre_norm.py).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import nn

from ..distributed import all_reduce_sum
from .common import QuantizerOutput, VqlabLinear, code_counts, mean_squared_error, straight_through
from .pre_norm import PreNorm


def cube_corners(bits: int, device: torch.device) -> torch.Tensor:
    """The 2^b corners of {−1, 1}^b as rows [2^b, b]: bit j of k (most significant first) → +1."""
    k = torch.arange(2 ** bits, device=device).reshape(-1, 1)
    shifts = torch.arange(bits - 1, -1, -1, device=device).reshape(1, -1)
    return torch.where(((k >> shifts) & 1) == 1, 1.0, -1.0)


class LFQ(nn.Module):
    kind = "lfq"
    depth = 1
    needs_host_step = False

    def __init__(self, o: Dict[str, Any]) -> None:
        super().__init__()
        self.o = o
        self.codebook_size = int(o["codebookSize"])
        self.counts_size = self.codebook_size
        self.bits = int(round(math.log2(self.codebook_size)))
        if 2 ** self.bits != self.codebook_size:
            raise ValueError(f"LFQ: codebookSize must be a power of two, got {self.codebook_size}")
        self.dim = int(o["dim"])
        self.pre_norm = PreNorm(str(o["preNorm"]), self.dim)
        self.proj_in: Optional[VqlabLinear] = None
        self.proj_out: Optional[VqlabLinear] = None
        if self.dim != self.bits:
            self.proj_in = VqlabLinear(self.dim, self.bits)
            self.proj_out = VqlabLinear(self.bits, self.dim)

    def no_decay(self) -> List[nn.Parameter]:
        return []

    def entropy_groups(self) -> List[int]:
        """Sizes of the consecutive bit groups of the entropy loss, most significant first."""
        n = math.ceil(self.bits / int(self.o["entropyGroupBits"]))
        small = self.bits // n
        return [small + (1 if g < self.bits - small * n else 0) for g in range(n)]

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        rows = cube_corners(self.bits, indices.device)[indices]
        return self.proj_out(rows) if self.proj_out is not None else rows

    def entropy_terms(self, h: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        sample, batch = [], []
        start = 0
        for size in self.entropy_groups():
            hg = h if size == self.bits else h[:, start : start + size]
            logits = (hg @ cube_corners(size, h.device).t()) * (2 / float(self.o["temperature"]))
            p = torch.softmax(logits, 1)
            sample.append((torch.logsumexp(logits, 1) - (p * logits).sum(1)).mean())
            mean = p.mean(0)
            batch.append(-(mean * torch.log(mean + 1e-12)).sum())
            start += size
        sample_entropy = sum(sample[1:], sample[0])
        batch_entropy = sum(batch[1:], batch[0])
        return sample_entropy, batch_entropy, sample_entropy - batch_entropy * float(self.o["diversityGamma"])

    def search_space(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """h and the corners: sign(h) is h's nearest corner (agreement.py)."""
        return self.projected(z), cube_corners(self.bits, z.device)

    def projected(self, z: torch.Tensor) -> torch.Tensor:
        """h = N(z)·W_in + b_in (N(z) itself when d = b)."""
        x = self.pre_norm(z)
        return self.proj_in(x) if self.proj_in is not None else x

    def forward(self, z: torch.Tensor) -> QuantizerOutput:
        h = self.projected(z)
        positive = h.detach() > 0
        q = torch.where(positive, 1.0, -1.0)
        bit_values = torch.tensor([2.0 ** (self.bits - 1 - j) for j in range(self.bits)], device=h.device).reshape(-1, 1)
        indices = (positive.float() @ bit_values).reshape(-1).long()
        commitment = mean_squared_error(h, q.detach())
        sample_entropy, batch_entropy, entropy = self.entropy_terms(h)
        loss = (entropy * float(self.o["entropyWeight"]) + commitment * float(self.o["beta"])) * float(self.o["weight"])
        st = straight_through(h, q)
        counts = code_counts(indices, self.codebook_size)
        if self.training:
            counts = all_reduce_sum(counts)
        return QuantizerOutput(
            quantized=self.proj_out(st) if self.proj_out is not None else st,
            indices=indices,
            loss=loss,
            terms={"entropy": entropy, "sampleEntropy": sample_entropy, "batchEntropy": batch_entropy, "commitment": commitment},
            counts=counts,
        )

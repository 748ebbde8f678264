"""The normalization before LFQ's and FSQ's projection, the option ``preNorm``
(src/quantizers/pre-norm.ts), with ε = 10⁻⁵ and no scale or shift:

    'none'    z as the encoder gives it.
    'latent'  each latent z_i [d] over its own channels: ẑ_i = (z_i − μ_i) / √(σ_i² + ε).
    'batch'   each channel j over the batch's M latents: ẑ_ij = (z_ij − μ_j) / √(σ_j² + ε), μ_j and
              σ_j² the batch's mean and biased variance (gradients flow through both). Training
              also updates the running statistics, as vqlab's training graph does,

                  r_mean ← r_mean·(1 − m) + μ·m,   r_var ← r_var·(1 − m) + σ²·M/(M − 1)·m,   m = 0.1,

              and inference uses them: ẑ_ij = (z_ij − r_mean_j) / √(r_var_j + ε).
              Buffers ``mean`` [d] (starts 0) and ``var`` [d] (starts 1), so the quantizer's state is
              ``quantizer.pre_norm.mean`` and ``quantizer.pre_norm.var`` as in vqlab's checkpoint.

Under DDP the batch is the global one: μ and σ² are sums over the processes (differentiable
all-reduces, SyncBatchNorm's arithmetic), so the processes normalize and update the running
statistics as one process does for the whole batch.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from ..distributed import is_distributed

PRE_NORMS = ("none", "latent", "batch")
#: ε of the standardization (PyTorch's GroupNorm and BatchNorm default).
EPS = 1e-5
#: m of the running statistics (PyTorch's BatchNorm default).
MOMENTUM = 0.1


def _global_sum(t: torch.Tensor) -> torch.Tensor:
    """Σ over the processes, with the gradient of that sum (the identity in one process)."""
    if not is_distributed():
        return t
    from torch.distributed.nn.functional import all_reduce  # differentiable; needs a distributed build

    return all_reduce(t)


class PreNorm(nn.Module):
    def __init__(self, kind: str, dim: int) -> None:
        super().__init__()
        if kind not in PRE_NORMS:
            raise ValueError(f"preNorm {kind!r} is not one of {', '.join(PRE_NORMS)}")
        if kind == "latent" and dim < 2:
            raise ValueError(f"preNorm 'latent' of d = {dim} channel maps every latent to 0; use d >= 2 or another preNorm")
        self.kind = kind
        self.mean: torch.Tensor
        self.var: torch.Tensor
        if kind == "batch":
            self.register_buffer("mean", torch.zeros(dim))
            self.register_buffer("var", torch.ones(dim))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.kind == "none":
            return z
        if self.kind == "latent":
            mean = z.mean(1, keepdim=True)
            centered = z - mean
            variance = (centered * centered).mean(1, keepdim=True)
            return centered / torch.sqrt(variance + EPS)
        if not self.training:
            return (z - self.mean) / torch.sqrt(self.var + EPS)
        # Every process holds an equal share of the global batch (train.py splits it evenly).
        m = z.shape[0] * (dist.get_world_size() if is_distributed() else 1)
        if m < 2:
            raise ValueError(f"preNorm 'batch' needs at least 2 latents a batch to standardize over, got {m}; use a larger batch or another preNorm")
        if is_distributed():
            mean = _global_sum(z.sum(0, keepdim=True)) / m
            centered = z - mean
            variance = _global_sum((centered * centered).sum(0, keepdim=True)) / m
        else:
            mean = z.mean(0, keepdim=True)
            centered = z - mean
            variance = (centered * centered).mean(0, keepdim=True)
        with torch.no_grad():
            unbiased = variance.detach().reshape(-1) * (m / (m - 1))
            self.mean.copy_(self.mean * (1 - MOMENTUM) + mean.detach().reshape(-1) * MOMENTUM)
            self.var.copy_(self.var * (1 - MOMENTUM) + unbiased * MOMENTUM)
        return centered / torch.sqrt(variance + EPS)

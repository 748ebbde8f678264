"""Residual quantization (SoundStream §3.3, Algorithm 1; src/quantizers/residual.ts): D stages of
one base quantizer (vq, ema or simvq), each on what the previous stages left:

    r_0 = z_e;  for s = 1..D:  k_s = Q_s(r_{s−1}),  e_s = sg(Q_s's output),  r_s = r_{s−1} − e_s
    z_q = z_e + sg(Σ_s e_s − z_e),   L = Σ_s L_s

Stage 0 quantizes z_e itself (its commitment loss reaches the encoder); later stages see the
gradient-free residual. Quantize dropout (training only): the first n stages are used,
n = 1 + ⌊D·frac(φ·t + u)⌋, φ = (√5 − 1)/2, u = frac(φ·seed), t the buffer ``dropout_step``.

Variables: stage s under ``stage{s}.``; with dropout the buffer ``dropout_step`` [1].
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional

import torch
from torch import nn

from .common import QuantizerOutput, straight_through
from .vq import RowReset

_GOLDEN = (math.sqrt(5) - 1) / 2


class ResidualQuantizer(nn.Module):
    kind = "residual"

    def __init__(self, o: Dict[str, Any], make_stage: Callable[[], nn.Module], seed: int = 0) -> None:
        super().__init__()
        self.o = o
        self.depth = int(o["depth"])
        self.quantize_dropout = bool(o["quantizeDropout"])
        #: The run's seed (trainer-state.json), which places the dropout sequence.
        self.seed = seed
        for s in range(self.depth):
            self.add_module(f"stage{s}", make_stage())
        first = self.stages[0]
        self.codebook_size = first.codebook_size
        self.dim = first.dim
        self.counts_size = self.depth * self.codebook_size
        self.dropout_step: Optional[torch.Tensor]
        self.register_buffer("dropout_step", torch.zeros(1) if self.quantize_dropout else None)

    @property
    def stages(self) -> List[nn.Module]:
        return [getattr(self, f"stage{s}") for s in range(self.depth)]

    @property
    def needs_host_step(self) -> bool:
        return bool(self.stages[0].needs_host_step)

    def no_decay(self) -> List[nn.Parameter]:
        return [p for stage in self.stages for p in stage.no_decay()]

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Σ_s e_s for indices [..., D]."""
        total = None
        for s, stage in enumerate(self.stages):
            e = stage.lookup(indices[..., s])
            total = e if total is None else total + e
        return total

    def _stage_masks(self) -> Optional[List[torch.Tensor]]:
        if not self.quantize_dropout or not self.training:
            return None
        t = self.dropout_step
        u = (_GOLDEN * self.seed) % 1
        x = t * _GOLDEN + u
        frac = x - torch.trunc(x)
        used = torch.trunc(frac * self.depth) + 1
        with torch.no_grad():
            self.dropout_step.add_(1)
        return [torch.where(used > s, 1.0, 0.0).reshape(()) for s in range(self.depth)]

    def forward(self, z: torch.Tensor) -> QuantizerOutput:
        masks = self._stage_masks()
        residual = z.detach()
        total: Optional[torch.Tensor] = None
        loss: Optional[torch.Tensor] = None
        terms: Dict[str, torch.Tensor] = {}
        indices, counts, searched = [], [], []
        self.stage_outputs: List[QuantizerOutput] = []
        for s, stage in enumerate(self.stages):
            out = stage(z if s == 0 else residual)
            self.stage_outputs.append(out)
            code = out.quantized.detach()
            mask = masks[s] if masks is not None else None
            used = code * mask if mask is not None else code
            total = used if total is None else total + used
            stage_loss = out.loss * mask if mask is not None else out.loss
            loss = stage_loss if loss is None else loss + stage_loss
            for name, t in out.terms.items():
                terms[name] = terms[name] + t if name in terms else t
            indices.append(out.indices.reshape(-1, 1))
            counts.append(out.counts * mask if mask is not None else out.counts)
            if out.search_inputs is not None:
                searched.append(out.search_inputs)
            residual = residual - code
        return QuantizerOutput(
            quantized=straight_through(z, total),
            indices=torch.cat(indices, 1),
            loss=loss,
            terms=terms,
            counts=torch.cat(counts, 0),
            search_inputs=torch.cat(searched, 0) if len(searched) == self.depth else None,
        )

    def host_step(self, step: int, seed: int, out: QuantizerOutput, reset_rows: RowReset) -> int:
        """Each stage's host step on its own batch statistics; codes re-seeded over all stages."""
        k = self.codebook_size
        total = 0
        for s, (stage, stage_out) in enumerate(zip(self.stages, self.stage_outputs)):
            # A stage dropped this step saw its counts masked to 0, so it re-seeds nothing.
            masked = QuantizerOutput(stage_out.quantized, stage_out.indices, stage_out.loss, stage_out.terms,
                                     out.counts[s * k : (s + 1) * k], stage_out.search_inputs)
            total += stage.host_step(step, seed, masked, reset_rows)
        return total

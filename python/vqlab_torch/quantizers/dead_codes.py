"""Dead-code replacement (src/quantizers/codebook-options.ts; Dhariwal et al. 2020, Jukebox §3.2):
each training step the running usage u_k ← γ_u·u_k + (1 − γ_u)·n_k is tracked (buffer
``code_usage``); after the step, a code whose debiased usage u_k/(1 − γ_u^t) is below the
threshold (``deadCodeThreshold``, or ``deadCodeShare``·M/K) is re-seeded with a vector of the
batch chosen by vqlab's seeded generator (seed·7919 + t), and starts at the uniform usage M/K.

The choice of rows uses the same generator and seed as vqlab, so a run continued here re-seeds
the codes vqlab would have. k-means initialization (``kmeansIters``) runs only after a run's first
step, which is always taken by vqlab before a checkpoint exists, so it is not needed here.
"""
from __future__ import annotations

from typing import Any, Callable, List, Mapping, Optional

import torch

from ..distributed import all_gather_rows
from ..rng import Rng, choose_rows

#: Rewrites codes ``codes`` to the rows of ``vectors`` [n, c] (each quantizer stores codes differently).
CodeWriter = Callable[[List[int], torch.Tensor], None]


def replaces_dead_codes(o: Mapping[str, Any]) -> bool:
    return float(o.get("deadCodeThreshold", 0)) > 0 or float(o.get("deadCodeShare", 0)) > 0


def track_usage(usage: Optional[torch.Tensor], decay: float, counts: torch.Tensor) -> None:
    """u ← γ_u·u + (1 − γ_u)·counts, in place (counts of the global batch)."""
    if usage is not None:
        usage.copy_(usage * decay + counts * (1 - decay))


def replace_dead_codes(o: Mapping[str, Any], usage: torch.Tensor, step: int, seed: int,
                       search_inputs: torch.Tensor, counts: torch.Tensor, write: CodeWriter) -> int:
    """The host step after optimizer step ``step``: returns how many codes were re-seeded.

    ``search_inputs`` [m, c] are this rank's vectors; they are gathered from every rank in rank
    order, so that all ranks re-seed the same codes with the same vectors.
    """
    vectors = all_gather_rows(search_inputs.detach())
    k = usage.shape[0]
    m = int(round(float(counts.double().sum())))
    if m == 0:
        return 0
    decay = float(o["usageDecay"])
    threshold = float(o["deadCodeThreshold"]) if float(o["deadCodeThreshold"]) > 0 else float(o["deadCodeShare"]) * (m / k)
    debias = 1 - decay ** step
    values = usage.detach().cpu().double()
    dead = [code for code in range(k) if float(values[code]) / debias < threshold]
    if not dead:
        return 0
    rows = choose_rows(m, len(dead), Rng(seed * 7919 + step))
    write(dead, vectors[torch.tensor(rows, dtype=torch.int64, device=vectors.device)])
    with torch.no_grad():
        usage[torch.tensor(dead, dtype=torch.int64, device=usage.device)] = (m / k) * debias
    return len(dead)

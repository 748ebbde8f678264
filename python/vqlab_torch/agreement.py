"""How far this package's indices agree with another encoder's (vqlab's), telling real
disagreements from float32 near-ties.

Two implementations of the same network cannot give bit-identical activations (ONNX Runtime and
PyTorch sum convolutions in different orders; the last bits of z_e differ). Where a vector lies
equally far from two codes up to that rounding, either implementation may pick either one. A
disagreement at cell (image, y, x) [stage s] is therefore a *near-tie* when, in the space the
search compares (quantizers' ``search_space``), the squared distances to both codes agree within

    |d_a − d_b| ≤ 10⁻⁵ · (‖x‖² + ‖e_a‖² + ‖e_b‖²)

(float32 has 24 bits, ≈ 6·10⁻⁸ relative; the bound leaves room for the rounding of a deep encoder),
and a *difference* otherwise. For a residual quantizer a cell counts once, at its first differing
stage (the later stages search different residuals).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List

import torch

from .models import VqVae

#: Relative bound of a near-tie (module comment).
NEAR_TIE = 1e-5


@dataclass
class Agreement:
    cells: int
    identical: int
    near_ties: int
    different: int
    #: The largest |d_a − d_b| / (‖x‖² + ‖e_a‖² + ‖e_b‖²) over the disagreements (0 without any).
    worst_gap: float

    def as_dict(self) -> dict:
        return {"cells": self.cells, "identical": self.identical, "near_ties": self.near_ties, "different": self.different, "worst_gap": self.worst_gap}


def _gap(x: torch.Tensor, codes: torch.Tensor, a: int, b: int) -> float:
    x, ea, eb = x.double(), codes[a].double(), codes[b].double()
    da, db = float(((x - ea) ** 2).sum()), float(((x - eb) ** 2).sum())
    scale = float((x * x).sum() + (ea * ea).sum() + (eb * eb).sum())
    return abs(da - db) / scale if scale > 0 else 0.0


@torch.no_grad()
def compare(model: VqVae, images: torch.Tensor, theirs: torch.Tensor) -> Agreement:
    """Compare ``theirs`` (indices [N, h, w] or [N, h, w, D]) with this model's for ``images``."""
    ours = model.encode(images)
    if tuple(theirs.shape) != tuple(ours.shape):
        raise ValueError(f"the indices to compare have shape {list(theirs.shape)}, this model's {list(ours.shape)}")
    z = model.encoder(images)
    n, d, h, w = z.shape
    flat = z.permute(0, 2, 3, 1).reshape(-1, d)
    q = model.quantizer
    stages: List[torch.nn.Module] = list(q.stages) if q.kind == "residual" else [q]
    ours_s = ours.reshape(flat.shape[0], len(stages))
    theirs_s = theirs.reshape(flat.shape[0], len(stages))
    settled = torch.zeros(flat.shape[0], dtype=torch.bool)
    near = different = 0
    worst = 0.0
    residual = flat
    for s, stage in enumerate(stages):
        x, codes = stage.search_space(residual)
        for i in torch.nonzero((ours_s[:, s] != theirs_s[:, s]) & ~settled).flatten().tolist():
            gap = _gap(x[i], codes, int(ours_s[i, s]), int(theirs_s[i, s]))
            worst = max(worst, gap)
            if gap <= NEAR_TIE:
                near += 1
            else:
                different += 1
            settled[i] = True
        residual = residual - stage.lookup(ours_s[:, s])
    cells = flat.shape[0]
    return Agreement(cells, cells - near - different, near, different, worst)

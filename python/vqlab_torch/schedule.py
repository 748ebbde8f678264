"""vqlab's learning-rate schedule (src/train/lr-schedule.ts): a linear warm-up from lr/warmup to
lr over the first ``warmupSteps`` steps (Goyal et al. 2017, §2.2), then the constant lr or a cosine
decay to ``minLr`` at the run's last step (Loshchilov & Hutter 2017, eq. 5)."""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional


def learning_rate_at(lr: float, step: int, total_steps: int, schedule: Optional[Mapping[str, Any]]) -> float:
    """The learning rate of 0-based step ``step`` of a run of ``total_steps`` steps."""
    if not schedule:
        return lr
    warmup = int(schedule.get("warmupSteps", 0))
    if step < warmup:
        return lr * (step + 1) / warmup
    if not schedule.get("cosine"):
        return lr
    min_lr = float(schedule.get("minLr", 0))
    span = max(1, total_steps - 1 - warmup)
    progress = min(1.0, (step - warmup) / span)
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * progress))

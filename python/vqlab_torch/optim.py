"""Adam and AdamW as vqlab computes them (src/optim/adam.ts; Kingma & Ba 2015, Algorithm 1;
Loshchilov & Hutter 2019), with vqlab's optimizer state layout:

    m_t = β1·m_{t−1} + (1 − β1)·g_t,   v_t = β2·v_{t−1} + (1 − β2)·g_t²
    θ_t = θ_{t−1} − α_t·m_t / (√v_t + ε·√(1 − β2^t)),   α_t = lr·√(1 − β2^t) / (1 − β1^t)

which is the bias-corrected update lr·m̂/(√v̂ + ε) with both corrections folded into one scalar,
in that order of float32 operations. Weight decay λ applies to the parameters vqlab decays: Adam
adds λθ to the gradient, AdamW subtracts lr·λ·θ after the step.

State (optimizer.safetensors): ``opt.m.<param>``, ``opt.v.<param>`` for every trained parameter
and the step counter ``opt.step`` (a scalar), shared by all parameters.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Tuple

import torch
from torch import nn


class VqlabAdam(torch.optim.Optimizer):
    """Adam with vqlab's arithmetic and state names. ``named`` lists (vqlab name, parameter, decayed)."""

    def __init__(self, named: Iterable[Tuple[str, nn.Parameter, bool]], lr: float, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.0, decoupled: bool = False) -> None:
        entries = [(name, p, decay) for name, p, decay in named if p.requires_grad]
        self.names: Dict[int, str] = {id(p): name for name, p, _ in entries}
        groups = [
            {"params": [p for _, p, decay in entries if decay], "decay": True},
            {"params": [p for _, p, decay in entries if not decay], "decay": False},
        ]
        super().__init__([g for g in groups if g["params"]], {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps,
                                                               "weight_decay": weight_decay, "decoupled": decoupled})
        self.config = {"beta1": beta1, "beta2": beta2, "eps": eps, "weightDecay": weight_decay, "decoupled": decoupled}
        #: t, the steps taken (float32, as vqlab keeps it).
        self.step_count = torch.zeros((), dtype=torch.float32)
        for _, p, _ in entries:
            self.state[p]["m"] = torch.zeros_like(p, memory_format=torch.contiguous_format)
            self.state[p]["v"] = torch.zeros_like(p, memory_format=torch.contiguous_format)

    @property
    def vqlab_name(self) -> str:
        return "adamw" if self.config["decoupled"] else "adam"

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        """One update of every parameter with a gradient, at the learning rate of the groups."""
        self.step_count = self.step_count + 1
        for group in self.param_groups:
            b1 = torch.tensor(group["beta1"], dtype=torch.float32)
            b2 = torch.tensor(group["beta2"], dtype=torch.float32)
            lr = torch.tensor(group["lr"], dtype=torch.float32)
            c1 = 1 - torch.pow(b1, self.step_count)
            c2 = torch.sqrt(1 - torch.pow(b2, self.step_count))
            step_size = lr * c2 / c1
            wd = group["weight_decay"]
            decay = group["decay"] and wd > 0
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if decay and not group["decoupled"]:
                    g = g + p * wd
                state = self.state[p]
                m1 = state["m"] * group["beta1"] + g * (1 - group["beta1"])
                v1 = state["v"] * group["beta2"] + (g * g) * (1 - group["beta2"])
                state["m"].copy_(m1)
                state["v"].copy_(v1)
                denom = torch.sqrt(v1) + c2.to(p.device) * group["eps"]
                update = step_size.to(p.device) * (m1 / denom)
                if decay and group["decoupled"]:
                    p.sub_(update + lr.to(p.device) * wd * p)
                else:
                    p.sub_(update)
        return None

    def set_lr(self, lr: float) -> None:
        for group in self.param_groups:
            group["lr"] = lr

    def reset_rows(self, param: nn.Parameter, rows: List[int]) -> None:
        """Zero rows of ``param``'s moments (codes a host step re-seeded)."""
        if param not in self.state:
            return
        at = torch.tensor(rows, dtype=torch.int64, device=param.device)
        for key in ("m", "v"):
            self.state[param][key][at] = 0

    def vqlab_state(self) -> Dict[str, torch.Tensor]:
        """The tensors of optimizer.safetensors."""
        out: Dict[str, torch.Tensor] = {"opt.step": self.step_count.reshape(())}
        for group in self.param_groups:
            for p in group["params"]:
                name = self.names[id(p)]
                out[f"opt.m.{name}"] = self.state[p]["m"]
                out[f"opt.v.{name}"] = self.state[p]["v"]
        return out

    def load_vqlab_state(self, tensors: Mapping[str, torch.Tensor], source: str) -> None:
        """Load optimizer.safetensors' tensors; every slot of a trained parameter must be there."""
        expected = set(self.vqlab_state())
        extra = sorted(set(tensors) - expected)
        missing = sorted(expected - set(tensors))
        if extra or missing:
            what = f"has '{extra[0]}', which is not an optimizer slot of this model" if extra else f"lacks optimizer slot '{missing[0]}'"
            raise ValueError(f"{source} {what}; was it saved with another optimizer or model configuration?")
        self.step_count = tensors["opt.step"].reshape(()).to(torch.float32).cpu().clone()
        for group in self.param_groups:
            for p in group["params"]:
                name = self.names[id(p)]
                for key in ("m", "v"):
                    t = tensors[f"opt.{key}.{name}"]
                    if tuple(t.shape) != tuple(p.shape):
                        raise ValueError(f"{source}: 'opt.{key}.{name}' has shape {list(t.shape)}, the parameter {list(p.shape)}")
                    self.state[p][key].copy_(t)

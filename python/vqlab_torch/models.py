"""vqlab's VQ-VAE families (src/models/, src/layers/) as PyTorch modules whose parameter names
and layouts are vqlab's, so model.safetensors loads with ``load_state_dict`` as it is:

    reference-mnist  encoder  conv4×4 s2 C→64, ReLU, conv4×4 s2 64→128, ReLU, conv3×3 128→128,
                              2 × residual, ReLU, conv1×1 128→d
                     decoder  conv3×3 d→128, 2 × residual, ReLU, convT4×4 s2 128→64, ReLU,
                              convT4×4 s2 64→C
    conv             encoder  D × [conv4×4 s2 → hidden/2^(D−1−i), act], conv3×3 → hidden,
                              R × residual, act, conv1×1 → d
                     decoder  conv3×3 d → hidden, R × residual, act, D × [convT4×4 s2, act but last]
    seanet           encoder  conv k7 → C, for each stride s_i: residual units at each dilation,
    (audio)                   ELU, conv k=2s_i stride s_i → 2·C_i; ELU, conv k7 → d
                     decoder  conv k7 d → C·2^D, for each stride reversed: ELU, convT k=2s stride s
                              → half the channels, residual units; ELU, conv k7 → signal channels
                     (residual unit: x + conv1(ELU(conv_k,dilation(ELU(x)))), hidden C_i/compress;
                     zero padding, 'same' for stride 1, ⌈s/2⌉ at each end for the strided convs)

"act" is ReLU or GroupNorm (groups = largest divisor of C ≤ 32, ε = 10⁻⁵, parameters ``gamma``
and ``beta``) + SiLU. Residual blocks: 'relu' x + conv1×1(ReLU(conv3×3(ReLU(x)))), 'groupnorm-silu'
x + conv3×3(act(conv3×3(act(x)))). Convolution weights are [Cout, Cin, k, k] and transposed
convolution weights [Cin, Cout, k, k], as in vqlab (and PyTorch); SEANet's 1-D ones [Cout, Cin, k]
and [Cin, Cout, k]. A signal is a one-row image at the model seam, x [N, C, 1, T] → z_e
[N, d, 1, T / hop], as in vqlab.

The forward pass (src/models/forward.ts): z_e = E(x), the quantizer on z_e's channel vectors in
NHWC order ([N·h·w, d]), x̂ = D(z_q), L = the reconstruction term + the quantizer's loss, the term
mean((x − x̂)²) ('mse', images) or mean|x − x̂| ('l1', the audio default).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig, SeanetArchitecture
from .quantizers import QuantizerOutput, build_quantizer


def _default_groups(channels: int) -> int:
    for g in range(min(32, channels), 1, -1):
        if channels % g == 0:
            return g
    return 1


class NormActivate(nn.Module):
    """ReLU, or GroupNorm (γ = 1, β = 0 at initialization) followed by SiLU."""

    def __init__(self, channels: int, activation: str) -> None:
        super().__init__()
        self.activation = activation
        if activation != "relu":
            self.gamma = nn.Parameter(torch.ones(channels))
            self.beta = nn.Parameter(torch.zeros(channels))
            self.groups = _default_groups(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.activation == "relu":
            return F.relu(x)
        return F.silu(F.group_norm(x, self.groups, self.gamma, self.beta, 1e-5))


def _conv(cin: int, cout: int, kernel: int, stride: int = 1, pad: int = 0) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=pad)


def _conv_t(cin: int, cout: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, hidden: int, activation: str) -> None:
        super().__init__()
        self.activation = activation
        if activation == "relu":
            self.conv1 = _conv(channels, hidden, 3, pad=1)
            self.conv2 = _conv(hidden, channels, 1)
        else:
            self.norm1 = NormActivate(channels, activation)
            self.conv1 = _conv(channels, hidden, 3, pad=1)
            self.norm2 = NormActivate(hidden, activation)
            self.conv2 = _conv(hidden, channels, 3, pad=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.activation == "relu":
            return x + self.conv2(F.relu(self.conv1(F.relu(x))))
        return x + self.conv2(self.norm2(self.conv1(self.norm1(x))))


class ResidualStack(nn.Module):
    """``count`` blocks named block0, block1, …"""

    def __init__(self, channels: int, hidden: int, activation: str, count: int) -> None:
        super().__init__()
        for i in range(count):
            self.add_module(f"block{i}", ResidualBlock(channels, hidden, activation))
        self.count = count

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(self.count):
            x = getattr(self, f"block{i}")(x)
        return x


class ReferenceEncoder(nn.Module):
    def __init__(self, channels: int, dim: int) -> None:
        super().__init__()
        self.conv1 = _conv(channels, 64, 4, 2, 1)
        self.conv2 = _conv(64, 128, 4, 2, 1)
        self.conv3 = _conv(128, 128, 3, pad=1)
        self.residual = ResidualStack(128, 32, "relu", 2)
        self.to_code = _conv(128, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.conv1(x))
        h = F.relu(self.conv2(h))
        h = self.conv3(h)
        return self.to_code(F.relu(self.residual(h)))


class ReferenceDecoder(nn.Module):
    def __init__(self, channels: int, dim: int) -> None:
        super().__init__()
        self.from_code = _conv(dim, 128, 3, pad=1)
        self.residual = ResidualStack(128, 32, "relu", 2)
        self.up1 = _conv_t(128, 64)
        self.up2 = _conv_t(64, channels)

    def forward(self, zq: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.residual(self.from_code(zq)))
        return self.up2(F.relu(self.up1(h)))


def _stage_width(hidden: int, downsamples: int, i: int) -> int:
    return max(1, hidden // 2 ** (downsamples - 1 - i))


class ConvEncoder(nn.Module):
    def __init__(self, channels: int, dim: int, hidden: int, downsamples: int, blocks: int, residual: int, activation: str) -> None:
        super().__init__()
        self.downsamples = downsamples
        cin = channels
        for i in range(downsamples):
            width = _stage_width(hidden, downsamples, i)
            self.add_module(f"down{i}", _conv(cin, width, 4, 2, 1))
            self.add_module(f"down{i}_act", NormActivate(width, activation))
            cin = width
        self.conv_mid = _conv(cin, hidden, 3, pad=1)
        self.residual = ResidualStack(hidden, residual, activation, blocks)
        self.out_act = NormActivate(hidden, activation)
        self.to_code = _conv(hidden, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for i in range(self.downsamples):
            h = getattr(self, f"down{i}_act")(getattr(self, f"down{i}")(h))
        h = self.residual(self.conv_mid(h))
        return self.to_code(self.out_act(h))


class ConvDecoder(nn.Module):
    def __init__(self, channels: int, dim: int, hidden: int, downsamples: int, blocks: int, residual: int, activation: str) -> None:
        super().__init__()
        self.downsamples = downsamples
        self.from_code = _conv(dim, hidden, 3, pad=1)
        self.residual = ResidualStack(hidden, residual, activation, blocks)
        self.mid_act = NormActivate(hidden, activation)
        cin = hidden
        for i in range(downsamples):
            last = i == downsamples - 1
            out = channels if last else _stage_width(hidden, downsamples, downsamples - 2 - i)
            self.add_module(f"up{i}", _conv_t(cin, out))
            if not last:
                self.add_module(f"up{i}_act", NormActivate(out, activation))
            cin = out
        if downsamples == 0:
            self.to_image = _conv(hidden, channels, 3, pad=1)

    def forward(self, zq: torch.Tensor) -> torch.Tensor:
        h = self.mid_act(self.residual(self.from_code(zq)))
        for i in range(self.downsamples):
            h = getattr(self, f"up{i}")(h)
            if i != self.downsamples - 1:
                h = getattr(self, f"up{i}_act")(h)
        if self.downsamples == 0:
            h = self.to_image(h)
        return h


class SeanetResidualUnit(nn.Module):
    """x + conv2(ELU(conv1(ELU(x)))): conv1 k taps at ``dilation`` with 'same' zero padding, conv2 1×1."""

    def __init__(self, channels: int, a: SeanetArchitecture, dilation: int) -> None:
        super().__init__()
        hidden = max(1, channels // a.compress)
        self.conv1 = nn.Conv1d(channels, hidden, a.residual_kernel, dilation=dilation, padding=dilation * (a.residual_kernel - 1) // 2)
        self.conv2 = nn.Conv1d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.elu(self.conv1(F.elu(x))))


class SeanetStage(nn.Module):
    """One resolution: residual units ``unit0``, ``unit1``, … and its strided ``conv`` (after the units going down, before them going up)."""

    def __init__(self, channels: int, a: SeanetArchitecture, conv: nn.Module, down: bool) -> None:
        super().__init__()
        self.down = down
        self.conv = conv
        for j, d in enumerate(a.dilations):
            self.add_module(f"unit{j}", SeanetResidualUnit(channels, a, d))
        self.units = len(a.dilations)

    def _units(self, h: torch.Tensor) -> torch.Tensor:
        for j in range(self.units):
            h = getattr(self, f"unit{j}")(h)
        return h

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.down:
            return self.conv(F.elu(self._units(h)))
        return self._units(self.conv(F.elu(h)))


class SeanetEncoder(nn.Module):
    def __init__(self, channels: int, dim: int, a: SeanetArchitecture) -> None:
        super().__init__()
        self.conv_in = nn.Conv1d(channels, a.channels, a.kernel, padding=(a.kernel - 1) // 2)
        for i, s in enumerate(a.strides):
            width = a.channels * 2 ** i
            conv = nn.Conv1d(width, 2 * width, 2 * s, stride=s, padding=(s + 1) // 2)
            self.add_module(f"down{i}", SeanetStage(width, a, conv, down=True))
        self.to_code = nn.Conv1d(a.channels * 2 ** len(a.strides), dim, a.kernel, padding=(a.kernel - 1) // 2)
        self.stages = len(a.strides)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, _, t = x.shape
        h = self.conv_in(x.reshape(n, c, t))
        for i in range(self.stages):
            h = getattr(self, f"down{i}")(h)
        h = self.to_code(F.elu(h))
        return h.reshape(n, h.shape[1], 1, h.shape[2])


class SeanetDecoder(nn.Module):
    def __init__(self, channels: int, dim: int, a: SeanetArchitecture) -> None:
        super().__init__()
        depth = len(a.strides)
        self.from_code = nn.Conv1d(dim, a.channels * 2 ** depth, a.kernel, padding=(a.kernel - 1) // 2)
        for r, s in enumerate(reversed(a.strides)):
            width = a.channels * 2 ** (depth - 1 - r)
            # Output (T − 1)·s − 2⌈s/2⌉ + 2s + (s mod 2) = T·s: the adjoint of the encoder's geometry.
            conv = nn.ConvTranspose1d(2 * width, width, 2 * s, stride=s, padding=(s + 1) // 2, output_padding=s % 2)
            self.add_module(f"up{r}", SeanetStage(width, a, conv, down=False))
        self.to_signal = nn.Conv1d(a.channels, channels, a.kernel, padding=(a.kernel - 1) // 2)
        self.stages = depth

    def forward(self, zq: torch.Tensor) -> torch.Tensor:
        n, d, _, frames = zq.shape
        h = self.from_code(zq.reshape(n, d, frames))
        for r in range(self.stages):
            h = getattr(self, f"up{r}")(h)
        h = self.to_signal(F.elu(h))
        return h.reshape(n, h.shape[1], 1, h.shape[2])


@dataclass
class AutoencoderOutput:
    """``AutoencoderOutputs`` of src/models/forward.ts."""

    reconstruction: torch.Tensor
    #: int64 [N, h, w] ([N, h, w, D] for a residual quantizer).
    indices: torch.Tensor
    quantized: QuantizerOutput
    reconstruction_loss: torch.Tensor
    loss: torch.Tensor


class VqVae(nn.Module):
    """Encoder, quantizer and decoder under vqlab's scopes ``encoder.``, ``quantizer.``, ``decoder.``."""

    def __init__(self, config: ModelConfig, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        c, d = config.input.channels, config.dim
        # Downsampling of (height, width): a signal is one row, downsampled along time only.
        if config.architecture == "reference-mnist":
            factors = (4, 4)
            self.encoder: nn.Module = ReferenceEncoder(c, d)
            self.decoder: nn.Module = ReferenceDecoder(c, d)
        elif config.architecture == "seanet":
            s = config.seanet
            assert s is not None
            factors = (1, math.prod(s.strides))
            self.encoder = SeanetEncoder(c, d, s)
            self.decoder = SeanetDecoder(c, d, s)
        else:
            a = config.conv
            assert a is not None
            factors = (2 ** a.downsamples, 2 ** a.downsamples)
            args = (c, d, a.hidden_channels, a.downsamples, a.residual_blocks, a.residual_channels, a.activation)
            self.encoder = ConvEncoder(*args)
            self.decoder = ConvDecoder(*args)
        (fh, fw), (h, w) = factors, (config.input.height, config.input.width)
        if h % fh or w % fw:
            raise ValueError(f"{config.architecture}: input {h}×{w} must be divisible by {fh}×{fw}")
        self.latent = (h // fh, w // fw)
        self.quantizer = build_quantizer(config.quantizer, seed)

    def quantize_map(self, z: torch.Tensor) -> QuantizerOutput:
        """The quantizer on a feature map [N, d, h, w]: quantized back to NCHW, indices [N, h, w(, D)]."""
        n, d, h, w = z.shape
        out = self.quantizer(z.permute(0, 2, 3, 1).reshape(-1, d))
        flat_indices = out.indices
        out.quantized = out.quantized.reshape(n, h, w, d).permute(0, 3, 1, 2)
        out.indices = flat_indices.reshape(n, h, w, *flat_indices.shape[1:])
        return out

    def forward(self, x: torch.Tensor, loss: str = "mse") -> AutoencoderOutput:
        """The training forward pass, L = mean((x − x̂)²) ('mse') or mean|x − x̂| ('l1') + quantizer loss."""
        if loss not in ("mse", "l1"):
            raise ValueError(f"reconstruction loss {loss!r} is not mse or l1 (the terms this package computes)")
        q = self.quantize_map(self.encoder(x))
        reconstruction = self.decoder(q.quantized)
        diff = reconstruction - x
        recon_loss = (diff * diff).mean() if loss == "mse" else diff.abs().mean()
        return AutoencoderOutput(reconstruction, q.indices, q, recon_loss, recon_loss + q.loss)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Code indices int64 [N, h, w] (or [N, h, w, D]) of images x [N, C, H, W] in [0, 1]."""
        return self.quantize_map(self.encoder(x)).indices

    @torch.no_grad()
    def decode(self, indices: torch.Tensor) -> torch.Tensor:
        """Images [N, C, H, W] (unclamped) from indices [N, h, w] (or [N, h, w, D])."""
        codes = self.quantizer.lookup(indices)  # [N, h, w, d]
        return self.decoder(codes.permute(0, 3, 1, 2))

    def no_decay_parameters(self) -> List[nn.Parameter]:
        """Parameters vqlab never weight-decays: rank < 2 (biases, norm scales) and the quantizer's codebooks."""
        keep = {id(p) for p in self.quantizer.no_decay()}
        return [p for p in self.parameters() if p.dim() < 2 or id(p) in keep]

    def vqlab_state(self) -> Dict[str, torch.Tensor]:
        """Parameters and state under vqlab's names (model.safetensors' tensors)."""
        return {name: t for name, t in self.state_dict().items()}

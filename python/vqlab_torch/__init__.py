"""vqlab in PyTorch: vqlab's VQ-VAE families and quantizers as ``torch.nn`` modules that load a
vqlab run's ``model.safetensors`` by vqlab's names and layouts, continue its training (Adam in
vqlab's arithmetic, DDP-ready) and write a checkpoint vqlab resumes, encodes and exports from.

    from vqlab_torch import load_model
    model, ckpt = load_model("runs/mnist")        # run directory or checkpoint folder
    indices = model.encode(images)                # [N, h, w] int64, as `vqlab encode`
"""
from .checkpoint import Checkpoint, CheckpointError, load_model, make_optimizer, read_checkpoint, save_checkpoint
from .config import ConfigError, ModelConfig, parse_config, read_config
from .models import VqVae

__all__ = ["Checkpoint", "CheckpointError", "ConfigError", "ModelConfig", "VqVae", "load_model", "make_optimizer",
           "parse_config", "read_checkpoint", "read_config", "save_checkpoint"]

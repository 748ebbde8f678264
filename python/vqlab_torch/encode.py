"""``python -m vqlab_torch.encode RUN IMAGE...``: the code indices of PNG images, printed as the
JSON ``vqlab encode`` prints ({"checkpoint", "codebook_size", "grid", "images": [{"file", "indices"}]}),
so the two can be compared line for line."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

import torch

from .checkpoint import load_model
from .png import read_png


def encode_files(run: str, files: List[str], checkpoint: str = "last") -> dict:
    """The ``vqlab encode`` JSON of ``files`` encoded by the checkpoint ``run`` names."""
    model, ckpt = load_model(run, checkpoint)
    shape = ckpt.config.input
    images = []
    for file in files:
        x = read_png(file)
        if tuple(x.shape) != (shape.channels, shape.height, shape.width):
            raise ValueError(f"{file} is {x.shape[0]}×{x.shape[1]}×{x.shape[2]} (C×H×W) but the model takes {shape.channels}×{shape.height}×{shape.width}")
        images.append(x)
    indices = model.encode(torch.stack(images)) if images else torch.zeros(0)
    h, w = model.latent
    depth = model.quantizer.depth
    return {
        "checkpoint": os.path.abspath(run),
        "codebook_size": model.quantizer.codebook_size,
        "grid": [h, w, depth] if depth > 1 else [h, w],
        "images": [{"file": os.path.basename(f), "indices": indices[i].tolist()} for i, f in enumerate(files)],
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vqlab_torch.encode", description="Encode PNG images with a vqlab checkpoint in PyTorch; prints vqlab encode's JSON.")
    parser.add_argument("run", help="run directory or checkpoint folder")
    parser.add_argument("images", nargs="+", help="8-bit grayscale or RGB PNG files of the model's input size")
    parser.add_argument("--checkpoint", choices=["last", "best"], default="last")
    args = parser.parse_args(argv)
    try:
        result = encode_files(args.run, args.images, args.checkpoint)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())

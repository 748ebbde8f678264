"""``python -m vqlab_torch.encode RUN IMAGE...``: the code indices of PNG images, printed as the
JSON ``vqlab encode`` prints ({"checkpoint", "codebook_size", "grid", "images": [{"file", "indices"}]}).

With ``--compare FILE`` (what ``vqlab encode`` wrote for the same images) it prints instead how
far the two agree (agreement.py): {"cells", "identical", "near_ties", "different", "worst_gap"},
and exits with 1 when any index differs other than at a float32 near-tie."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

import torch

from .agreement import compare
from .checkpoint import load_model
from .models import VqVae
from .png import read_png


def read_images(files: List[str], model: VqVae) -> torch.Tensor:
    """The PNG ``files`` as one batch [N, C, H, W], each of the model's input shape."""
    shape = model.config.input
    images = []
    for file in files:
        x = read_png(file)
        if tuple(x.shape) != (shape.channels, shape.height, shape.width):
            raise ValueError(f"{file} is {x.shape[0]}×{x.shape[1]}×{x.shape[2]} (C×H×W) but the model takes {shape.channels}×{shape.height}×{shape.width}")
        images.append(x)
    return torch.stack(images)


def encode_files(run: str, files: List[str], checkpoint: str = "last") -> dict:
    """The ``vqlab encode`` JSON of ``files`` encoded by the checkpoint ``run`` names."""
    model, _ = load_model(run, checkpoint)
    indices = model.encode(read_images(files, model))
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
    parser.add_argument("--compare", metavar="FILE", help="vqlab encode's JSON for the same images: print how far the indices agree")
    args = parser.parse_args(argv)
    try:
        if args.compare is None:
            print(json.dumps(encode_files(args.run, args.images, args.checkpoint), separators=(",", ":")))
            return 0
        model, _ = load_model(args.run, args.checkpoint)
        with open(args.compare, "r", encoding="utf-8") as f:
            theirs = json.load(f)
        by_file = {entry["file"]: entry["indices"] for entry in theirs["images"]}
        missing = [os.path.basename(f) for f in args.images if os.path.basename(f) not in by_file]
        if missing:
            raise ValueError(f"{args.compare} has no indices for {missing[0]}; encode the same images with vqlab")
        indices = torch.tensor([by_file[os.path.basename(f)] for f in args.images], dtype=torch.int64)
        agreement = compare(model, read_images(args.images, model), indices)
    except (ValueError, OSError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(agreement.as_dict()))
    return 0 if agreement.different == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

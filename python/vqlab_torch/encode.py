"""``python -m vqlab_torch.encode RUN IMAGE...``: the code indices of PNG images, printed as the
JSON ``vqlab encode`` prints ({"checkpoint", "codebook_size", "grid", "images": [{"file", "indices"}]}).
For an audio model the files are 16-bit PCM WAV at the model's rate (mono), each coded in windows
of the model's length, the last zero-padded, as ``vqlab encode`` does, and the JSON is its sequence
form ({"checkpoint", "codebook_size", "codes_per_example", "values_per_example",
"sequences": [{"file", "length", "indices"}]}, src/cli/sequence-file.ts).

With ``--compare FILE`` (what ``vqlab encode`` wrote for the same images) it prints instead how
far the two agree (agreement.py): {"cells", "identical", "near_ties", "different", "worst_gap"},
and exits with 1 when any index differs other than at a float32 near-tie."""
from __future__ import annotations

import argparse
import json
import os
import sys
import wave
from typing import List, Optional, Tuple

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


def read_wav16(file: str, sample_rate: int) -> torch.Tensor:
    """The samples of a mono 16-bit PCM WAV at ``sample_rate``, as vqlab reads them (v / 32768)."""
    with wave.open(file, "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != sample_rate:
            raise ValueError(f"{file} is {w.getnchannels()} channel(s) of {8 * w.getsampwidth()}-bit PCM at {w.getframerate()} Hz; "
                             f"this package reads mono 16-bit WAV at the model's {sample_rate} Hz (convert it, or encode with vqlab)")
        data = w.readframes(w.getnframes())
    return torch.frombuffer(bytearray(data), dtype=torch.int16).to(torch.float32) / 32768


def read_windows(files: List[str], model: VqVae) -> Tuple[torch.Tensor, List[int]]:
    """The WAV ``files`` cut into the model's windows [W, 1, 1, samples] (each file's last one zero-padded) and each file's length."""
    assert model.config.sample_rate is not None
    samples = model.config.input.width
    windows, lengths = [], []
    for file in files:
        x = read_wav16(file, model.config.sample_rate)
        count = max(1, -(-x.numel() // samples))
        padded = torch.zeros(count * samples)
        padded[: x.numel()] = x
        windows.append(padded.reshape(count, 1, 1, samples))
        lengths.append(x.numel())
    return torch.cat(windows), lengths


def _encode_sequences(run: str, model: VqVae, files: List[str]) -> dict:
    windows, lengths = read_windows(files, model)
    indices = model.encode(windows)
    per_window = indices.shape[1] * indices.shape[2]
    flat = indices.reshape(indices.shape[0] * per_window, *indices.shape[3:])
    sequences, start = [], 0
    for file, length in zip(files, lengths):
        count = max(1, -(-length // model.config.input.width)) * per_window
        sequences.append({"file": os.path.basename(file), "length": length, "indices": flat[start:start + count].tolist()})
        start += count
    return {
        "checkpoint": os.path.abspath(run),
        "codebook_size": model.quantizer.codebook_size,
        "codes_per_example": per_window,
        "values_per_example": model.config.input.width,
        "sequences": sequences,
    }


def _compare_sequences(model: VqVae, files: List[str], theirs: dict, source: str):
    by_file = {entry["file"]: entry["indices"] for entry in theirs["sequences"]}
    missing = [os.path.basename(f) for f in files if os.path.basename(f) not in by_file]
    if missing:
        raise ValueError(f"{source} has no indices for {missing[0]}; encode the same files with vqlab")
    windows, _ = read_windows(files, model)
    h, w = model.latent
    flat = [index for f in files for index in by_file[os.path.basename(f)]]
    indices = torch.tensor(flat, dtype=torch.int64)
    return compare(model, windows, indices.reshape(windows.shape[0], h, w, *indices.shape[1:]))


def encode_files(run: str, files: List[str], checkpoint: str = "last") -> dict:
    """The ``vqlab encode`` JSON of ``files`` encoded by the checkpoint ``run`` names."""
    model, _ = load_model(run, checkpoint)
    if model.config.sample_rate is not None:
        return _encode_sequences(run, model, files)
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
    parser = argparse.ArgumentParser(prog="python -m vqlab_torch.encode", description="Encode PNG images (or, for an audio model, 16-bit WAV files) with a vqlab checkpoint in PyTorch; prints vqlab encode's JSON.")
    parser.add_argument("run", help="run directory or checkpoint folder")
    parser.add_argument("images", nargs="+", help="8-bit grayscale or RGB PNG files of the model's input size; for an audio model mono 16-bit WAV at its rate")
    parser.add_argument("--checkpoint", choices=["last", "best"], default="last")
    parser.add_argument("--compare", metavar="FILE", help="vqlab encode's JSON for the same files: print how far the indices agree")
    args = parser.parse_args(argv)
    try:
        if args.compare is None:
            print(json.dumps(encode_files(args.run, args.images, args.checkpoint), separators=(",", ":")))
            return 0
        model, _ = load_model(args.run, args.checkpoint)
        with open(args.compare, "r", encoding="utf-8") as f:
            theirs = json.load(f)
        if model.config.sample_rate is not None:
            agreement = _compare_sequences(model, args.images, theirs, args.compare)
            print(json.dumps(agreement.as_dict()))
            return 0 if agreement.different == 0 else 1
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

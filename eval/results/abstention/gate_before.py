"""The gate as it was before calibration (d786e69: one dense-cosine threshold, no key terms), on
the same question sets as gate.py. Run from a checkout of that commit:
PYTHONPATH=CHECKOUT RAG_HOME=... python gate_before.py COLLECTION NAME=FILE ..."""

import importlib.util
import sys
from pathlib import Path

from rag_app.chain.rag import Components
from rag_app.config import get_settings


def _gate_module() -> object:
    """gate.py beside this file, for its question-set reader (this folder is no package)."""
    spec = importlib.util.spec_from_file_location("gate", Path(__file__).with_name("gate.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(collection: str, files: list[str]) -> None:
    settings = get_settings()
    parts = Components(settings.updated(collection=collection) if collection else settings)
    for spec in files:
        name, path = spec.split("=", 1)
        sets = _gate_module().question_sets(name, Path(path))  # type: ignore[attr-defined]
        for set_name, questions in sets.items():
            passed = sum(parts.pipeline.run(q).gate.confident for q in questions)
            print(f"{set_name}: passed {passed}/{len(questions)} (dense >= 0.34 only)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])

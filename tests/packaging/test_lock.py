"""The lock (constraints.txt) against pyproject.toml's ranges, the Lambda layers and this venv.

pyproject.toml gives the library ranges, so that installing it never downgrades a user's numpy
or Pillow; constraints.txt pins what is installed here, in CI and in the layers, so that the
golden tests run on exactly the versions that decide hash values.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = canonicalize_name(PYPROJECT["project"]["name"])
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!-]+)$")


def pins(path: Path) -> dict[str, str]:
    """``name == version`` lines of a lock or requirements file, by canonical name."""
    found: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"{path.name}:{number}: {line!r} is not name==version"
        name = canonicalize_name(match["name"])
        assert name not in found, f"{path.name}:{number}: {name} is pinned twice"
        found[name] = match["version"]
    return found


LOCK = pins(ROOT / "constraints.txt")


def requirements(group: str) -> list[Requirement]:
    """The requirements of ``dependencies`` or of one extra, without the project's own."""
    project = PYPROJECT["project"]
    lines = project["dependencies"] if group == "" else project["optional-dependencies"][group]
    return [r for r in map(Requirement, lines) if canonicalize_name(r.name) != PROJECT]


def groups() -> list[str]:
    return ["", *PYPROJECT["project"]["optional-dependencies"]]


def closure(group: str) -> set[str]:
    """``group`` and the extras of the project it pulls in (``imghash-service[web]``...)."""
    project = PYPROJECT["project"]
    lines = project["dependencies"] if group == "" else project["optional-dependencies"][group]
    found = {"", group}
    for req in map(Requirement, lines):
        if canonicalize_name(req.name) == PROJECT:
            for extra in req.extras:
                found |= closure(extra)
    return found


@pytest.mark.parametrize("group", groups(), ids=lambda g: g or "dependencies")
def test_every_requirement_is_a_range_with_its_pin_inside(group: str) -> None:
    for req in requirements(group):
        name = canonicalize_name(req.name)
        assert name in LOCK, f"{req} ({group or 'dependencies'}) has no pin in constraints.txt"
        assert req.specifier.contains(LOCK[name], prereleases=True), (
            f"constraints.txt pins {name}=={LOCK[name]}, outside pyproject's {req}"
        )
        assert not any(s.operator in ("==", "===") for s in req.specifier), (
            f"{req}: pyproject gives ranges; the exact version goes in constraints.txt"
        )


def test_every_pin_is_a_dependency() -> None:
    named = {canonicalize_name(r.name) for g in groups() for r in requirements(g)}
    build = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    named |= {canonicalize_name(r.name) for r in build}
    assert set(LOCK) - named == set(), "pinned in constraints.txt but required nowhere"
    for req in build:
        assert req.specifier.contains(LOCK[canonicalize_name(req.name)])


#: Dependencies of an extra that a layer leaves out on purpose, with the reason.
NOT_IN_LAYERS = {
    "fastapi-offline": "the functions serve no /docs (create_app(..., docs=False))",
    "tqdm": "the command's progress bar; no function runs the command",
    "platformdirs": "the command's default index location; a function's index is its table",
}


@pytest.mark.parametrize(
    ("layer", "extras"),
    [
        ("layers/imaging/requirements.txt", {"", "heif"}),
        ("layers/imghash/requirements.txt", {"web"}),
    ],
)
def test_each_layer_installs_the_locked_versions(layer: str, extras: set[str]) -> None:
    layer_pins = pins(ROOT / layer)
    wanted = {canonicalize_name(r.name) for extra in extras for r in requirements(extra)}
    wanted -= set(NOT_IN_LAYERS)
    assert set(layer_pins) == wanted, f"{layer} should hold exactly {sorted(wanted)}"
    for name, version in layer_pins.items():
        assert LOCK[name] == version, f"{layer}: {name}=={version}, the lock says {LOCK[name]}"


def test_this_environment_holds_the_locked_versions() -> None:
    """The suite runs on the lock (make setup installs with -c constraints.txt)."""
    for extra in closure("dev"):
        for req in requirements(extra):
            if req.marker is not None and not req.marker.evaluate({"extra": extra}):
                continue
            name = canonicalize_name(req.name)
            installed = importlib.metadata.version(name)
            assert installed == LOCK[name], (
                f"{name} {installed} installed, the lock says {LOCK[name]}"
            )


def test_every_install_hint_names_the_distribution() -> None:
    """``imghash`` on PyPI is another project: hints must say imghash-service."""
    wrong = re.compile(r"pip install\s+['\"]?imghash(?!-service)\b")
    places = [ROOT / "README.md", *sorted((ROOT / "layers/imghash/imghash").rglob("*.py"))]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in places
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if wrong.search(line)
    ]
    assert found == []


def test_check_ranges_starts_at_the_lower_bounds() -> None:
    """``make check-ranges`` tests the oldest versions pyproject admits, not others."""
    makefile = (ROOT / "Makefile").read_text()
    oldest = dict(
        pin.split("==") for pin in re.search(r"^RANGE_OLDEST := (.*)$", makefile, re.M)[1].split()
    )
    names = re.search(r"^RANGE_NAMES := (.*)$", makefile, re.M)[1].split()
    assert sorted(oldest) == sorted(names)
    for req in requirements(""):
        name = canonicalize_name(req.name)
        if name in oldest:
            lower = [s.version for s in req.specifier if s.operator == ">="]
            assert lower, f"{req} has no lower bound"
            assert Version(oldest[name]) == Version(lower[0]), f"{req} vs {name}=={oldest[name]}"
            assert req.specifier.contains(oldest[name])
    assert {canonicalize_name(n) for n in names} <= {
        canonicalize_name(r.name) for r in requirements("")
    }

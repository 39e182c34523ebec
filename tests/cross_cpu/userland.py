"""An aarch64 CPython 3.13 with imghash's runtime wheels, run on this machine by qemu-user.

How (``shared/notes/arm64-emulation.md``): Debian trixie's arm64 packages of Python 3.13
and its libraries, fetched by apt with every state and cache folder pointed into our
cache (the system's apt state is not touched) and unpacked with ``dpkg -x``; then the
aarch64 wheels of the very versions installed here, from ``pip download --platform``.
The wheel list is imghash's runtime requirements and its ``heif`` extra (what the
Lambda layer holds), read from the installed metadata, so pins or a lock file decide it.

Everything is cached under ``~/.cache/imghash/arm64`` (``$XDG_CACHE_HOME`` honoured),
one root per set of packages and pins, built once under a file lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib.metadata import packages_distributions, requires, version
from pathlib import Path

from packaging.requirements import Requirement

__all__ = ["QEMU", "cache_dir", "ensure_userland", "run_python", "runtime_pins"]

QEMU = shutil.which("qemu-aarch64-static")
SOURCE = "deb [arch=arm64 trusted=yes] http://deb.debian.org/debian trixie main"
#: python3.13 and the libraries it and the manylinux wheels link against.
PACKAGES = (
    "python3.13-minimal",
    "libpython3.13-minimal",
    "libpython3.13-stdlib",
    "libc6",
    "libgcc-s1",
    "libstdc++6",
    "zlib1g",
    "libexpat1",
    "libffi8",
    "libbz2-1.0",
    "liblzma5",
    "libzstd1",
    "libssl3t64",
    "libmpdec4",
    "libsqlite3-0",
    "libuuid1",
    "libcrypt1",
    "libtinfo6",
    "libncursesw6",
    "libreadline8t64",
    "libnsl2",
    "libtirpc3t64",
)
PLATFORMS = ("manylinux_2_28_aarch64", "manylinux2014_aarch64", "manylinux_2_17_aarch64")
EXTRAS = {"heif"}
SITE = "opt/imghash-wheels"


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "imghash" / "arm64"


def runtime_pins() -> list[str]:
    """``name==version`` for imghash's runtime requirements (and ``heif``), as installed."""
    pins = set()
    # The distribution's name is not the import name (imghash-service: see pyproject).
    (distribution,) = set(packages_distributions()["imghash"])
    for raw in requires(distribution) or []:
        requirement = Requirement(raw)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": e}) for e in EXTRAS):
            pins.add(f"{requirement.name}=={version(requirement.name)}")
    return sorted(pins)


def _run(command: list[str], cwd: Path | None = None) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def _apt(cache: Path) -> list[str]:
    state = cache / "apt"
    for sub in ("lists/partial", "cache/archives/partial"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / "sources.list").write_text(SOURCE + "\n")
    (state / "status").touch()
    return [
        "apt-get",
        "-q",
        "-o", f"Dir::Etc::sourcelist={state / 'sources.list'}",
        "-o", "Dir::Etc::sourceparts=-",
        "-o", f"Dir::State::Lists={state / 'lists'}",
        "-o", f"Dir::State::status={state / 'status'}",
        "-o", f"Dir::Cache={state / 'cache'}",
        "-o", "APT::Architecture=arm64",
        "-o", "APT::Architectures=arm64",
    ]  # fmt: skip


def _build(root: Path, pins: list[str], cache: Path) -> None:
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    apt = _apt(cache)
    _run([*apt, "update"])
    _run([*apt, "download", *PACKAGES], cwd=debs)
    for deb in sorted(debs.glob("*.deb")):
        if deb.name.split("_")[0] in PACKAGES:
            _run(["dpkg", "-x", str(deb), str(root)])
    for name in ("lib", "bin"):  # trixie is merged-/usr; qemu looks for /lib/ld-linux-aarch64
        if not (root / name).exists():
            (root / name).symlink_to(f"usr/{name}")
    wheels = cache / "wheels"
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    _run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--only-binary=:all:", "--implementation", "cp", "--python-version",
         "3.13", *platforms, "--dest", str(wheels), *pins]
    )  # fmt: skip
    site = root / SITE
    for pin in pins:
        name, wanted = pin.split("==")
        stem = name.replace("-", "_").lower()
        [wheel] = [
            w
            for w in wheels.glob("*.whl")
            if w.name.lower().startswith(f"{stem}-{wanted}-")
            and ("aarch64" in w.name or w.name.endswith("-none-any.whl"))  # or pure Python
        ]
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)


def ensure_userland() -> Path:
    """The aarch64 root (built on first use, then cached): python at usr/bin/python3.13."""
    cache = cache_dir()
    pins = runtime_pins()
    key = hashlib.sha256("\n".join([SOURCE, *PACKAGES, *pins]).encode()).hexdigest()[:12]
    root = cache / f"root-{key}"
    if (root / ".complete").is_file():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be building the same root
        if (root / ".complete").is_file():
            return root
        work = Path(tempfile.mkdtemp(prefix="build-", dir=cache))
        try:
            _build(work / "root", pins, cache)
            (work / "root" / ".complete").write_text("\n".join(pins) + "\n")
            shutil.rmtree(root, ignore_errors=True)
            (work / "root").rename(root)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return root


def run_python(
    root: Path,
    args: list[str],
    path: list[Path],
    timeout: float,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python3.13 args`` of the aarch64 root under qemu, ``path`` first on sys.path."""
    assert QEMU is not None
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(str(p) for p in [root / SITE, *path]),
        "PYTHONNOUSERSITE": "1",
        "LC_ALL": "C.UTF-8",
        **(extra_env or {}),
    }
    return subprocess.run(
        [QEMU, "-L", str(root), str(root / "usr/bin/python3.13"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )

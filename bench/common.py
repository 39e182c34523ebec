"""What the benchmarks share: the corpus, timing, and markdown tables."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bytecode_env(scratch: Path) -> dict[str, str]:
    """The environment for timing fresh processes as an installed package runs: with
    Python's bytecode cache (kept under ``scratch``). Where ``PYTHONDONTWRITEBYTECODE`` is
    set and the packages hold no ``.pyc`` files (this machine), every process would
    otherwise compile numpy, Pillow and imghash from source first; a Lambda layer built by
    pip holds its ``.pyc`` files. Run each command once before timing it, to fill the cache.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    return env


def corpus() -> Path:
    """The shared corpus (IMGHASH_CORPUS, default ../shared/corpus); the benchmarks need it."""
    path = Path(os.environ.get("IMGHASH_CORPUS", ROOT.parent / "shared" / "corpus")).resolve()
    if not (path / "photos").is_dir():
        raise SystemExit(f"bench: the corpus is not at {path}; set IMGHASH_CORPUS")
    return path


def interleaved_medians(
    contenders: dict[str, Callable[[], object]], rounds: int
) -> dict[str, float]:
    """Median seconds per call, the contenders taking turns so that drift hits all alike."""
    for run in contenders.values():
        run()  # warm caches and lazy imports
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            start = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)

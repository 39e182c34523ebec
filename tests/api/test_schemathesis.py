"""API fuzzing: schemathesis against the real uvicorn server, on every operation of the
OpenAPI document the server serves (issue 10).

Checks: no 5xx, status codes and content types as documented, every response (the
envelope, errors included) against its schema, headers as documented, and unsupported
methods answered 405 with a correct ``Allow`` header. Not checked: that every
schema-valid request is accepted (``positive_data_acceptance``: the document cannot say
that an image must decode), nor that every schema-violating one is refused
(``negative_data_rejection``: its coverage phase flags POSTs whose query goes on the
wire as ``?profile=jimp``, a valid value, as "schema-violating"). Every generated URL points at
loopback, which the fetcher refuses (``schemathesis_hooks.py``): nothing is fetched.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from imghash.index import SQLiteStore
from tests.servers import api_server

ROOT = Path(__file__).resolve().parents[2]
#: Test cases per operation and phase; a fixed seed, so that a failure reproduces.
EXAMPLES = 30
SEED = 20261125
NOT_CHECKED = ("positive_data_acceptance", "negative_data_rejection")


@pytest.mark.slow
def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    db = tmp_path / "index.db"
    SQLiteStore(db).generation()  # opened for writing: an empty index, for /v1/search
    with api_server({"IMGHASH_DB": str(db)}) as (base, _):
        done = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "--config-file",
                str(Path(__file__).with_name("schemathesis.toml")),
                "run",
                f"{base}/openapi.json",
                "--checks",
                "all",
                "--exclude-checks",
                ",".join(NOT_CHECKED),
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                str(EXAMPLES),
                "--seed",
                str(SEED),
                "--generation-database",
                "none",
                "--workers",
                "1",
                "--request-timeout",
                "30",
                "--no-color",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
                "PYTHONPATH": str(ROOT),
            },
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-6000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    assert selected, report[-3000:]
    assert selected[1] == selected[2]  # every operation of the document was tested
    assert int(selected[1]) >= 7
    assert re.search(r"\d+ generated, \d+ passed", report), report[-3000:]

"""The AWS stack: sam validate, sam validate --lint and sam build, no Docker, no credentials.

The SAM CLI lives in its own virtual environment (``make setup`` makes ``.venv-sam``);
``make test`` names it in IMGHASH_SAM.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import need

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sam() -> Path:
    path = os.environ.get("IMGHASH_SAM", "")
    need(
        bool(path),
        "IMGHASH_SAM is not set: run the suite through `make test`, which installs the SAM CLI",
    )
    return Path(path)


def _env() -> dict[str, str]:
    """SAM needs a python3.13 on PATH to build python3.13 functions; no AWS account."""
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "eu-west-1"}
    candidates = [
        Path(sys.executable).parent if sys.version_info[:2] == (3, 13) else None,
        Path.home() / ".pyenv/versions/3.13.0/bin",
    ]
    found = shutil.which("python3.13")
    if found:
        candidates.append(Path(found).parent)
    for folder in candidates:
        if folder and (folder / "python3.13").exists():
            env["PATH"] = f"{folder}{os.pathsep}{env['PATH']}"
            break
    return env


def run(sam: Path, *args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(
        [str(sam), *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_validate(sam: Path) -> None:
    assert "is a valid SAM Template" in run(sam, "validate", "--region", "eu-west-1")


def test_validate_lint(sam: Path) -> None:
    assert "is a valid SAM Template" in run(sam, "validate", "--lint", "--region", "eu-west-1")


@pytest.fixture(scope="module")
def built(sam: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sam-build")
    run(sam, "build", "--build-dir", str(out), "--cache-dir", str(out / ".cache"))
    return out


def test_build_makes_every_function_and_layer(built: Path) -> None:
    for name in (
        "HashFunction",
        "CompareFunction",
        "MetaFunction",
        "SearchFunction",
        "IndexFunction",
    ):
        assert (built / name / "app.py").is_file()
    assert (built / "ImghashLayer" / "python" / "imghash" / "_jimp_resize.py").is_file()
    assert not list((built / "ImghashLayer" / "python" / "imghash").rglob("__pycache__"))


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


def test_imaging_layer_holds_aarch64_cp313_binaries(built: Path) -> None:
    python = built / "ImagingLayer" / "python"
    for package in ("numpy", "PIL", "pillow_heif"):
        assert (python / package).is_dir(), package
    extensions = list(python.rglob("*.so"))
    compiled = [p for p in extensions if ".cpython-" in p.name]
    assert compiled, "no compiled extension in the imaging layer"
    assert all("cpython-313-aarch64-linux-gnu" in p.name for p in compiled)
    aarch64 = 183  # EM_AARCH64
    assert {_elf_machine(p) for p in extensions} == {aarch64}
    for line in (ROOT / "layers/imaging/requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            assert (python / f"{name.replace('-', '_')}-{version}.dist-info").is_dir(), line


def test_layer_pins_match_the_project(built: Path) -> None:
    # The lock (constraints.txt) decides versions; tests/packaging/test_lock.py checks more.
    lock = (ROOT / "constraints.txt").read_text().splitlines()
    for line in (ROOT / "layers/imaging/requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert line in lock, line
    for line in (ROOT / "layers/imghash/requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert line in lock, line


@pytest.fixture(scope="module")
def template(sam: Path) -> dict[str, Any]:
    python = sam.parent / "python"
    code = (
        "import json, sys; from samcli.yamlhelper import yaml_parse; "
        "print(json.dumps(yaml_parse(open(sys.argv[1]).read())))"
    )
    done = subprocess.run(
        [str(python), "-c", code, str(ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        check=True,
    )
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def test_usage_plans_are_the_seed_tiers(template: dict[str, Any]) -> None:
    plans = {
        r["Properties"]["UsagePlanName"]: (
            r["Properties"]["Quota"]["Limit"],
            r["Properties"]["Throttle"]["RateLimit"],
        )
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::UsagePlan"
    }
    assert plans == {
        "imghash-free": (1560, 2),
        "imghash-starter": (31000, 8),
        "imghash-pro": (188000, 20),
        "imghash-mega": (960000, 50),
    }


def test_api_requires_keys_and_answers_errors_in_the_envelope(template: dict[str, Any]) -> None:
    api = template["Resources"]["Api"]["Properties"]
    assert api["Auth"]["ApiKeyRequired"] is True
    assert {"image~1*", "multipart~1form-data"} <= set(api["BinaryMediaTypes"])
    responses = api["GatewayResponses"]
    assert responses["INVALID_API_KEY"]["StatusCode"] == "401"
    assert responses["THROTTLED"]["StatusCode"] == "429"
    assert responses["QUOTA_EXCEEDED"]["StatusCode"] == "429"
    for kind in ("INVALID_API_KEY", "THROTTLED", "QUOTA_EXCEEDED", "DEFAULT_4XX", "DEFAULT_5XX"):
        body = responses[kind]["ResponseTemplates"]["application/json"]
        assert '"success": false' in body
        assert '"error": {"code": ' in body


def test_functions_run_python313_on_arm64(template: dict[str, Any]) -> None:
    function = template["Globals"]["Function"]
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    handlers = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
    ]
    assert {r["Properties"]["CodeUri"] for r in handlers} == {
        "functions/hash",
        "functions/compare",
        "functions/meta",
        "functions/search",
        "functions/index",
    }


def test_each_role_reaches_only_what_it_uses(template: dict[str, Any]) -> None:
    resources = template["Resources"]

    def policies(name: str) -> list[str]:
        return [next(iter(p)) for p in resources[name]["Properties"].get("Policies", [])]

    for name in ("HashFunction", "CompareFunction", "MetaFunction"):
        assert policies(name) == [], name
    assert policies("SearchFunction") == ["DynamoDBReadPolicy"]
    assert sorted(policies("IndexFunction")) == [
        "DynamoDBCrudPolicy",
        "S3ReadPolicy",
        "SQSSendMessagePolicy",
    ]


def test_index_function_trigger_and_failures(template: dict[str, Any]) -> None:
    index = template["Resources"]["IndexFunction"]["Properties"]
    trigger = index["Events"]["Images"]["Properties"]
    assert trigger["Bucket"] == {"Ref": "ImagesBucket"}
    assert set(trigger["Events"]) == {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}
    rules = trigger["Filter"]["S3Key"]["Rules"]
    assert rules == [{"Name": "prefix", "Value": {"Ref": "ImagesPrefix"}}]
    assert index["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    assert index["ReservedConcurrentExecutions"] >= 1
    assert index["Environment"]["Variables"]["IMGHASH_TABLE"] == {"Ref": "IndexTable"}


def test_table_key_is_the_one_the_store_writes(template: dict[str, Any]) -> None:
    from imghash.index._dynamodb import TABLE_KEY

    table = template["Resources"]["IndexTable"]["Properties"]
    assert table["KeySchema"] == TABLE_KEY["KeySchema"]
    assert table["AttributeDefinitions"] == TABLE_KEY["AttributeDefinitions"]

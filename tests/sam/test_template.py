"""The AWS stack: sam validate, sam validate --lint and sam build, no Docker, no credentials.

The SAM CLI lives in its own virtual environment (``make setup`` makes ``.venv-sam``);
``make test`` names it in IMGHASH_SAM.
"""

from __future__ import annotations

import json
import os
import re
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
        "BatchFunction",
        "CompareFunction",
        "MetaFunction",
        "SearchFunction",
        "IndexFunction",
    ):
        assert (built / name / "app.py").is_file()
    assert (built / "ImghashLayer" / "python" / "imghash" / "_jimp_resize.py").is_file()


#: A .pyc file's flags word (PEP 552): 1 = checked against its source by hash, not mtime,
#: and not checked at all (bit 1 clear): what a read-only layer needs.
UNCHECKED_HASH = 1


def test_layers_carry_bytecode_for_the_runtime(built: Path) -> None:
    """Lambda's /opt is read-only: a layer without .pyc files compiles on every cold start."""
    for layer in ("ImagingLayer", "ImghashLayer"):
        root = built / layer / "python"
        sources = [p for p in root.rglob("*.py") if "__pycache__" not in p.parts]
        assert len(sources) > 100, layer
        for source in sources:
            compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
            header = compiled.read_bytes()[:8]  # the file must exist: no source left out
            assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH, compiled
        # Nothing compiled by another Python (a developer's own caches copied along).
        assert not [p for p in root.rglob("*.pyc") if ".cpython-313." not in p.name], layer


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
        "functions/batch",
        "functions/compare",
        "functions/meta",
        "functions/search",
        "functions/index",
        "functions/schema",
    }


def test_functions_hash_each_image_on_one_thread(template: dict[str, Any]) -> None:
    # 1,769 MB is one vCPU: threads would only take turns on it.
    function = template["Globals"]["Function"]
    assert function["MemorySize"] == 1769
    assert function["Environment"]["Variables"]["IMGHASH_THREADS"] == "1"
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            variables = resource["Properties"].get("Environment", {}).get("Variables", {})
            assert "IMGHASH_THREADS" not in variables


def test_each_role_reaches_only_what_it_uses(template: dict[str, Any]) -> None:
    resources = template["Resources"]

    def policies(name: str) -> list[str]:
        return [next(iter(p)) for p in resources[name]["Properties"].get("Policies", [])]

    for name in ("HashFunction", "BatchFunction", "CompareFunction", "MetaFunction"):
        assert policies(name) == [], name
    # The search and index roles depend on IndexEngine: test_index_engines.py checks them,
    # translated and resolved, for each engine.
    assert "Fn::If" in policies("SearchFunction")
    assert {"S3ReadPolicy", "SQSSendMessagePolicy"} <= set(policies("IndexFunction"))


def test_index_function_trigger_and_failures(template: dict[str, Any]) -> None:
    index = template["Resources"]["IndexFunction"]["Properties"]
    trigger = index["Events"]["Images"]["Properties"]
    assert trigger["Bucket"] == {"Ref": "ImagesBucket"}
    assert set(trigger["Events"]) == {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}
    rules = trigger["Filter"]["S3Key"]["Rules"]
    assert rules == [{"Name": "prefix", "Value": {"Ref": "ImagesPrefix"}}]
    assert index["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    assert index["ReservedConcurrentExecutions"] >= 1
    assert index["Environment"]["Variables"]["IMGHASH_TABLE"] == {
        "Fn::If": ["UseDynamoDB", {"Ref": "IndexTable"}, ""]
    }


def test_batch_budgets_end_before_the_function_and_the_gateway(template: dict[str, Any]) -> None:
    """The batch's budgets count from its start: they must leave the item then hashing time
    to finish before the function's Timeout and API Gateway's 29 s (integration limit)."""
    from imghash import Settings

    batch = template["Resources"]["BatchFunction"]["Properties"]
    variables = {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **batch["Environment"]["Variables"],
    }
    settings = Settings.from_environ({k: v for k, v in variables.items() if isinstance(v, str)})
    timeout = batch.get("Timeout", template["Globals"]["Function"]["Timeout"])
    assert timeout <= 29
    assert settings.batch_fetch_seconds < settings.batch_seconds <= timeout - 5
    # Lambda's request payload is 6 MiB, the whole event: the body, in base64 for multipart
    # (a binary media type), beside headers and the request context.
    lambda_payload = 6 * 1024 * 1024
    assert settings.max_batch_bytes <= lambda_payload - 256 * 1024
    assert "multipart~1form-data" in template["Resources"]["Api"]["Properties"]["BinaryMediaTypes"]


def test_table_key_is_the_one_the_store_writes(template: dict[str, Any]) -> None:
    from imghash.index._dynamodb import TABLE_KEY

    table = template["Resources"]["IndexTable"]["Properties"]
    assert table["KeySchema"] == TABLE_KEY["KeySchema"]
    assert table["AttributeDefinitions"] == TABLE_KEY["AttributeDefinitions"]


# --- production items: URLs, logs, tracing, retention, CORS, guided deploy ---------------


@pytest.fixture(scope="module")
def translated(sam: Path) -> dict[str, Any]:
    """The template as CloudFormation receives it (the SAM transform, run offline)."""
    code = (
        "import json, sys\n"
        "from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader\n"
        "from samcli.lib.translate.sam_template_validator import SamTemplateValidator\n"
        "from samcli.yamlhelper import yaml_parse\n"
        "template = yaml_parse(open(sys.argv[1]).read())\n"
        "loader = ManagedPolicyLoader(None)\n"
        "validator = SamTemplateValidator(template, loader, region='eu-west-1')\n"
        "print(json.dumps(yaml_parse(validator.get_translated_template_if_valid())))\n"
    )
    done = subprocess.run(
        [str(sam.parent / "python"), "-c", code, str(ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        env=_env(),
        check=True,
    )
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return _of_type(template, "AWS::Serverless::Function")


def _routes(template: dict[str, Any]) -> set[tuple[str, str]]:
    """(method, path) of every Api event of every function."""
    return {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for function in _functions(template).values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
    }


def _render(value: Any, template: dict[str, Any], **ids: str) -> str:
    """A Fn::Sub output with resource ids, the region and the parameters' defaults put in."""
    text = value["Fn::Sub"]
    names = {**ids, "AWS::Region": "eu-west-1"}
    names |= {k: str(p.get("Default", "")) for k, p in template["Parameters"].items()}
    return re.sub(r"\$\{([^}]+)\}", lambda m: names[m.group(1)], text)


def test_api_url_output_plus_a_route_is_the_real_url(template: dict[str, Any]) -> None:
    api_id = "a1b2c3d4e5"
    stage = template["Parameters"]["StageName"]["Default"]
    api_url = _render(template["Outputs"]["ApiUrl"]["Value"], template, Api=api_id)
    routes = _routes(template)
    assert {path for _, path in routes} == {
        "/v1/hash",
        "/v1/hash/batch",
        "/v1/compare",
        "/v1/meta",
        "/v1/search",
    }
    for _, path in routes:
        # API Gateway serves a REST API's resource at /STAGE/PATH of its execute-api host.
        real = f"https://{api_id}.execute-api.eu-west-1.amazonaws.com/{stage}{path}"
        assert api_url + path == real
        assert "/v1/v1/" not in api_url + path
    meta_url = _render(template["Outputs"]["MetaUrl"]["Value"], template, Api=api_id)
    assert meta_url == api_url + "/v1/meta"
    assert ("GET", "/v1/meta") in routes


def test_events_are_requests_to_the_template_routes(template: dict[str, Any]) -> None:
    stage = template["Parameters"]["StageName"]["Default"]
    routes = _routes(template)
    checked = 0
    for path in sorted((ROOT / "events").glob("*.json")):
        event = json.loads(path.read_text())
        if "requestContext" not in event:
            continue  # an S3 notification or a Batch Operations job
        context = event["requestContext"]
        assert (event["httpMethod"], event["resource"]) in routes, path.name
        assert context["stage"] == stage, path.name
        assert context["path"] == f"/{stage}{event['path']}", path.name
        checked += 1
    assert checked >= 8


def test_readme_urls_of_the_deployed_api_are_real(template: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text()
    found = re.findall(
        r"https://([A-Za-z0-9]+)\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(/\S*)", readme
    )
    assert found, "the README shows no URL of the deployed API"
    stage = template["Parameters"]["StageName"]["Default"]
    paths = {path for _, path in _routes(template)}
    for _, _, tail in found:
        tail = tail.rstrip("`.,)\"'")
        assert tail == f"/{stage}" or tail.removeprefix(f"/{stage}") in paths, tail


def test_every_function_logs_to_its_own_group_with_retention(template: dict[str, Any]) -> None:
    retention = template["Parameters"]["LogRetentionDays"]
    assert retention["Default"] in retention["AllowedValues"]
    groups = _of_type(template, "AWS::Logs::LogGroup")
    names = []
    for name, function in _functions(template).items():
        ref = function["Properties"].get("LoggingConfig", {}).get("LogGroup")
        assert isinstance(ref, dict), f"{name} has no log group of its own"
        assert set(ref) == {"Ref"}, name
        group = groups[ref["Ref"]]["Properties"]
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        names.append(json.dumps(group["LogGroupName"]))
    assert len(set(names)) == len(names) == len(_functions(template))


def test_tracing_is_one_switch_for_the_api_and_every_function(
    template: dict[str, Any], translated: dict[str, Any]
) -> None:
    parameter = template["Parameters"]["Tracing"]
    assert parameter["Default"] == "PassThrough"
    assert set(parameter["AllowedValues"]) == {"PassThrough", "Active"}
    assert template["Conditions"]["TracingActive"] == {"Fn::Equals": [{"Ref": "Tracing"}, "Active"]}
    for name, function in _of_type(translated, "AWS::Lambda::Function").items():
        assert function["Properties"]["TracingConfig"] == {"Mode": {"Ref": "Tracing"}}, name
    (stage,) = _of_type(translated, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["TracingEnabled"] == {"Fn::If": ["TracingActive", True, False]}


STATEFUL = {
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
}


def test_stored_data_outlives_the_stack(template: dict[str, Any]) -> None:
    kept = {
        name: (r.get("DeletionPolicy"), r.get("UpdateReplacePolicy"))
        for name, r in template["Resources"].items()
        if r["Type"] in STATEFUL
    }
    assert {"ImagesBucket", "IndexTable"} <= set(kept)
    for name, (deletion, replacement) in kept.items():
        assert deletion in {"Retain", "Snapshot"}, name
        assert replacement in {"Retain", "Snapshot"}, name


def test_cors_is_one_parameter_for_answers_preflights_and_gateway_errors(
    template: dict[str, Any], translated: dict[str, Any]
) -> None:
    from imghash.web._app import CORS_HEADERS

    assert template["Parameters"]["CorsOrigin"]["Default"] == "*"
    origin = {"Fn::Sub": "'${CorsOrigin}'"}
    api = template["Resources"]["Api"]["Properties"]
    assert api["Cors"]["AllowOrigin"] == origin
    assert api["Cors"]["AllowHeaders"] == "'" + ",".join(CORS_HEADERS) + "'"
    assert api["Auth"]["AddApiKeyRequiredToCorsPreflight"] is False  # preflights carry no key
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["IMGHASH_CORS_ORIGIN"] == {"Ref": "CorsOrigin"}  # the functions' answers
    body = translated["Resources"]["Api"]["Properties"]["Body"]
    for path, methods in body["paths"].items():
        preflight = methods["options"]
        assert "security" not in preflight, path
        headers = preflight["x-amazon-apigateway-integration"]["responses"]["default"]
        assert (
            headers["responseParameters"]["method.response.header.Access-Control-Allow-Origin"]
            == origin
        )
    responses = body["x-amazon-apigateway-gateway-responses"]
    assert set(responses) == set(api["GatewayResponses"])
    for kind, response in responses.items():
        header = response["responseParameters"][
            "gatewayresponse.header.Access-Control-Allow-Origin"
        ]
        assert header == origin, kind


def test_gateway_messages_are_the_documented_examples(template: dict[str, Any]) -> None:
    from imghash.web._docs import ERROR_EXAMPLES
    from imghash.web._envelope import UNAUTHORIZED

    responses = template["Resources"]["Api"]["Properties"]["GatewayResponses"]

    def message(kind: str) -> str:
        body = json.loads(
            responses[kind]["ResponseTemplates"]["application/json"].replace("$context.", "")
        )
        assert body["message"] == body["error"]["message"]
        return str(body["error"]["message"])

    assert message("INVALID_API_KEY") == UNAUTHORIZED
    assert {message("THROTTLED"), message("QUOTA_EXCEEDED")} == {
        m for _, m in ERROR_EXAMPLES[429].values()
    }


def test_example_key_output_prints_the_key(template: dict[str, Any]) -> None:
    output = template["Outputs"]["ExampleKeyCommand"]["Value"]
    command = _render(output, template, ExampleKey="k1a2b3c4d5")
    assert command == (
        "aws apigateway get-api-key --api-key k1a2b3c4d5 --include-value --query value "
        "--output text --region eu-west-1"
    )


def test_guided_deploy_is_enter_at_every_prompt(
    sam: Path, template: dict[str, Any], tmp_path: Path
) -> None:
    """`sam deploy --guided` answered with Enter only, up to where it needs AWS."""
    for name in ("template.yaml", "samconfig.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "SAM_CLI_TELEMETRY": "0",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    done = subprocess.run(
        [str(sam), "deploy", "--guided"],
        cwd=tmp_path,
        env=env,
        input="\n" * 60,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout + done.stderr
    for name, parameter in template["Parameters"].items():
        assert f"Parameter {name} [{parameter['Default']}]:" in out, name
    assert "Stack Name [imghash]:" in out
    assert "Confirm changes before deploy [y/N]:" in out  # else Enter later cancels the deploy
    assert "Is this okay?" not in out  # every API function is behind the API key
    # Every prompt took its default: SAM went on to look for the account's resources.
    assert "Looking for resources needed for deployment:" in out, out
    assert "Unable to locate credentials" in out, out
    assert (tmp_path / "samconfig.toml").read_text() == (ROOT / "samconfig.toml").read_text()

"""The stack's two index engines (IndexEngine=dynamodb | aurora): each passes sam validate
--lint and sam build, and its roles, once SAM has translated the template and the
conditions are resolved, reach only what each function uses."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.sam.test_template import ROOT, run, sam  # noqa: F401 - the SAM CLI fixture

ENGINES = ("dynamodb", "aurora")

# Translate with SAM's own translator (in .venv-sam), offline: code locations become S3
# placeholders, as `sam validate` does.
_TRANSLATE = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

template = yaml_parse(open(sys.argv[1]).read())
for resource in template["Resources"].values():
    for name in ("CodeUri", "ContentUri"):
        if name in resource.get("Properties", {}):
            resource["Properties"][name] = "s3://bucket/key"
print(json.dumps(transform(template, json.loads(sys.argv[2]), NoManagedPolicies())))
"""

_NO_VALUE = object()


def resolve(node: Any, conditions: dict[str, bool]) -> Any:
    """The template as CloudFormation would use it: Fn::If taken, AWS::NoValue dropped."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return resolve(yes if conditions[name] else no, conditions)
        if node == {"Ref": "AWS::NoValue"}:
            return _NO_VALUE
        found = {k: resolve(v, conditions) for k, v in node.items()}
        return {k: v for k, v in found.items() if v is not _NO_VALUE}
    if isinstance(node, list):
        return [v for v in (resolve(i, conditions) for i in node) if v is not _NO_VALUE]
    return node


def evaluate(node: Any, parameters: dict[str, str], conditions: dict[str, Any]) -> bool:
    ((function, args),) = node.items()
    if function == "Fn::Equals":
        values = [parameters[a["Ref"]] if isinstance(a, dict) else a for a in args]
        return bool(values[0] == values[1])
    if function == "Condition":
        return evaluate(conditions[args], parameters, conditions)
    if function == "Fn::And":
        return all(evaluate(a, parameters, conditions) for a in args)
    if function == "Fn::Or":
        return any(evaluate(a, parameters, conditions) for a in args)
    if function == "Fn::Not":
        return not evaluate(args[0], parameters, conditions)
    raise AssertionError(f"unexpected condition function {function}")


@pytest.fixture(scope="module", params=ENGINES)
def stack(request: pytest.FixtureRequest, sam: Path) -> dict[str, Any]:  # noqa: F811
    """The translated stack for one engine (with a reader for aurora), resolved."""
    parameters = {"IndexEngine": request.param, "AuroraReader": "true"}
    done = subprocess.run(
        [
            str(sam.parent / "python"),
            "-c",
            _TRANSLATE,
            str(ROOT / "template.yaml"),
            json.dumps(parameters),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"AWS_DEFAULT_REGION": "eu-west-1", "PATH": "/usr/bin:/bin"},
    )
    template = json.loads(done.stdout)
    defaults = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
    values = {**defaults, **parameters}
    conditions = {
        name: evaluate(body, values, template["Conditions"])
        for name, body in template["Conditions"].items()
    }
    resources = {
        name: resolve(body, conditions)
        for name, body in template["Resources"].items()
        if conditions.get(body.get("Condition", ""), True)
    }
    return {"engine": request.param, "resources": resources, "outputs": template["Outputs"]}


def statements(stack: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role = stack["resources"][f"{function}Role"]["Properties"]
    found = []
    for policy in role.get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            found.append(
                {
                    "actions": sorted([actions] if isinstance(actions, str) else actions),
                    "resource": statement["Resource"],
                }
            )
    return found


def actions(stack: dict[str, Any], function: str) -> set[str]:
    return {a for s in statements(stack, function) for a in s["actions"]}


def env(stack: dict[str, Any], function: str) -> dict[str, Any]:
    variables: dict[str, Any] = stack["resources"][function]["Properties"]["Environment"][
        "Variables"
    ]
    return variables


def test_each_engine_makes_only_its_own_store(stack: dict[str, Any]) -> None:
    kinds = {r["Type"] for r in stack["resources"].values()}
    if stack["engine"] == "aurora":
        assert "AWS::DynamoDB::Table" not in kinds
        cluster = stack["resources"]["IndexCluster"]["Properties"]
        assert cluster["Engine"] == "aurora-postgresql"
        assert cluster["EnableHttpEndpoint"] is True
        assert cluster["ManageMasterUserPassword"] is True
        assert set(cluster["ServerlessV2ScalingConfiguration"]) == {"MinCapacity", "MaxCapacity"}
        instances = [
            r["Properties"]
            for r in stack["resources"].values()
            if r["Type"] == "AWS::RDS::DBInstance"
        ]
        assert sorted(i["PromotionTier"] for i in instances) == [0, 1]  # writer and reader
        assert {i["DBInstanceClass"] for i in instances} == {"db.serverless"}
        assert stack["resources"]["IndexSchema"]["Type"] == "Custom::IndexSchema"
    else:
        assert "AWS::RDS::DBCluster" not in kinds
        assert "SchemaFunction" not in stack["resources"]
        assert "AWS::DynamoDB::Table" in kinds


def test_the_functions_are_pointed_at_the_engine(stack: dict[str, Any]) -> None:
    for function in ("SearchFunction", "IndexFunction"):
        variables = env(stack, function)
        if stack["engine"] == "aurora":
            assert variables["IMGHASH_TABLE"] == ""
            assert variables["IMGHASH_AURORA_CLUSTER_ARN"] == {
                "Fn::GetAtt": ["IndexCluster", "DBClusterArn"]
            }
        else:
            assert variables["IMGHASH_TABLE"] == {"Ref": "IndexTable"}
            assert variables["IMGHASH_AURORA_CLUSTER_ARN"] == ""
    if stack["engine"] == "aurora":  # each function as its own database user
        assert env(stack, "SearchFunction")["IMGHASH_AURORA_SECRET_ARN"] == {
            "Ref": "SearchDatabaseSecret"
        }
        assert env(stack, "IndexFunction")["IMGHASH_AURORA_SECRET_ARN"] == {
            "Ref": "IndexDatabaseSecret"
        }


def test_roles_are_least_privilege(stack: dict[str, Any]) -> None:
    cluster = {"Fn::GetAtt": ["IndexCluster", "DBClusterArn"]}
    search, index = statements(stack, "SearchFunction"), statements(stack, "IndexFunction")
    if stack["engine"] == "aurora":
        assert search == [
            {"actions": ["rds-data:ExecuteStatement"], "resource": cluster},
            {
                "actions": ["secretsmanager:GetSecretValue"],
                "resource": {"Ref": "SearchDatabaseSecret"},
            },
        ]
        assert {"actions": ["rds-data:ExecuteStatement"], "resource": cluster} in index
        assert {
            "actions": ["secretsmanager:GetSecretValue"],
            "resource": {"Ref": "IndexDatabaseSecret"},
        } in index
        # No table, so no scan in the request path; no transactions or batches; the master
        # secret for the schema function alone.
        for function in ("SearchFunction", "IndexFunction"):
            assert not any(a.startswith("dynamodb:") for a in actions(stack, function))
        master = {"Fn::GetAtt": ["IndexCluster", "MasterUserSecret.SecretArn"]}
        for function in ("SearchFunction", "IndexFunction"):
            assert master not in [s["resource"] for s in statements(stack, function)]
        schema = statements(stack, "SchemaFunction")
        assert actions(stack, "SchemaFunction") == {
            "rds-data:ExecuteStatement",
            "secretsmanager:GetSecretValue",
        }
        assert any(isinstance(s["resource"], list) and master in s["resource"] for s in schema)
    else:
        assert actions(stack, "SearchFunction") <= {
            "dynamodb:GetItem",
            "dynamodb:Scan",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "dynamodb:DescribeTable",
        }
        assert not any(
            a.startswith(("rds", "secretsmanager")) for a in actions(stack, "IndexFunction")
        )
    # Both: the index function reads the bucket and sends its failures, and that is all.
    assert {a.split(":")[0] for a in actions(stack, "IndexFunction")} == {
        "s3",
        "sqs",
        "rds-data" if stack["engine"] == "aurora" else "dynamodb",
        *(["secretsmanager"] if stack["engine"] == "aurora" else []),
    }
    for function in ("HashFunction", "BatchFunction", "CompareFunction", "MetaFunction"):
        assert statements(stack, function) == []


def test_validate_lint_for_aurora(sam: Path, tmp_path: Path) -> None:  # noqa: F811
    # sam validate lints the template's defaults (dynamodb: test_template.py); aurora as
    # the default here.
    engine = "aurora"
    text = (ROOT / "template.yaml").read_text()
    marker = "    AllowedValues: [dynamodb, aurora]"
    assert text.count("    Default: dynamodb\n" + marker) == 1
    copy = tmp_path / "template.yaml"
    copy.write_text(text.replace("Default: dynamodb\n" + marker, f"Default: {engine}\n" + marker))
    assert "is a valid SAM Template" in run(
        sam, "validate", "--lint", "--region", "eu-west-1", "-t", str(copy)
    )


def test_build_for_aurora_with_a_reader(sam: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "build"
    run(
        sam,
        "build",
        "--build-dir",
        str(out),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--parameter-overrides",
        "IndexEngine=aurora AuroraReader=true",
    )
    for name in ("SearchFunction", "IndexFunction", "SchemaFunction"):
        assert (out / name / "app.py").is_file()
    assert (out / "ImghashLayer" / "python" / "imghash" / "index" / "_setup.py").is_file()

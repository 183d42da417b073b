"""No AWS session at import: orgvend makes its boto3 session and clients on first use.

So whatever a test patches into botocore first (moto's hooks) is in every client orgvend makes,
whichever module was imported first, and a cold start pays for a session only when it calls AWS.
One fresh interpreter counts the boto3 sessions made while it imports every module of the product,
then every handler (each with the environment template.yaml gives its function), and last asks
orgvend for a client: the control, which must make one.
"""

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from orgvend_local.template import PROJECT_ROOT, Template

from .conftest import PLACEHOLDER_SCOPE, UNSET
from .support import function_environment, function_properties

SOURCE_ROOTS = ("layers/common", "local", "cli")
COUNTING_IMPORTER = """
import importlib, importlib.util, json, os, sys
import boto3.session

made = []
original = boto3.session.Session.__init__

def counting(self, *args, **kwargs):
    made.append(1)
    original(self, *args, **kwargs)

boto3.session.Session.__init__ = counting
plan = json.loads(sys.stdin.read())
counts = {}
for name in plan["modules"]:
    importlib.import_module(name)
counts["modules"] = len(made)
for logical_id, path, environment in plan["handlers"]:
    os.environ.update(environment)
    spec = importlib.util.spec_from_file_location(f"handler_{logical_id}", path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    counts[logical_id] = len(made)
from orgvend import aws
aws.client("sts")
aws.client("organizations")
counts["after_two_clients"] = len(made)
print(json.dumps(counts))
"""

# The functions' logical IDs (their environments come from the ``template`` fixture, as make run's).
FUNCTIONS = sorted(Template.load().enabled_resources("AWS::Serverless::Function"))


def every_module(package: str, source_root: str) -> list[str]:
    root = PROJECT_ROOT / source_root
    return sorted(
        ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        for path in (root / package).rglob("*.py")
        if path.name != "__main__.py"
    )


def handler_path(template: Template, logical_id: str) -> str:
    properties = function_properties(template, logical_id)
    module = properties["Handler"].rsplit(".", 1)[0]
    return str(PROJECT_ROOT / properties["CodeUri"] / f"{module.replace('.', '/')}.py")


@pytest.fixture(scope="module")
def sessions_made(template: Template) -> dict[str, Any]:
    """How many boto3 sessions existed after each import (cumulative), in one fresh interpreter."""
    plan = {
        "modules": every_module("orgvend", "layers/common") + every_module("orgvend_cli", "cli"),
        "handlers": [
            (
                logical_id,
                handler_path(template, logical_id),
                {**function_environment(template, logical_id), "CLIENTS_PARENT_OU_ID": PLACEHOLDER_SCOPE},
            )
            for logical_id in FUNCTIONS
        ],
    }
    environment = {name: value for name, value in os.environ.items() if name not in UNSET}
    environment["PYTHONPATH"] = os.pathsep.join(str(PROJECT_ROOT / source) for source in SOURCE_ROOTS)
    result = subprocess.run(
        [sys.executable, "-c", COUNTING_IMPORTER],
        input=json.dumps(plan),
        env=environment,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    counts: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    counts["module_count"] = len(plan["modules"])
    return counts


def test_importing_every_module_of_the_product_makes_no_session(sessions_made):
    assert sessions_made["module_count"] > 50
    assert sessions_made["modules"] == 0


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_importing_a_handler_makes_no_session(sessions_made, logical_id):
    assert sessions_made[logical_id] == 0, f"{logical_id} made a boto3 session when imported"


def test_the_first_client_makes_the_one_session(sessions_made):
    # The control: the count sees a session when one is made, and every client shares it.
    assert sessions_made["after_two_clients"] == 1

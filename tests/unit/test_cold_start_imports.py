"""What each function imports at its cold start: what its step, reaction or the API uses, and no more.

Every handler of template.yaml is imported as Lambda imports it (``importlib.import_module`` of its
Handler's module, its CodeUri first on ``sys.path``, then the layer), with the environment the template
gives it and ``LAMBDA_TASK_ROOT`` set (so Powertools' Tracer is on, as with ``Tracing: Active``), in a
process of its own: forked from one that has imported only what every function imports anyway
(boto3, pydantic, Powertools), so the modules it ends with are the ones its import loaded. The time
those imports take is bench/bench_cold_start.py's (bench/RESULTS.md); this test keeps the structure
those figures rest on, deterministically.
"""

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from orgvend_local.template import Template

from .support import function_environment, function_properties

LAYER = "layers/common"

# Imported before the fork: what every function imports (boto3, pydantic and a first model's build,
# Powertools' Logger, Metrics and Tracer). Then one child per function, which reports its modules.
PROBE = """
import importlib, json, os, sys
jobs = json.load(sys.stdin)
sys.path.insert(0, jobs["layer"])
import boto3, pydantic
from aws_lambda_powertools import Logger, Metrics, Tracer

class Warm(pydantic.BaseModel):
    value: int

for job in jobs["functions"]:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        os.environ.update(job["environment"])
        sys.path.insert(0, job["directory"])
        try:
            getattr(importlib.import_module(job["module"]), job["attribute"])
            answer = {"modules": sorted(sys.modules)}
        except BaseException as error:
            answer = {"error": f"{type(error).__name__}: {error}"}
        with os.fdopen(write, "w") as out:
            json.dump(answer, out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        text = answer.read()
    os.waitpid(child, 0)
    print(json.dumps({"name": job["name"], **json.loads(text)}), flush=True)
"""

# No function needs these; the API alone needs the HTTP resolver and the exports.
NEVER = ("pydantic_settings", "orgvend_local", "moto")
ONLY_THE_API = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.idempotency",
    "orgvend.api",
    "orgvend.exports",
)
# A step validates its input with pydantic itself (orgvend.observability.step_handler), runs its own
# step module and the shared ones: not the API's or the reactions' workflows, nor another step.
NOT_IN_A_STEP = ("aws_lambda_powertools.utilities.parser", "orgvend.workflows", "orgvend.reactions")
NOT_IN_A_REACTION = ("orgvend.steps",)


def _workflow_and_name(template: Template, logical_id: str) -> tuple[str, str]:
    """``functions/<workflow>/<name>`` of the function's CodeUri."""
    code_uri = Path(function_properties(template, logical_id)["CodeUri"])
    return code_uri.parent.name, code_uri.name


@cache
def _imported(root: str, jobs: str) -> dict[str, dict[str, Any]]:
    environment = {name: value for name, value in os.environ.items() if name != "POWERTOOLS_TRACE_DISABLED"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        input=jobs,
        env=environment,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return {answer.pop("name"): answer for answer in answers}


@pytest.fixture(scope="module")
def imported(template: Template) -> dict[str, dict[str, Any]]:
    """Function logical id -> {"modules": every module its handler's import loaded} (or "error")."""
    functions = []
    for logical_id in template.enabled_resources("AWS::Serverless::Function"):
        properties = function_properties(template, logical_id)
        module, attribute = properties["Handler"].rsplit(".", 1)
        directory = template.root / properties["CodeUri"]
        functions.append(
            {
                "name": logical_id,
                "directory": str(directory),
                "module": module,
                "attribute": attribute,
                "environment": {
                    **function_environment(template, logical_id),
                    "LAMBDA_TASK_ROOT": str(directory),
                    "AWS_LAMBDA_FUNCTION_NAME": template.physical_name(logical_id),
                },
            }
        )
    jobs = json.dumps({"layer": str(template.root / LAYER), "functions": functions})
    return _imported(str(template.root), jobs)


def _loaded(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    """The modules under ``packages`` among ``modules``, without the submodules of one listed."""
    found = sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))
    return [m for m in found if not any(m.startswith(outer + ".") for outer in found)]


def test_every_handler_imports(imported, template):
    assert set(imported) == set(template.enabled_resources("AWS::Serverless::Function"))
    assert {name: answer["error"] for name, answer in imported.items() if "error" in answer} == {}


def test_the_probe_sees_what_a_function_imports(imported, template):
    """Against a probe that sees nothing: the API loads its resolver, each step its own module."""
    assert _loaded(imported["ApiFunction"]["modules"], ONLY_THE_API)
    for name, answer in imported.items():
        workflow, step = _workflow_and_name(template, name)
        if workflow in {"onboarding", "offboarding"}:
            assert f"orgvend.steps.{workflow}.{step}" in answer["modules"], name


def test_no_function_imports_what_none_uses(imported):
    loaded = {name: _loaded(answer["modules"], NEVER) for name, answer in imported.items()}
    assert {name: modules for name, modules in loaded.items() if modules} == {}


def test_only_the_api_imports_the_http_resolver_and_the_exports(imported):
    loaded = {
        name: _loaded(answer["modules"], ONLY_THE_API)
        for name, answer in imported.items()
        if name != "ApiFunction"
    }
    assert {name: modules for name, modules in loaded.items() if modules} == {}


def test_a_step_imports_its_own_step_and_shared_modules_only(imported, template):
    found = {}
    for name, answer in imported.items():
        workflow, step = _workflow_and_name(template, name)
        if workflow not in {"onboarding", "offboarding"}:
            continue
        own = {"orgvend.steps", f"orgvend.steps.{workflow}", f"orgvend.steps.{workflow}.{step}"}
        steps = [module for module in answer["modules"] if module.startswith("orgvend.steps.")]
        other_steps = [module for module in steps if module not in own]
        if unwanted := _loaded(answer["modules"], NOT_IN_A_STEP) + other_steps:
            found[name] = unwanted
    assert found == {}


def test_a_reaction_imports_no_step(imported, template):
    found = {}
    for name, answer in imported.items():
        is_reaction = _workflow_and_name(template, name)[0] == "reactions"
        if is_reaction and (unwanted := _loaded(answer["modules"], NOT_IN_A_REACTION)):
            found[name] = unwanted
    assert found == {}

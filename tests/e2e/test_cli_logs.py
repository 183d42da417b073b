"""`orgvend logs ID`: one onboarding's log lines, in order, from the embedded AWS's CloudWatch Logs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Harness, request_for

pytestmark = pytest.mark.e2e
ORGVEND = Path(sys.executable).parent / "orgvend"


def run_logs(embedded: Harness, onboarding_id: str, *options: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    return subprocess.run(
        [
            str(ORGVEND),
            "--api-url",
            embedded.outputs["ApiUrl"],
            "logs",
            onboarding_id,
            "--aws-endpoint-url",
            embedded.runtime.endpoint_url,
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )


def test_logs_prints_one_onboardings_lines_in_order(embedded: Harness, unique: str) -> None:
    execution = embedded.wait(embedded.start(request_for(unique)))
    other = embedded.wait(embedded.start(request_for(f"{unique}x")))
    assert execution["status"] == other["status"] == "SUCCEEDED"

    completed = run_logs(embedded, execution["name"], "--format", "json")
    assert completed.returncode == 0, completed.stderr
    lines = json.loads(completed.stdout)
    assert lines, "no lines"
    assert all(line.get("correlation_id") == execution["name"] for line in lines)
    assert not any(line.get("correlation_id") == other["name"] for line in lines)
    stamps = [line["timestamp"] for line in lines]
    assert stamps == sorted(stamps)
    functions = {line["function_name"] for line in lines}
    assert {"orgvend-CreateAccountFunction", "orgvend-ApplyBaselineFunction"} <= functions
    messages = [line["message"] for line in lines]
    assert messages.index("CreateAccount requested") < messages.index("Baseline applied")

    table = run_logs(embedded, execution["name"])
    assert (
        table.returncode == 0
        and "CreateAccountFunction" in table.stdout
        and "Baseline applied" in table.stdout
    )


def test_logs_of_an_unknown_onboarding_exit_1(embedded: Harness) -> None:
    completed = run_logs(embedded, "no-such-onboarding")
    assert completed.returncode == 1
    assert "no log lines for no-such-onboarding" in completed.stderr


def test_logs_prints_an_offboardings_lines_too(embedded: Harness, unique: str) -> None:
    execution = embedded.wait(embedded.start(request_for(unique)))
    account_id = embedded.onboarding_item(execution["name"])["accountId"]
    name = embedded.account_item(account_id)["accountName"]
    offboarding = embedded.wait(
        embedded.client("stepfunctions").start_execution(
            stateMachineArn=embedded.outputs["OffboardAccountStateMachineArn"],
            input=json.dumps({"accountId": account_id, "mode": "close", "confirmAccountName": name}),
        )["executionArn"]
    )
    assert offboarding["status"] == "SUCCEEDED"

    completed = run_logs(embedded, offboarding["name"], "--format", "json")

    assert completed.returncode == 0, completed.stderr
    lines = json.loads(completed.stdout)
    assert lines and all(line.get("correlation_id") == offboarding["name"] for line in lines)
    messages = [line["message"] for line in lines]
    assert messages.index("Offboarding begun") < messages.index("Account closure requested")
    assert messages.index("Account closure requested") < messages.index("Offboarding finished")


def test_logs_works_on_the_embedded_aws_with_nothing_exported(
    embedded: Harness, unique: str, tmp_path: Path
) -> None:
    """As on a fresh `make run`: no AWS variables, no ~/.aws, no config files (stand-in credentials)."""
    execution = embedded.wait(embedded.start(request_for(unique)))
    (home := tmp_path / "home").mkdir()
    completed = subprocess.run(
        [
            str(ORGVEND),
            "--api-url",
            embedded.outputs["ApiUrl"],
            "logs",
            execution["name"],
            "--aws-endpoint-url",
            embedded.runtime.endpoint_url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            # Not AWS: where this checkout's packages are (the venv may be shared between worktrees).
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        },
        check=False,
    )
    assert "Traceback" not in completed.stderr, completed.stderr
    assert completed.returncode == 0, completed.stderr
    assert "CreateAccountFunction" in completed.stdout and "Baseline applied" in completed.stdout

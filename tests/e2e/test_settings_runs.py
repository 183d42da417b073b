"""Settings runs end to end: a profile re-applied to the fleet, and drift checked, on the embedded AWS."""

import json
from typing import Any

import pytest

from .conftest import Harness, request_for
from .test_api import finished, onboard

pytestmark = pytest.mark.e2e


def onboarded(embedded: Harness, unique: str, project: str, client: str | None = None) -> str:
    request = request_for(unique, project=project, **({"client": client} if client else {}))
    onboarding = finished(embedded, onboard(embedded, request), timeout=90)
    assert onboarding["status"] == "SUCCEEDED", onboarding
    return str(onboarding["accountId"])


def run_settings(embedded: Harness, request: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    arn = embedded.client("stepfunctions").start_execution(
        stateMachineArn=embedded.outputs["KeepSettingsStateMachineArn"], input=json.dumps(request)
    )["executionArn"]
    execution = embedded.wait(arn, timeout=timeout)
    assert execution["status"] == "SUCCEEDED", execution
    return dict(json.loads(execution["output"]))


def test_a_client_run_reapplies_and_a_check_reports_drift(embedded: Harness, unique: str) -> None:
    client = f"c{unique}"
    first = onboarded(embedded, unique, "web")
    second = onboarded(embedded, f"{unique}b", "api", client=client)
    summary = run_settings(embedded, {"mode": "apply", "selection": {"client": client}})
    run = summary["run"]
    assert run["accounts"] == 2
    assert sorted(run["outcomes"]["unchanged"]) == sorted([first, second])

    iam = embedded.member_iam(first)
    iam.update_account_password_policy(MinimumPasswordLength=8)
    summary = run_settings(embedded, {"mode": "check", "selection": {"accountId": first}})
    assert summary["run"]["outcomes"] == {"drifted": [first]}
    drift = embedded.account_item(first)["settingsDrift"]  # type: ignore[index]

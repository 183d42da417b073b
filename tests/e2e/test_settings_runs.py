"""Settings runs end to end on the embedded AWS: a profile re-applied to a client's accounts, drift
checked (reported, or repaired where the profile says repair), an account that fails is recorded while
the run goes on, throttling is retried, and a run that fails itself is reported."""

import json
from typing import Any

import pytest

from .conftest import FaultInjector, Harness, request_for
from .test_api import call, finished, onboard

pytestmark = pytest.mark.e2e


def onboarded(embedded: Harness, unique: str, project: str, client: str | None = None) -> str:
    request = request_for(unique, project=project, **({"client": client} if client else {}))
    onboarding = finished(embedded, onboard(embedded, request), timeout=90)
    assert onboarding["status"] == "SUCCEEDED", onboarding
    return str(onboarding["accountId"])


def start_run(embedded: Harness, request: dict[str, Any]) -> str:
    return str(
        embedded.client("stepfunctions").start_execution(
            stateMachineArn=embedded.outputs["KeepSettingsStateMachineArn"], input=json.dumps(request)
        )["executionArn"]
    )


def run_settings(embedded: Harness, request: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    execution = embedded.wait(start_run(embedded, request), timeout=timeout)
    assert execution["status"] == "SUCCEEDED", execution
    return dict(json.loads(execution["output"]))


def weaken_password_policy(embedded: Harness, account_id: str) -> None:
    """What someone with administrator access does by hand in the account."""
    embedded.member_iam(account_id).update_account_password_policy(MinimumPasswordLength=8)


def test_a_client_run_covers_its_accounts_and_changes_nothing_already_as_the_profile_says(
    embedded: Harness, unique: str
) -> None:
    client = f"c{unique}"
    first = onboarded(embedded, unique, "web")
    second = onboarded(embedded, f"{unique}b", "api", client=client)
    onboarded(embedded, f"{unique}x", "web")  # another client's: not in the run

    summary = run_settings(embedded, {"mode": "apply", "selection": {"client": client}})
    run = summary["run"]
    assert run["accounts"] == 2 and run["finishedAt"]
    assert run["outcomes"] == {"unchanged": sorted([first, second])}
    assert summary["messageId"]  # an apply run always reports

    weaken_password_policy(embedded, second)
    summary = run_settings(embedded, {"mode": "apply", "selection": {"client": client}})
    assert summary["run"]["outcomes"] == {"changed": [second], "unchanged": [first]}
    policy = embedded.member_iam(second).get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 14
    entry = embedded.account_item(second)
    assert entry is not None and entry["settings"]["changed"] == ["passwordPolicy"]
    assert entry["settingsDrift"]["drift"] == []  # as the profile says once applied


def test_a_check_reports_drift_on_the_entry_and_to_the_operators_and_repairs_only_when_the_profile_says(
    embedded: Harness, unique: str
) -> None:
    account_id = onboarded(embedded, unique, "web")
    weaken_password_policy(embedded, account_id)

    summary = run_settings(embedded, {"mode": "check", "selection": {"accountId": account_id}})
    assert summary["run"]["outcomes"] == {"drifted": [account_id]}
    report = embedded.account_item(account_id)["settingsDrift"]  # type: ignore[index]
    assert report["repaired"] is False and report["profile"] == "default"
    drifted = {(drift["setting"], drift["field"]) for drift in report["drift"]}
    assert ("passwordPolicy", "minimumPasswordLength") in drifted
    message = embedded.operator_message_about(summary["run"]["runId"])
    assert account_id in message["Message"] and "repair: false" in message["Message"]
    # Reported, not repaired: the default profile does not say repair.
    policy = embedded.member_iam(account_id).get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 8

    name = f"r{unique}"
    status, body = call(embedded, "PUT", f"/settings-profiles/{name}", {"repair": True})
    assert status in (200, 201), body
    summary = run_settings(
        embedded, {"mode": "check", "selection": {"accountId": account_id}, "settingsProfile": name}
    )
    assert summary["run"]["outcomes"] == {"repaired": [account_id]}
    policy = embedded.member_iam(account_id).get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 14
    entry = embedded.account_item(account_id)
    assert entry is not None and entry["settingsDrift"]["repaired"] is True
    assert entry["settings"]["profile"] == name and "passwordPolicy" in entry["settings"]["changed"]

    # Nothing drifts any more: a check finds nothing and tells nobody.
    summary = run_settings(embedded, {"mode": "check", "selection": {"accountId": account_id}})
    assert summary["run"]["outcomes"] == {"unchanged": [account_id]} and "messageId" not in summary


def test_an_account_that_fails_is_recorded_with_its_reason_and_the_run_goes_on(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    client = f"c{unique}"
    refused = onboarded(embedded, unique, "web")
    fine = onboarded(embedded, f"{unique}b", "api", client=client)
    weaken_password_policy(embedded, refused)
    weaken_password_policy(embedded, fine)
    faults.fail("before-call.iam.UpdateAccountPasswordPolicy", "AccessDenied", times=10, status=403)
    summary = run_settings(embedded, {"mode": "apply", "selection": {"accountId": refused}})
    run = summary["run"]
    assert run["outcomes"] == {"failed": [refused]}
    assert "passwordPolicy: AWS refused it (AccessDenied)" in run["failures"][refused]
    message = embedded.operator_message_about(run["runId"])
    assert refused in message["Message"] and "AccessDenied" in message["Message"]
    faults.clear()

    summary = run_settings(embedded, {"mode": "apply", "selection": {"client": client}})
    assert summary["run"]["outcomes"] == {"changed": sorted([fine, refused])}


def test_throttling_is_retried_and_nothing_is_applied_twice(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    account_id = onboarded(embedded, unique, "web")
    weaken_password_policy(embedded, account_id)
    # The injector answers in the query (IAM) and JSON protocols; S3 Control's and EC2's XML it does not.
    throttled = faults.throttle_each_operation_once(("iam", "sts"))
    summary = run_settings(embedded, {"mode": "apply", "selection": {"accountId": account_id}})
    assert summary["run"]["outcomes"] == {"changed": [account_id]}
    assert throttled["iam.UpdateAccountPasswordPolicy"] == 1 and throttled["sts.AssumeRole"] == 1
    assert embedded.account_item(account_id)["settings"]["changed"] == ["passwordPolicy"]  # type: ignore[index]


def test_a_run_that_fails_itself_is_reported(embedded: Harness, unique: str) -> None:
    execution = embedded.wait(
        start_run(embedded, {"mode": "apply", "selection": {"all": True}, "settingsProfile": f"n{unique}"})
    )
    assert execution["status"] == "FAILED" and execution["error"] == "InvalidSettingsProfile"
    run_id = execution["executionArn"].rsplit(":", 1)[1]
    message = embedded.operator_message_about(f"The settings run {run_id} stopped")
    assert "InvalidSettingsProfile" in message["Message"] and f"n{unique}" in message["Message"]

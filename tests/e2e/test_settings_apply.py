"""Settings runs through the HTTP API and `orgvend settings apply`, on the embedded AWS: a changed default
profile re-applied to a client's accounts (and to no one else's), a check that finds an account changed by
hand, and the requests refused naming their field with nothing started.

The test that writes ``default`` (every onboarding's profile) puts the built-in one back when it ends.
"""

import time
from collections.abc import Iterator
from typing import Any

import pytest

from orgvend.registry.settings_profiles import DEFAULT_PROFILE_NAME, profile_key

from .conftest import Harness
from .test_api import call
from .test_cli import cli
from .test_settings_runs import onboarded

pytestmark = pytest.mark.e2e

FINISHED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@pytest.fixture
def default_profile_restored(embedded: Harness) -> Iterator[None]:
    """The built-in ``default`` put back: later onboardings of this session get it again."""
    yield
    embedded.client("dynamodb").delete_item(
        TableName=embedded.outputs["RegistryTableName"], Key=profile_key(DEFAULT_PROFILE_NAME)
    )


def settings_runs_started(embedded: Harness) -> int:
    sfn = embedded.client("stepfunctions")
    arn = embedded.outputs["KeepSettingsStateMachineArn"]
    return sum(
        len(page["executions"]) for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)
    )


def minimum_password_length(embedded: Harness, account_id: str) -> int:
    policy = embedded.member_iam(account_id).get_account_password_policy()["PasswordPolicy"]
    return int(policy["MinimumPasswordLength"])


def followed(embedded: Harness, run_id: str, timeout: float = 120) -> list[dict[str, Any]]:
    """Every view of ``GET /settings/runs/{runId}`` until the run ends, polled often (so some land while
    its map runs)."""
    views = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, view = call(embedded, "GET", f"/settings/runs/{run_id}")
        assert status == 200, view
        views.append(view)
        if view["status"] in FINISHED:
            return views
        time.sleep(0.1)
    raise AssertionError(f"settings run {run_id} still running after {timeout} s")


def test_apply_client_reapplies_a_changed_default_to_every_account_of_the_client_and_no_other(
    embedded: Harness, unique: str, default_profile_restored: None
) -> None:
    client = f"c{unique}"
    accounts = [
        onboarded(embedded, unique, "web"),
        onboarded(embedded, f"{unique}b", "api", client=client),
    ]
    other = onboarded(embedded, f"{unique}o", "web", client=f"o{unique}")
    assert {minimum_password_length(embedded, account) for account in [*accounts, other]} == {14}

    status, default = call(embedded, "GET", "/settings-profiles/default")
    assert status == 200, default
    changed = {key: value for key, value in default.items() if key not in ("name", "version")}
    changed["passwordPolicy"] = {**changed["passwordPolicy"], "minimumPasswordLength": 16}
    status, written = call(
        embedded, "PUT", "/settings-profiles/default", changed, {"If-Match": str(default["version"])}
    )
    assert status == 200, written

    applied = cli(
        "--api-url", embedded.outputs["ApiUrl"], "settings", "apply", "--client", client, "--interval", "0.2"
    )

    assert applied.code == 0, applied.err
    progress = [line for line in applied.err.splitlines() if "accounts done" in line]
    assert progress and progress[-1] == "2/2 accounts done: 2 changed, 0 failed", applied.err
    assert "Status        SUCCEEDED" in applied.out and f"client {client}" in applied.out
    assert "changed  2" in applied.out and "Failed" not in applied.out, applied.out
    for account in accounts:
        assert minimum_password_length(embedded, account) == 16, account
        status, entry = call(embedded, "GET", f"/accounts/{account}")
        assert (entry["settings"]["profile"], entry["settings"]["version"]) == ("default", written["version"])
        assert "passwordPolicy" in entry["settings"]["changed"]
    assert minimum_password_length(embedded, other) == 14  # another client's account: untouched


def test_a_check_on_an_account_changed_by_hand_reports_its_drift(embedded: Harness, unique: str) -> None:
    account = onboarded(embedded, unique, "web")
    embedded.member_iam(account).update_account_password_policy(MinimumPasswordLength=8)

    status, accepted = call(embedded, "POST", f"/accounts/{account}/settings/apply", {"mode": "check"})
    assert status == 202, accepted
    assert accepted["statusUrl"] == f"/settings/runs/{accepted['runId']}"
    assert accepted["executionArn"].endswith(f":{accepted['runId']}")

    views = followed(embedded, accepted["runId"])
    for view in views:  # however far it was, the numbers add up
        progress = view["progress"]
        if progress["total"] is not None:
            assert progress["done"] + progress["running"] + progress["pending"] == progress["total"], view
            assert progress["succeeded"] + progress["failed"] == progress["done"], view
    final = views[-1]
    assert final["status"] == "SUCCEEDED", final
    assert final["request"]["mode"] == "check" and final["request"]["selection"]["accountId"] == account
    assert final["run"]["outcomes"] == {"drifted": [account]}
    assert final["progress"] == {
        "total": 1,
        "done": 1,
        "succeeded": 1,
        "failed": 0,
        "running": 0,
        "pending": 0,
    }
    assert final["summary"]["counts"]["drifted"] == 1 and final["summary"]["operatorsNotified"] is True
    assert minimum_password_length(embedded, account) == 8  # reported, not repaired (repair: false)

    status, entry = call(embedded, "GET", f"/accounts/{account}")
    drift = entry["settingsDrift"]
    # UpdateAccountPasswordPolicy replaces the whole policy: every field it left out differs too.
    assert {item["setting"] for item in drift["drift"]} == {"passwordPolicy"}, drift
    by_field = {item["field"]: item for item in drift["drift"]}
    length = by_field["minimumPasswordLength"]
    assert (length["expected"], length["actual"]) == (14, 8), length
    assert drift["repaired"] is False

    shown = cli("--api-url", embedded.outputs["ApiUrl"], "settings", "run", accepted["runId"])
    assert shown.code == 0 and "Drifted from their profile" in shown.out and account in shown.out


def test_bad_requests_are_refused_naming_the_field_and_start_nothing(embedded: Harness, unique: str) -> None:
    account = onboarded(embedded, unique, "web")
    before = settings_runs_started(embedded)

    status, body = call(
        embedded, "POST", f"/accounts/{account}/settings/apply", {"settingsProfile": f"p{unique}"}
    )
    assert (status, body["error"]["code"], body["error"]["field"]) == (
        422,
        "InvalidSettings",
        "settingsProfile",
    )
    status, body = call(embedded, "POST", "/settings/apply", {"all": True, "settingsProfile": f"p{unique}"})
    assert (status, body["error"]["field"]) == (422, "settingsProfile")
    status, body = call(embedded, "POST", "/settings/apply", {"client": f"c{unique}", "all": True})
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "ValidationError", "all")
    status, body = call(embedded, "POST", "/settings/apply", {})
    assert (status, body["error"]["field"]) == (422, "client")
    status, body = call(embedded, "POST", "/accounts/999999999999/settings/apply")
    assert (status, body["error"]["code"], body["error"]["field"]) == (404, "NotFound", "accountId")
    status, body = call(embedded, "GET", "/settings/runs/00000000-0000-4000-8000-000000000000")
    assert (status, body["error"]["field"]) == (404, "runId")

    refused = cli(
        "--api-url",
        embedded.outputs["ApiUrl"],
        "settings",
        "apply",
        "--client",
        f"c{unique}",
        "--settings-profile",
        f"p{unique}",
    )
    assert refused.code == 1 and "InvalidSettings (HTTP 422)" in refused.err
    assert "field: settingsProfile" in refused.err
    bad_line = cli("--api-url", embedded.outputs["ApiUrl"], "settings", "apply", "--client", "x", "--all")
    assert bad_line.code == 2

    assert settings_runs_started(embedded) == before

"""`orgvend-local age-account` against the embedded AWS, over HTTP as against `make run`: a detach of
a young account is refused the way orgvend reports it, and the same account, made old enough, leaves
the organization through every step of the detach (StopDiscountSharing included) and stands alone.

No Billing fake here: StopDiscountSharing calls the embedded AWS's Billing."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from .conftest import Harness
from .test_offboarding import is_member, let_go, offboard, offboarding_finished, onboarded_account

pytestmark = pytest.mark.e2e

# orgvend's rule (CheckDetachPreconditions.CREATED_ACCOUNT_MINIMUM_AGE): 4 days after the creation.
TOO_YOUNG_DAYS = 3
OLD_ENOUGH_DAYS = 8


def age_account(embedded: Harness, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`orgvend-local age-account ARGUMENTS` in its own process, pointed at this embedded AWS."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "orgvend_local",
            "age-account",
            *arguments,
            "--endpoint-url",
            embedded.runtime.endpoint_url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
        check=False,
    )


def joined_days_ago(embedded: Harness, account_id: str) -> float:
    joined: datetime = embedded.client("organizations").describe_account(AccountId=account_id)["Account"][
        "JoinedTimestamp"
    ]
    return (datetime.now(UTC) - joined) / timedelta(days=1)


def test_a_detach_is_refused_while_the_account_is_young_and_succeeds_once_it_is_old_enough(
    embedded: Harness, unique: str
) -> None:
    account_id = onboarded_account(embedded, unique)

    young = age_account(embedded, account_id, "--days", str(TOO_YOUNG_DAYS))
    assert young.returncode == 0, young.stderr
    assert f"account {account_id} (" in young.stdout and "CREATED" in young.stdout
    assert joined_days_ago(embedded, account_id) == pytest.approx(TOO_YOUNG_DAYS, abs=0.01)
    before = embedded.account_item(account_id)
    assert before is not None

    refused = offboarding_finished(embedded, offboard(embedded, account_id, "detach"))

    assert refused["status"] == "FAILED", refused
    assert refused["error"] == "DetachPreconditionsUnmet"
    assert f"account {account_id} cannot be detached" in refused["cause"]
    assert f"it was created {TOO_YOUNG_DAYS} days 0 hours ago" in refused["cause"]
    assert "only 4 days after its creation" in refused["cause"]
    assert is_member(embedded, account_id)
    assert let_go(embedded, account_id)["status"] == before["status"]
    embedded.operator_message_about(f"The offboarding {refused['offboardingId']} (detach)")

    old = age_account(embedded, account_id, "--days", str(OLD_ENOUGH_DAYS))
    assert old.returncode == 0, old.stderr
    assert joined_days_ago(embedded, account_id) == pytest.approx(OLD_ENOUGH_DAYS, abs=0.01)

    detached = offboarding_finished(embedded, offboard(embedded, account_id, "detach"))

    # Billing: StopDiscountSharing calls the embedded AWS's Billing API (UpdateBillingPreferences).
    assert detached["status"] == "SUCCEEDED", detached
    assert (detached["mode"], detached["outcome"]) == ("detach", "DETACHED")
    assert [step["name"] for step in detached["timeline"]] == [
        "Configure",
        "BeginOffboarding",
        "ChooseMode",
        "CheckDetachPreconditions",
        "StillMember",
        "StopDiscountSharing",
        "RemoveAccess",
        "LeaveBy",
        "RemoveAccount",
        "DeleteBudget",
        "FinishOffboarding",
        "NotifyOffboarded",
    ]
    # A standalone account now: not a member, not listed, not under the Clients OU, DETACHED in the registry.
    organizations = embedded.client("organizations")
    assert not is_member(embedded, account_id)
    listed = [
        account["Id"]
        for page in organizations.get_paginator("list_accounts").paginate()
        for account in page["Accounts"]
    ]
    assert account_id not in listed
    in_clients = [
        account["Id"]
        for page in organizations.get_paginator("list_accounts_for_parent").paginate(
            ParentId=embedded.layout.clients_ou_id
        )
        for account in page["Accounts"]
    ]
    assert account_id not in in_clients
    item = embedded.account_item(account_id)
    assert item is not None and item["status"] == "DETACHED" and item["offboardedAt"]
    assert "offboardingId" not in item
    embedded.operator_message_about(f"Hand-over checklist for the new owner of account {account_id}")


def test_aging_an_account_the_organization_does_not_have_is_refused(embedded: Harness) -> None:
    refused = age_account(embedded, "999999999999", "--days", "8")

    assert refused.returncode == 1
    assert "account 999999999999 is not in the embedded Organizations" in refused.stderr


def test_aging_to_an_exact_time_sets_that_joined_timestamp(embedded: Harness, unique: str) -> None:
    account_id = onboarded_account(embedded, unique)

    result = age_account(embedded, account_id, "--joined", "2026-11-20T00:00:00Z")

    assert result.returncode == 0, result.stderr
    assert "2026-11-20T00:00:00Z" in result.stdout
    joined = embedded.client("organizations").describe_account(AccountId=account_id)["Account"][
        "JoinedTimestamp"
    ]
    assert joined == datetime(2026, 11, 20, tzinfo=UTC)

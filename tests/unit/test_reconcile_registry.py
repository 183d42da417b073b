"""ReconcileRegistry at 5,000 accounts: a bounded number of calls, and the injected drift repaired."""

import json
import math
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from moto.organizations.models import FakeAccount, organizations_backends

from orgvend import aws
from orgvend.api.onboardings import Onboardings
from orgvend.models import AccountRecord, AccountStatus
from orgvend.reactions.reconcile_registry import LIST_ACCOUNTS_PAGE_SIZE, reconcile_registry
from orgvend.registry import Registry
from orgvend_local.template import Template

from .support import Calls

MEMBERS = 5000


@pytest.fixture
def state_machine_arn(setup_client: Callable[..., Any], template: Template) -> str:
    """A state machine under the template's name (moto does not run it here: only StartExecution matters)."""
    role = setup_client("iam").create_role(RoleName="states", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    return str(
        setup_client("stepfunctions", region_name="us-east-1").create_state_machine(
            name=template.physical_name("OnboardAccountStateMachine"),
            definition=json.dumps(definition),
            roleArn=role,
        )["stateMachineArn"]
    )


def fill_organization(management_account_id: str, count: int) -> list[tuple[str, str]]:
    """``count`` member accounts, put straight into moto's organization.

    moto's CreateAccount takes time quadratic in the number of accounts (68 s for
    5,000); the accounts it makes are the same objects, so the setup builds them.
    """
    backend = organizations_backends[management_account_id]["aws"]
    members = []
    for index in range(count):
        account = FakeAccount(backend.org, AccountName=f"member{index}", Email=f"member{index}@example.com")
        backend.accounts.append(account)
        members.append((account.id, account.email))
    return members


def record(account_id: str, email: str, status: AccountStatus = AccountStatus.ACTIVE) -> AccountRecord:
    stamp = datetime.now(UTC)
    return AccountRecord(
        account_id=account_id,
        account_name=f"name-{account_id}",
        email=email,
        client=f"client{int(account_id) % 50}",
        project="web",
        role_name="OrganizationAccountAccessRole",
        status=status,
        switch_role_url="https://signin.aws.amazon.com/switchrole",
        created_at=stamp,
        updated_at=stamp,
    )


def write_records(
    setup_client: Callable[..., Any], registry: Registry, table_name: str, records: list[AccountRecord]
) -> None:
    dynamodb = setup_client("dynamodb")
    items = [
        {"PutRequest": {"Item": registry._account_item(item)}} for item in records
    ]  # the registry's own item shape
    for start in range(0, len(items), 25):
        dynamodb.batch_write_item(RequestItems={table_name: items[start : start + 25]})


def test_reconciliation_at_5000_accounts_is_cheap_and_repairs_the_drift(  # noqa: PLR0917 (fixtures)
    setup_client: Callable[..., Any],
    organization: Any,
    registry: Registry,
    table_name: str,
    state_machine_arn: str,
    session_calls: Calls,
) -> None:
    organizations = setup_client("organizations")
    members = fill_organization(organization.management_account_id, MEMBERS)

    unknown = members[:3]  # in the organization, not in the registry: adopted
    closed = members[3]  # suspended in the organization, ACTIVE in the registry: CLOSED
    organizations.close_account(AccountId=closed[0])
    departed = [
        ("900000000001", "gone1@example.com"),
        ("900000000002", "gone2@example.com"),
    ]  # left: DETACHED
    known = members[3:] + departed
    write_records(
        setup_client, registry, table_name, [record(account_id, email) for account_id, email in known]
    )

    onboardings = Onboardings(aws.client("stepfunctions"), registry, state_machine_arn)
    drift = reconcile_registry(
        aws.client("organizations"), aws.client("sts"), registry, onboardings, "OrganizationAccountAccessRole"
    )

    actions = {repair.account_id: repair.action for repair in drift.repairs}
    assert actions == {
        **{account_id: "adopted" for account_id, _ in unknown},
        closed[0]: "marked CLOSED",
        **{account_id: "marked DETACHED" for account_id, _ in departed},
    }
    assert (drift.members, drift.registered) == (MEMBERS, len(known))
    assert registry.get_account(departed[0][0]).status is AccountStatus.DETACHED
    assert registry.get_account(closed[0]).status is AccountStatus.CLOSED
    starts = session_calls.of("StartExecution")
    assert sorted(call.params["name"] for call in starts) == sorted(
        f"adopt-{account_id}" for account_id, _ in unknown
    )

    calls = Counter(session_calls.operations())
    list_pages = math.ceil((MEMBERS + 1) / LIST_ACCOUNTS_PAGE_SIZE)  # + the management account
    assert calls["ListAccounts"] == list_pages
    assert calls["Query"] <= 10, calls  # the registry, 1 MB a page
    assert calls["Scan"] == 0
    # Per-account calls only where something differs: nothing for the 4,996 accounts in agreement.
    assert calls["DescribeAccount"] == 0
    assert calls["ListTagsForResource"] == len(unknown)
    per_account = sum(
        count for operation, count in calls.items() if operation not in ("ListAccounts", "Query")
    )
    assert per_account <= 6 * (len(unknown) + 1 + len(departed)), calls

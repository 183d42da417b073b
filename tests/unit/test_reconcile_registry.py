"""ReconcileRegistry: it walks orgvend's scope, at thousands of accounts with most of them outside it,
never calls anything about an account outside it, and repairs the drift inside."""

import json
import math
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from moto.organizations.models import FakeAccount, organizations_backends

from orgvend import aws
from orgvend.models import AccountRecord, AccountStatus
from orgvend.organizations import PAGE_SIZE, Scope
from orgvend.reactions.reconcile_registry import reconcile_registry
from orgvend.registry import Registry
from orgvend.workflows.onboardings import Onboardings
from orgvend_local.template import Template

from .support import Calls

MEMBERS = 5000
IN_SCOPE = 1000
# Calls that name one account (or its parent): none may name an account outside the scope.
PER_ACCOUNT = {
    "DescribeAccount": "AccountId",
    "ListParents": "ChildId",
    "ListTagsForResource": "ResourceId",
    "TagResource": "ResourceId",
    "MoveAccount": "AccountId",
}


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


def fill_organization(
    management_account_id: str, count: int, parent_id: str, prefix: str
) -> list[tuple[str, str]]:
    """``count`` member accounts in ``parent_id``, put straight into moto's organization.

    moto's CreateAccount takes time quadratic in the number of accounts (68 s for
    5,000); the accounts it makes are the same objects, so the setup builds them.
    """
    backend = organizations_backends[management_account_id]["aws"]
    members = []
    for index in range(count):
        account = FakeAccount(
            backend.org, AccountName=f"{prefix}{index}", Email=f"{prefix}{index}@example.com"
        )
        account.parent_id = parent_id
        backend.accounts.append(account)
        members.append((account.id, account.email))
    return members


def record(
    account_id: str, email: str, status: AccountStatus = AccountStatus.ACTIVE, ou_id: str | None = None
) -> AccountRecord:
    stamp = datetime.now(UTC)
    return AccountRecord(
        account_id=account_id,
        account_name=f"name-{account_id}",
        email=email,
        client=f"client{int(account_id) % 50}",
        project="web",
        role_name="OrganizationAccountAccessRole",
        status=status,
        ou_id=ou_id,
        created_at=stamp,
        updated_at=stamp,
    )


def write_records(
    setup_client: Callable[..., Any], registry: Registry, table_name: str, records: list[AccountRecord]
) -> None:
    dynamodb = setup_client("dynamodb")
    items = [
        {"PutRequest": {"Item": registry._account_item(item, 1)}} for item in records
    ]  # the registry's own item shape
    for start in range(0, len(items), 25):
        dynamodb.batch_write_item(RequestItems={table_name: items[start : start + 25]})


def test_reconciliation_walks_the_scope_and_leaves_everything_outside_alone(
    setup_client: Callable[..., Any],
    organization: Any,
    registry: Registry,
    table_name: str,
    state_machine_arn: str,
    session_calls: Calls,
    settings_for: Callable[[str], Any],
) -> None:
    organizations = setup_client("organizations")
    management = organization.management_account_id
    inside = fill_organization(management, IN_SCOPE, organization.clients_ou_id, "client")
    outside = fill_organization(management, MEMBERS - IN_SCOPE - 1, organization.security_ou_id, "security")
    at_root = fill_organization(
        management, 1, organization.root_id, "root"
    )  # made outside orgvend, not moved in
    outside_ids = {account_id for account_id, _ in outside + at_root}

    unknown = inside[:3]  # in the scope, not in the registry: adopted
    closed = inside[3]  # suspended in the organization, ACTIVE in the registry: CLOSED
    organizations.close_account(AccountId=closed[0])
    departed = [("900000000001", "gone1@example.com"), ("900000000002", "gone2@example.com")]  # left
    moved_out = outside[0]  # registered, then moved into Security: OUT_OF_SCOPE, nothing more done to it
    back_in = inside[4]  # OUT_OF_SCOPE in the registry, back in the scope: adopted again
    scope_ou = organization.clients_ou_id
    known = [
        record(account_id, email, ou_id=scope_ou)
        for account_id, email in [*inside[5:], closed, *departed, moved_out]
    ] + [record(*back_in, status=AccountStatus.OUT_OF_SCOPE, ou_id=scope_ou)]
    write_records(setup_client, registry, table_name, known)

    scope = Scope(aws.client("organizations"), organization.clients_ou_id)
    settings = settings_for("ReconcileRegistryFunction")
    onboardings = Onboardings(aws.client("stepfunctions"), registry, state_machine_arn, scope, settings)
    drift = reconcile_registry(
        scope,
        organizations=aws.client("organizations"),
        sts=aws.client("sts"),
        registry=registry,
        onboardings=onboardings,
        access_role_name="OrganizationAccountAccessRole",
    )

    actions = {repair.account_id: repair.action for repair in drift.repairs}
    assert actions == {
        **{account_id: "adopted" for account_id, _ in [*unknown, back_in]},
        closed[0]: "marked CLOSED",
        **{account_id: "left the organization" for account_id, _ in departed},
        moved_out[0]: "marked OUT_OF_SCOPE",
    }
    assert (drift.members, drift.registered, drift.outside) == (IN_SCOPE, len(known), MEMBERS - IN_SCOPE)
    assert registry.get_account(departed[0][0]).status is AccountStatus.DETACHED
    assert registry.get_account(closed[0]).status is AccountStatus.CLOSED
    assert registry.get_account(moved_out[0]).status is AccountStatus.OUT_OF_SCOPE
    starts = session_calls.of("StartExecution")
    assert sorted(call.params["name"] for call in starts) == sorted(
        [
            *(f"adopt-{account_id}" for account_id, _ in unknown),
            f"adopt-{back_in[0]}-{int(known[-1].updated_at.timestamp())}",
        ]
    )

    # Nothing about any account outside the scope: not one call names one of the 4,000.
    named = [
        (call.operation, call.params[parameter])
        for call in session_calls.made
        if (parameter := PER_ACCOUNT.get(call.operation)) and parameter in call.params
    ]
    assert [(operation, account_id) for operation, account_id in named if account_id in outside_ids] == [
        ("ListParents", moved_out[0])  # the registered account that left the scope: where is it now?
    ]
    assert not any(
        call.operation == "AssumeRole" and call.params["RoleArn"].split(":")[4] in outside_ids
        for call in session_calls.made
    )

    calls = Counter(session_calls.operations())
    assert calls["ListAccountsForParent"] == math.ceil(IN_SCOPE / PAGE_SIZE)  # the scope's one OU
    assert calls["ListOrganizationalUnitsForParent"] == 1
    assert calls["ListAccounts"] == math.ceil(
        (MEMBERS + 1) / PAGE_SIZE
    )  # counting what is outside (+ management)
    assert calls["Query"] <= 10, calls  # the registry, 1 MB a page
    assert calls["Scan"] == 0
    # Per-account calls only where something differs.
    assert calls["DescribeAccount"] == 0
    assert calls["ListTagsForResource"] == len(unknown)

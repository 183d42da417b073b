"""Both deployments end to end (issue #17): onboarding, offboarding, reconciliation and an Organizations
event, with every AWS call of orgvend's functions counted by the principal that signs it.

``make test`` runs this file twice: with the rest of tests/e2e (ORGVEND_MODE unset: the stack in the
management account) and with ``ORGVEND_MODE=hub`` (the stack in a hub account, the management role and the
event forwarding of management-role.yaml in the management account), beside the Makefile's other
``HUB_E2E`` files.

- Single account: every call is the functions' own, in the management account.
- Hub: no orgvend function exists in the management account; every call to a management-account service
  is signed by the management role's session; everything else by the hub's function roles; inside a
  member account, by its access role. The access role is reached through the management role only
  until ApplyBaseline narrows its trust to the hub's functions.
"""

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orgvend.aws import MANAGEMENT_SERVICES
from orgvend_local.runtime import MANAGEMENT_ACCOUNT_ID

from .conftest import CallsByPrincipal, Harness, deployment_mode
from .events import api_call
from .test_offboarding import offboard, offboarding_finished, onboarded_account

pytestmark = pytest.mark.e2e

HUB = deployment_mode() == "hub"
MANAGEMENT_ROLE = f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:role/orgvend-management"
ACCESS_ROLE = "OrganizationAccountAccessRole"


def account_of(arn: str) -> str:
    return arn.split(":")[4]


def check_principals(embedded: Harness, calls: CallsByPrincipal, members: set[str]) -> dict[str, set[str]]:
    """Every call signed by whom the deployment says (see the module's docstring); the calls per principal."""
    stack_account = embedded.runtime.stack_account_id
    found = calls.by_principal()
    assert found, "orgvend's functions made no AWS call"
    for principal, made in found.items():
        account = account_of(principal)
        if account in members:  # inside a member account: its access role, nothing else
            assert principal == f"arn:aws:iam::{account}:role/{ACCESS_ROLE}", (principal, made)
            continue
        management_calls = {call for call in made if call.split(".")[0] in MANAGEMENT_SERVICES}
        if principal == MANAGEMENT_ROLE:
            assert HUB, f"the management role signed calls in a single-account deployment: {made}"
            assert made <= management_calls | {"sts.AssumeRole", "sts.GetCallerIdentity"}, made
            continue
        # A function's own role, in the account that holds the stack.
        assert account == stack_account and ":role/orgvend" in principal, (principal, made)
        if HUB:
            assert not management_calls, (
                f"{principal} called the management account itself: {management_calls}"
            )
    if HUB:
        assert MANAGEMENT_ROLE in found, "no call went through the management role"
    return found


def management_calls(found: dict[str, set[str]]) -> set[str]:
    return {
        call
        for principal, made in found.items()
        for call in made
        if call.split(".")[0] in MANAGEMENT_SERVICES and ":role/" + ACCESS_ROLE not in principal
    }


def test_the_stack_is_where_the_mode_says(embedded: Harness) -> None:
    outputs = embedded.outputs
    iam = embedded.runtime.management_client("iam")
    if not HUB:
        assert outputs["DeploymentMode"] == "single-account"
        assert embedded.runtime.stack_account_id == MANAGEMENT_ACCOUNT_ID
        with pytest.raises(ClientError):
            iam.get_role(RoleName="orgvend-management")
        return
    hub = embedded.layout.hub_account_id
    assert hub is not None and embedded.runtime.stack_account_id == hub != MANAGEMENT_ACCOUNT_ID
    assert outputs["DeploymentMode"] == "hub" and outputs["ManagementAccountId"] == MANAGEMENT_ACCOUNT_ID
    assert account_of(outputs["OnboardAccountStateMachineArn"]) == hub
    # No orgvend function in the management account: only its role and the forwarding rule are there.
    assert embedded.runtime.management_client("lambda").list_functions()["Functions"] == []
    assert iam.get_role(RoleName="orgvend-management")["Role"]["Arn"] == MANAGEMENT_ROLE
    # The hub sits outside orgvend's scope, in the Infrastructure OU.
    assert embedded.parent_of(hub) == embedded.layout.infrastructure_ou_id
    # Its bus admits the management account's events, and no one else's.
    policy = json.loads(embedded.client("events").describe_event_bus(Name="default")["Policy"])
    principals = {json.dumps(statement["Principal"]) for statement in policy["Statement"]}
    assert all(MANAGEMENT_ACCOUNT_ID in principal for principal in principals), principals


def test_onboarding_and_offboarding_act_with_the_right_principals(
    embedded: Harness, unique: str, calls_by_principal: CallsByPrincipal
) -> None:
    account_id = onboarded_account(embedded, unique)
    item = embedded.account_item(account_id)
    assert item is not None and item["status"] == "ACTIVE"

    # The access role's narrowed trust admits orgvend's functions where they run (the hub, or the
    # management account), and no longer the management account as a whole.
    trust = embedded.member_iam(account_id).get_role(RoleName=ACCESS_ROLE)["Role"]["AssumeRolePolicyDocument"]
    functions = next(s for s in trust["Statement"] if s.get("Sid") == "OrgvendFunctions")
    stack_account = embedded.runtime.stack_account_id
    assert functions["Principal"] == {"AWS": f"arn:aws:iam::{stack_account}:root"}
    assert functions["Condition"]["ArnLike"]["aws:PrincipalArn"] == [
        f"arn:aws:iam::{stack_account}:role/orgvend/member-access/*"
    ]

    offboarding_id = offboard(embedded, account_id, "close")
    offboarding = offboarding_finished(embedded, offboarding_id)
    assert offboarding["status"] == "SUCCEEDED" and offboarding["outcome"] == "CLOSED", offboarding
    account = embedded.client("organizations").describe_account(AccountId=account_id)["Account"]
    assert account["Status"] == "SUSPENDED"

    found = check_principals(embedded, calls_by_principal, {account_id})
    made = management_calls(found)
    for call in (
        "organizations.CreateAccount",
        "organizations.MoveAccount",
        "organizations.DescribeCreateAccountStatus",
        "organizations.CloseAccount",
        "budgets.CreateBudget",
        "budgets.DeleteBudget",
        "sso-admin.CreateAccountAssignment",
    ):
        assert call in made, (call, sorted(made))
    if HUB:
        # The first baseline was chained through the management role: the role trusted only that account.
        assert "sts.AssumeRole" in found[MANAGEMENT_ROLE]
        assert "iam.AttachRolePolicy" in found[f"arn:aws:iam::{account_id}:role/{ACCESS_ROLE}"]


def test_an_organizations_event_reaches_the_stack(embedded: Harness, unique: str) -> None:
    """An account created outside orgvend, then moved into the scope: the MoveAccount event, put where AWS
    puts it (the management account's bus), gets the account adopted."""
    email = f"aws+{unique}@example.com"
    root = embedded.layout.root_id
    _, account_id = embedded.create_member(
        email, "outside", parent=root, Tags=[{"Key": "client", "Value": f"c{unique}"}]
    )
    embedded.move_account(account_id, embedded.layout.clients_ou_id)
    moved = api_call(
        "MoveAccount",
        {
            "accountId": account_id,
            "sourceParentId": root,
            "destinationParentId": embedded.layout.clients_ou_id,
        },
    )

    def followed() -> int:  # EventBridge's deliveries to FollowOrganization (recorded as the event is put)
        return sum(1 for rule, _ in embedded.runtime.bridge.deliveries if "FollowOrganization" in rule)

    before = followed()
    if HUB:
        # The same event put on the hub's own bus, by the hub: not the management account's, not followed.
        embedded.put_event_on_the_stack_bus(moved)
        assert followed() == before
    embedded.put_organizations_event(moved)
    assert followed() == before + 1  # forwarded to the hub (hub), or on the stack's own bus (single)
    item = embedded.eventually(
        lambda: (found := embedded.account_item(account_id)) and found.get("status") == "ACTIVE" and found,
        timeout=60,
        what=f"account {account_id} adopted",
    )
    assert (item["client"], item["email"]) == (f"c{unique}", email)


def test_reconciliation_adopts_what_no_event_announced(
    embedded: Harness, unique: str, calls_by_principal: CallsByPrincipal
) -> None:
    email = f"aws+{unique}@example.com"
    _, account_id = embedded.create_member(  # straight into the scope, and no event says so
        email, "unannounced", Tags=[{"Key": "client", "Value": f"c{unique}"}]
    )
    drift: Any = embedded.invoke("ReconcileRegistryFunction", {})
    assert account_id in json.dumps(drift), drift
    item = embedded.eventually(
        lambda: (found := embedded.account_item(account_id)) and found.get("status") == "ACTIVE" and found,
        timeout=60,
        what=f"account {account_id} adopted by the reconciliation",
    )
    assert item["email"] == email
    found = check_principals(embedded, calls_by_principal, {account_id})
    assert {"organizations.ListAccountsForParent", "organizations.DescribeAccount"} <= management_calls(found)

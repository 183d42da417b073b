"""People's access through IAM Identity Center, kept true (#14): onboarding, a second run, a client
change, an offboarding, a missing group, and the reconciliation, on the embedded AWS.

Each test makes its own groups in the Identity Store (``c<unique>-developers``...) so that the
template's default AccessRules (agency-ops, {client}-developers, {client}-{project}-readonly)
reach groups no other test assigns.
"""

import json
from typing import Any

import pytest

from .conftest import FaultInjector, Harness, request_for
from .events import api_call
from .test_offboarding import OLD_ENOUGH, offboard, offboarding_finished

pytestmark = pytest.mark.e2e

PERMISSION_SETS = ("AdministratorMinusBilling", "ReadOnlyAccess")


def instance(embedded: Harness) -> tuple[str, str]:
    """The Identity Center instance's ARN and its Identity Store's ID."""
    found = embedded.client("sso-admin").list_instances()["Instances"][0]
    return str(found["InstanceArn"]), str(found["IdentityStoreId"])


def make_groups(embedded: Harness, *names: str) -> dict[str, str]:
    """Groups of the Identity Store, ID by name (made here, so no other test assigns them)."""
    _, store = instance(embedded)
    identity_store = embedded.client("identitystore")
    return {
        name: str(identity_store.create_group(IdentityStoreId=store, DisplayName=name)["GroupId"])
        for name in names
    }


def group_id(embedded: Harness, name: str) -> str:
    _, store = instance(embedded)
    groups = embedded.client("identitystore").list_groups(
        IdentityStoreId=store, Filters=[{"AttributePath": "DisplayName", "AttributeValue": name}]
    )["Groups"]
    return str(groups[0]["GroupId"])


def permission_set_arns(embedded: Harness) -> dict[str, str]:
    instance_arn, _ = instance(embedded)
    sso_admin = embedded.client("sso-admin")
    found = {}
    for arn in sso_admin.list_permission_sets(InstanceArn=instance_arn)["PermissionSets"]:
        name = sso_admin.describe_permission_set(InstanceArn=instance_arn, PermissionSetArn=arn)[
            "PermissionSet"
        ]["Name"]
        found[name] = arn
    return {name: found[name] for name in PERMISSION_SETS}


def assignments(embedded: Harness, account_id: str) -> list[tuple[str, str]]:
    """The account's assignments as sso-admin lists them: (group ID, permission set name), sorted."""
    instance_arn, _ = instance(embedded)
    sso_admin = embedded.client("sso-admin")
    listed = []
    for name, arn in permission_set_arns(embedded).items():
        for assignment in sso_admin.list_account_assignments(
            InstanceArn=instance_arn, AccountId=account_id, PermissionSetArn=arn
        )["AccountAssignments"]:
            listed.append((assignment["PrincipalId"], name))
    return sorted(listed)


def expected(embedded: Harness, groups: dict[str, str], *pairs: tuple[str, str]) -> list[tuple[str, str]]:
    ids = {**groups, "agency-ops": group_id(embedded, "agency-ops")}
    return sorted((ids[group], permission_set) for group, permission_set in pairs)


def onboarding(embedded: Harness, unique: str, **overrides: Any) -> dict[str, Any]:
    execution = embedded.wait(embedded.start(request_for(unique, **overrides)))
    assert execution["status"] == "SUCCEEDED", execution
    return dict(json.loads(execution["output"]))


def message_with(embedded: Harness, *texts: str) -> str:
    found = embedded.eventually(
        lambda: next(
            (m for m in embedded.operator_messages() if all(text in m["Message"] for text in texts)), None
        ),
        what=f"an operator message mentioning {texts}",
    )
    return str(found["Message"])


def test_onboarding_assigns_the_rules_groups_and_a_second_run_changes_nothing(
    embedded: Harness, unique: str
) -> None:
    groups = make_groups(embedded, f"c{unique}-developers", f"c{unique}-web-readonly")
    output = onboarding(embedded, unique)
    account_id = output["account"]["accountId"]

    access = output["access"]
    assert access["configured"] is True and access["created"] == 3 and access.get("missingGroups", []) == []
    want = expected(
        embedded,
        groups,
        ("agency-ops", "AdministratorMinusBilling"),
        (f"c{unique}-developers", "AdministratorMinusBilling"),
        (f"c{unique}-web-readonly", "ReadOnlyAccess"),
    )
    assert assignments(embedded, account_id) == want
    # The command the issue names: what an operator runs to see who gets in.
    instance_arn, _ = instance(embedded)
    readonly = embedded.aws_cli(
        "sso-admin",
        "list-account-assignments",
        "--instance-arn",
        instance_arn,
        "--account-id",
        account_id,
        "--permission-set-arn",
        permission_set_arns(embedded)["ReadOnlyAccess"],
    )["AccountAssignments"]
    assert [(a["PrincipalType"], a["PrincipalId"]) for a in readonly] == [
        ("GROUP", groups[f"c{unique}-web-readonly"])
    ]
    # The registry records what orgvend made (what an offboarding removes).
    recorded = embedded.account_item(account_id)["access"]["assignments"]
    assert sorted(a["group"] for a in recorded) == sorted(["agency-ops", *groups])

    # The step again, as a retry or a second run would: nothing created twice.
    again = embedded.invoke(
        "AssignAccessFunction", {"onboarding": output["onboarding"], "accountId": account_id}
    )
    assert again["created"] == 0 and again["removed"] == 0
    assert len(again["assignments"]) == 3
    assert assignments(embedded, account_id) == want


def test_a_missing_group_is_reported_and_the_onboarding_succeeds(embedded: Harness, unique: str) -> None:
    groups = make_groups(embedded, f"c{unique}-developers")  # no c<unique>-web-readonly
    output = onboarding(embedded, unique)
    account_id = output["account"]["accountId"]

    assert output["access"]["missingGroups"] == [f"c{unique}-web-readonly"]
    assert assignments(embedded, account_id) == expected(
        embedded,
        groups,
        ("agency-ops", "AdministratorMinusBilling"),
        (f"c{unique}-developers", "AdministratorMinusBilling"),
    )
    message = message_with(embedded, account_id, "is ready")
    assert "the Identity Store does not have" in message and f"  - c{unique}-web-readonly" in message


def test_a_client_change_moves_the_assignments(embedded: Harness, unique: str) -> None:
    groups = make_groups(
        embedded,
        f"c{unique}-developers",
        f"c{unique}-web-readonly",
        f"n{unique}-developers",
        f"n{unique}-web-readonly",
    )
    account_id = onboarding(embedded, unique)["account"]["accountId"]

    embedded.client("organizations").tag_resource(
        ResourceId=account_id, Tags=[{"Key": "client", "Value": f"n{unique}"}]
    )
    embedded.put_event(
        api_call(
            "TagResource", {"resourceId": account_id, "tags": [{"key": "client", "value": f"n{unique}"}]}
        )
    )

    item = embedded.eventually(
        lambda: (
            (found := embedded.account_item(account_id))
            and found["client"] == f"n{unique}"
            and any(a["group"] == f"n{unique}-developers" for a in found["access"]["assignments"])
            and found
        ),
        what="the access follows the client",
    )
    assert sorted(a["group"] for a in item["access"]["assignments"]) == sorted(
        ["agency-ops", f"n{unique}-developers", f"n{unique}-web-readonly"]
    )
    assert assignments(embedded, account_id) == expected(
        embedded,
        groups,
        ("agency-ops", "AdministratorMinusBilling"),
        (f"n{unique}-developers", "AdministratorMinusBilling"),
        (f"n{unique}-web-readonly", "ReadOnlyAccess"),
    )


def test_an_offboarding_removes_the_assignments_and_says_so(embedded: Harness, unique: str) -> None:
    make_groups(embedded, f"c{unique}-developers", f"c{unique}-web-readonly")
    account_id = onboarding(embedded, unique)["account"]["accountId"]
    assert len(assignments(embedded, account_id)) == 3

    finished = offboarding_finished(embedded, offboard(embedded, account_id, "close"))

    assert finished["status"] == "SUCCEEDED", finished
    names = [step["name"] for step in finished["timeline"]]
    # Once AWS accepted the closure: a refused closure keeps people's access.
    assert names.index("CloseAccount") < names.index("RemoveAccess") < names.index("IsClosed")
    assert assignments(embedded, account_id) == []
    access = embedded.account_item(account_id)["access"]
    assert access["assignments"] == [] and len(access["offboarded"]) == 3
    message = message_with(embedded, account_id, "has been closed")
    assert "removed its 3 assignment(s)" in message
    for line in (
        "agency-ops (AdministratorMinusBilling)",
        f"c{unique}-developers (AdministratorMinusBilling)",
        f"c{unique}-web-readonly (ReadOnlyAccess)",
    ):
        assert line in message


def test_a_refused_closure_keeps_the_access(embedded: Harness, unique: str, faults: FaultInjector) -> None:
    make_groups(embedded, f"c{unique}-developers", f"c{unique}-web-readonly")
    account_id = onboarding(embedded, unique)["account"]["accountId"]
    before = assignments(embedded, account_id)
    faults.fail(
        "before-call.organizations.CloseAccount",
        "ConstraintViolationException",
        times=1,
        extra={"Reason": "CLOSE_ACCOUNT_QUOTA_EXCEEDED"},
    )

    failed = offboarding_finished(embedded, offboard(embedded, account_id, "close"))

    assert (failed["status"], failed["error"]) == ("FAILED", "AccountClosureRefused")
    # RemoveAccess comes after AWS accepted the closure: a refused one never took the access.
    assert "RemoveAccess" not in [step["name"] for step in failed["timeline"]]
    item = embedded.eventually(
        lambda: (found := embedded.account_item(account_id)) and "offboardingId" not in found and found,
        what="the account let go",
    )
    assert assignments(embedded, account_id) == before
    assert len(item["access"]["assignments"]) == 3 and item["access"].get("offboarded", []) == []


def test_a_refused_detach_has_its_access_made_again(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    make_groups(embedded, f"c{unique}-developers", f"c{unique}-web-readonly")
    account_id = onboarding(embedded, unique)["account"]["accountId"]
    embedded.backdate_account(account_id, OLD_ENOUGH)
    before = assignments(embedded, account_id)
    faults.fail(
        "before-call.organizations.RemoveAccountFromOrganization",
        "ConstraintViolationException",
        times=1,
        extra={"Reason": "MEMBER_ACCOUNT_PAYMENT_INSTRUMENT_REQUIRED"},
    )

    failed = offboarding_finished(embedded, offboard(embedded, account_id, "detach"))

    assert (failed["status"], failed["error"]) == ("FAILED", "AccountRemovalRefused")
    names = [step["name"] for step in failed["timeline"]]
    assert names.index("RemoveAccess") < names.index("RemoveAccount")
    # The account stays a member: ReportOffboardingFailure makes again what RemoveAccess took.
    embedded.eventually(
        lambda: assignments(embedded, account_id) == before, what="the assignments made again"
    )
    item = embedded.eventually(
        lambda: (found := embedded.account_item(account_id)) and "offboardingId" not in found and found,
        what="the account let go",
    )
    assert len(item["access"]["assignments"]) == 3 and item["access"].get("offboarded", []) == []


def test_reconciliation_restores_a_removed_assignment_and_reports_a_stranger(
    embedded: Harness, unique: str
) -> None:
    groups = make_groups(embedded, f"c{unique}-developers", f"c{unique}-web-readonly", f"x{unique}-auditors")
    account_id = onboarding(embedded, unique)["account"]["accountId"]
    instance_arn, _ = instance(embedded)
    arns = permission_set_arns(embedded)
    # By hand: one of orgvend's assignments removed, one orgvend never made added.
    embedded.aws_cli(
        "sso-admin",
        "delete-account-assignment",
        "--instance-arn",
        instance_arn,
        "--target-id",
        account_id,
        "--target-type",
        "AWS_ACCOUNT",
        "--permission-set-arn",
        arns["AdministratorMinusBilling"],
        "--principal-type",
        "GROUP",
        "--principal-id",
        groups[f"c{unique}-developers"],
    )
    embedded.client("sso-admin").create_account_assignment(
        InstanceArn=instance_arn,
        TargetId=account_id,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=arns["ReadOnlyAccess"],
        PrincipalType="GROUP",
        PrincipalId=groups[f"x{unique}-auditors"],
    )
    assert (groups[f"c{unique}-developers"], "AdministratorMinusBilling") not in assignments(
        embedded, account_id
    )

    result = embedded.invoke("ReconcileRegistryFunction", {})

    assert {"accountId": account_id, "action": "access restored"} in result["repairs"]
    [stranger] = [each for each in result["unexpectedAccess"] if each["accountId"] == account_id]
    assert stranger["assignments"] == [f"x{unique}-auditors (ReadOnlyAccess)"]
    assert assignments(embedded, account_id) == expected(
        embedded,
        groups,
        ("agency-ops", "AdministratorMinusBilling"),
        (f"c{unique}-developers", "AdministratorMinusBilling"),
        (f"c{unique}-web-readonly", "ReadOnlyAccess"),
        (f"x{unique}-auditors", "ReadOnlyAccess"),  # reported, not removed
    )
    message = message_with(embedded, f"{account_id}: x{unique}-auditors (ReadOnlyAccess)")
    assert f"{account_id}: access restored" in message

    # Restored once: the next reconciliation repairs nothing more on the account, and still reports.
    again = embedded.invoke("ReconcileRegistryFunction", {})
    assert all(repair["accountId"] != account_id for repair in again["repairs"])
    assert any(each["accountId"] == account_id for each in again["unexpectedAccess"])

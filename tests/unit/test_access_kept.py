"""People's access kept true after the onboarding (#14): RemoveAccess (offboarding), the reactions'
upkeep (a client change, an assignment removed or added by hand), on moto's IAM Identity Center."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orgvend.access.assignments import AccessSetup, keep_access
from orgvend.access.identity_center import Assignment, IdentityCenter
from orgvend.access.rules import parse_access_rules
from orgvend.account_access import AccessUpkeep, entry_unexpected_access, keep_entry_access
from orgvend.models import AccountRecord, AccountStatus, Offboarding
from orgvend.notifications import offboarded_message
from orgvend.reactions.reconcile_registry import Drift, UnexpectedAccess, report_drift
from orgvend.registry import Registry
from orgvend.steps.offboarding.remove_access import RemoveAccessInput, remove_account_access

NOW = datetime.now(UTC)
ACCOUNT_ID = "111122223333"
RULES = "agency-ops=AdministratorMinusBilling,{client}-developers=AdministratorMinusBilling,{client}-{project}-readonly=ReadOnlyAccess"


@pytest.fixture
def center(setup_client: Any) -> IdentityCenter:
    sso_admin = setup_client("sso-admin", region_name="us-east-1")
    identity_store = setup_client("identitystore", region_name="us-east-1")
    instance = sso_admin.list_instances()["Instances"][0]
    for name in ("AdministratorMinusBilling", "ReadOnlyAccess"):
        sso_admin.create_permission_set(InstanceArn=instance["InstanceArn"], Name=name)
    for name in ("agency-ops", "acme-developers", "acme-web-readonly", "globex-developers", "auditors"):
        identity_store.create_group(IdentityStoreId=instance["IdentityStoreId"], DisplayName=name)
    return IdentityCenter(
        sso_admin=sso_admin,
        identity_store=identity_store,
        instance_arn=instance["InstanceArn"],
        identity_store_id=instance["IdentityStoreId"],
        sleep=lambda _: None,
    )


@pytest.fixture
def setup() -> AccessSetup:
    return AccessSetup(
        rules=parse_access_rules(tuple(RULES.split(","))),
        create_missing_groups=False,
        portal_url="https://d-1234567890.awsapps.com/start",
        sso_region="us-east-1",
    )


def record(**changes: Any) -> AccountRecord:
    fields: dict[str, Any] = {
        "account_id": ACCOUNT_ID,
        "account_name": "acme-web",
        "email": "aws+acme-web@example.com",
        "client": "acme",
        "project": "web",
        "role_name": "OrganizationAccountAccessRole",
        "status": AccountStatus.ACTIVE,
        "created_at": NOW - timedelta(days=30),
        "updated_at": NOW - timedelta(days=30),
    }
    return AccountRecord(**{**fields, **changes})


def onboarded(center: IdentityCenter, setup: AccessSetup, registry: Registry) -> AccountRecord:
    access = keep_access(
        center, setup, account_id=ACCOUNT_ID, client="acme", project="web", requested=[], recorded=None
    )
    entry = record(access=access)
    registry.save_account(entry)
    return entry


def present(center: IdentityCenter) -> set[tuple[str, str]]:
    """(group name, permission set name) of every assignment on the account."""
    names = {arn: name for name, arn in center.permission_sets().items()}
    groups = {
        group["GroupId"]: group["DisplayName"]
        for group in center.identity_store.list_groups(IdentityStoreId=center.identity_store_id)["Groups"]
    }
    return {
        (groups[assignment.group_id], names[arn])
        for arn in names
        for assignment in center.assignments(ACCOUNT_ID, arn)
    }


def offboarding(mode: str = "close") -> Offboarding:
    return Offboarding(
        offboarding_id="off-1",
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:orgvend-Offboard:off-1",
        started_at=NOW,
        mode=mode,
        account_id=ACCOUNT_ID,
        account_name="acme-web",
        email="aws+acme-web@example.com",
        client="acme",
        project="web",
        role_name="OrganizationAccountAccessRole",
        status_before=AccountStatus.ACTIVE,
    )


def test_remove_access_removes_what_orgvend_made_records_it_and_leaves_the_rest(
    center: IdentityCenter, setup: AccessSetup, registry: Registry
) -> None:
    onboarded(center, setup, registry)
    auditors = center.group_id("auditors")
    assert auditors is not None
    stranger = center.permission_sets()["ReadOnlyAccess"]

    center.assign(Assignment(ACCOUNT_ID, stranger, auditors), "auditors (ReadOnlyAccess)")

    removal = remove_account_access(RemoveAccessInput(offboarding=offboarding()), center, registry)

    assert removal.configured
    assert sorted(f"{a.group} ({a.permission_set})" for a in removal.removed) == [
        "acme-developers (AdministratorMinusBilling)",
        "acme-web-readonly (ReadOnlyAccess)",
        "agency-ops (AdministratorMinusBilling)",
    ]
    assert present(center) == {("auditors", "ReadOnlyAccess")}  # not orgvend's: left alone
    entry = registry.get_account(ACCOUNT_ID)
    assert entry is not None and entry.access is not None
    assert entry.access.assignments == [] and entry.access.offboarded == removal.removed

    # A retry or a redrive removes nothing twice and reports what the first run removed.
    again = remove_account_access(RemoveAccessInput(offboarding=offboarding()), center, registry)
    assert again.removed == removal.removed

    _, body = offboarded_message(entry, offboarding(), "123456789012")
    assert "removed its 3 assignment(s)" in body and "agency-ops (AdministratorMinusBilling)" in body


def test_remove_access_without_identity_center_calls_nothing(registry: Registry) -> None:
    registry.save_account(record())
    removal = remove_account_access(RemoveAccessInput(offboarding=offboarding()), None, registry)
    assert not removal.configured and removal.removed == []


def test_an_account_without_recorded_access_has_no_access_section() -> None:
    _, body = offboarded_message(record(), offboarding(), "123456789012")
    assert "IAM Identity Center" not in body


def test_a_client_change_moves_the_assignments_and_a_second_keep_changes_nothing(
    center: IdentityCenter, setup: AccessSetup, registry: Registry
) -> None:
    entry = onboarded(center, setup, registry)
    upkeep = AccessUpkeep(center=center, setup=setup)

    moved = keep_entry_access(upkeep, registry, entry.changed(client="globex"))

    assert (moved.created, moved.removed) == (1, 2)  # globex-developers; acme-developers, acme-web-readonly
    assert moved.access is not None and moved.access.missing_groups == ["globex-web-readonly"]
    assert present(center) == {
        ("agency-ops", "AdministratorMinusBilling"),
        ("globex-developers", "AdministratorMinusBilling"),
    }
    stored = registry.get_account(ACCOUNT_ID)
    assert stored is not None and stored.access == moved.access
    again = keep_entry_access(upkeep, registry, stored.changed(client="globex"))
    assert (again.created, again.removed) == (0, 0)


def test_an_assignment_removed_by_hand_comes_back_and_one_added_is_only_reported(
    center: IdentityCenter, setup: AccessSetup, registry: Registry
) -> None:
    entry = onboarded(center, setup, registry)
    assert entry.access is not None

    developers = next(a for a in entry.access.assignments if a.group == "acme-developers")
    center.unassign(Assignment(ACCOUNT_ID, developers.permission_set_arn, developers.group_id), "by hand")
    auditors = center.group_id("auditors")
    assert auditors is not None
    center.assign(
        Assignment(ACCOUNT_ID, center.permission_sets()["ReadOnlyAccess"], auditors),
        "auditors (ReadOnlyAccess)",
    )
    upkeep = AccessUpkeep(center=center, setup=setup)

    kept = keep_entry_access(upkeep, registry, entry)

    assert (kept.created, kept.removed) == (1, 0)
    assert ("acme-developers", "AdministratorMinusBilling") in present(center)
    assert entry_unexpected_access(upkeep, entry) == ["auditors (ReadOnlyAccess)"]
    assert ("auditors", "ReadOnlyAccess") in present(center)


class FakeSns:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **arguments: Any) -> dict[str, str]:
        self.published.append(arguments)
        return {"MessageId": "m-1"}


def test_the_drift_report_names_unexpected_access_even_without_repairs() -> None:
    sns = FakeSns()
    drift = Drift(
        members=3,
        registered=3,
        outside=0,
        repairs=[],
        unexpected_access=[
            UnexpectedAccess(account_id=ACCOUNT_ID, assignments=["auditors (ReadOnlyAccess)"])
        ],
    )

    report_drift(drift, sns, "arn:aws:sns:us-east-1:123456789012:operators")  # type: ignore[arg-type]

    [message] = sns.published
    assert f"{ACCOUNT_ID}: auditors (ReadOnlyAccess)" in message["Message"]
    assert "unexpected access in 1 account(s)" in message["Subject"]
    assert "repaired them" not in message["Message"]


def test_nothing_to_report_publishes_nothing() -> None:
    sns = FakeSns()
    report_drift(Drift(members=1, registered=1, outside=0, repairs=[]), sns, "arn")  # type: ignore[arg-type]
    assert sns.published == []

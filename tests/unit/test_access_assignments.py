"""IAM Identity Center assignments and permission sets (orgvend.access), on moto's sso-admin and identitystore.

moto has one Identity Center instance per account (ListInstances); its CreateAccountAssignment is
synchronous (SUCCEEDED at once) and appends a duplicate when called twice, which keep_access never
does since it lists first. Faults are injected through botocore's public events only:

- ``before-send`` (registered first, ahead of moto's own stubber): an HTTP answer inside botocore's
  retry loop, so its standard retries see the throttling as they would AWS's;
- ``before-call``: a parsed answer in place of the call (no retries), for scripted statuses.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders

from orgvend import aws, rules
from orgvend.access.assignments import (
    NOT_CONFIGURED,
    AccessSetup,
    keep_access,
    kept_permission_sets,
    remove_access,
    unexpected_assignments,
)
from orgvend.access.identity_center import POLL_SECONDS, IdentityCenter
from orgvend.access.permission_sets import KeptPermissionSet, keep_permission_sets, kept_specs
from orgvend.access.rules import REQUESTED, parse_access_rules
from orgvend.baseline_policy import administrator_minus_billing, same_document
from orgvend.errors import AccessAssignmentFailed, AccessNotReady, IdentityCenterBusy
from orgvend.models import AccessRequest, AccountAccess, AccountRecord, AccountStatus, Onboarding
from orgvend.registry import Registry
from orgvend.steps.onboarding.assign_access import AssignAccessInput, assign_access

from .support import record_calls

REGION = "us-east-1"
ACCOUNT = "210987654321"
OTHER_ACCOUNT = "310987654321"
BASELINE_POLICY = "orgvend-baseline"
ROLE_NAMES = ("OrganizationAccountAccessRole",)
SESSION = "PT8H"
RULES = (
    "agency-ops=AdministratorMinusBilling",
    "{client}-developers=AdministratorMinusBilling",
    "{client}-{project}-readonly=ReadOnlyAccess",
)
GROUPS = ("agency-ops", "acme-developers", "acme-web-readonly", "globex-developers", "globex-web-readonly")
ADMIN, READ_ONLY = rules.ADMINISTRATOR_MINUS_BILLING, rules.READ_ONLY_ACCESS


@dataclass
class Instance:
    arn: str
    identity_store_id: str
    sso_admin: Any  # the arranging clients (outside orgvend's session)
    identity_store: Any
    groups: dict[str, str] = field(default_factory=dict)

    def add_group(self, name: str) -> str:
        self.groups[name] = self.identity_store.create_group(
            IdentityStoreId=self.identity_store_id, DisplayName=name
        )["GroupId"]
        return self.groups[name]

    def listed(self, account_id: str, permission_set_arn: str) -> list[str]:
        """The group IDs listed as assigned (duplicates kept: moto appends them)."""
        pages = self.sso_admin.get_paginator("list_account_assignments").paginate(
            InstanceArn=self.arn, AccountId=account_id, PermissionSetArn=permission_set_arn
        )
        return [listed["PrincipalId"] for page in pages for listed in page["AccountAssignments"]]

    def assigned_groups(self, account_id: str, permission_set_arn: str) -> list[str]:
        by_id = {group_id: name for name, group_id in self.groups.items()}
        return sorted(by_id.get(each, each) for each in self.listed(account_id, permission_set_arn))


@pytest.fixture
def instance(setup_client: Callable[..., Any]) -> Instance:
    sso_admin = setup_client("sso-admin", region_name=REGION)
    (found,) = sso_admin.list_instances()["Instances"]
    made = Instance(
        found["InstanceArn"],
        found["IdentityStoreId"],
        sso_admin,
        setup_client("identitystore", region_name=REGION),
    )
    for name in GROUPS:
        made.add_group(name)
    return made


@dataclass
class Sleeps:
    slept: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def center(instance: Instance, sleeps: Sleeps) -> IdentityCenter:
    """orgvend's IdentityCenter through orgvend's own clients (standard retries, four attempts)."""
    return IdentityCenter(
        sso_admin=aws.identity_center_client("sso-admin", REGION),
        identity_store=aws.identity_center_client("identitystore", REGION),
        instance_arn=instance.arn,
        identity_store_id=instance.identity_store_id,
        sleep=sleeps,
    )


def specs(access_role_names: tuple[str, ...] = ROLE_NAMES) -> Any:
    return kept_specs(
        partition="aws", baseline_policy_name=BASELINE_POLICY, access_role_names=access_role_names
    )


@pytest.fixture
def permission_sets(center: IdentityCenter, instance: Instance) -> dict[str, str]:
    """The kept permission sets, made: ARN by name."""
    keep_permission_sets(center.sso_admin, instance.arn, specs(), SESSION, sleep=lambda _: None)
    return kept_permission_sets(center)


def setup(*entries: str, create_missing_groups: bool = False) -> AccessSetup:
    return AccessSetup(
        rules=parse_access_rules(entries or RULES),
        create_missing_groups=create_missing_groups,
        portal_url="https://d-example.awsapps.com/start",
        sso_region=REGION,
    )


def keep(
    center: IdentityCenter,
    *,
    client: str = "acme",
    project: str = "web",
    recorded: AccountAccess | None = None,
    requested: list[AccessRequest] | None = None,
    access_setup: AccessSetup | None = None,
    account_id: str = ACCOUNT,
) -> AccountAccess:
    return keep_access(
        center,
        access_setup or setup(),
        account_id=account_id,
        client=client,
        project=project,
        requested=requested or [],
        recorded=recorded,
    )


# -- permission sets ----------------------------------------------------------------------------


def test_keep_permission_sets_creates_both_as_code_says(center: IdentityCenter, instance: Instance) -> None:
    kept = keep_permission_sets(center.sso_admin, instance.arn, specs(), SESSION, sleep=lambda _: None)

    assert [(each.name, each.created, each.changed, each.provisioning) for each in kept] == [
        (ADMIN, True, ["inline policy"], None),
        (READ_ONLY, True, ["managed policy"], None),
    ]
    arns = {each.name: each.arn for each in kept}
    assert kept_permission_sets(center) == arns
    admin = instance.sso_admin.describe_permission_set(InstanceArn=instance.arn, PermissionSetArn=arns[ADMIN])
    assert admin["PermissionSet"]["SessionDuration"] == SESSION
    inline = instance.sso_admin.get_inline_policy_for_permission_set(
        InstanceArn=instance.arn, PermissionSetArn=arns[ADMIN]
    )["InlinePolicy"]
    expected = administrator_minus_billing(
        partition="aws", policy_name=BASELINE_POLICY, access_role_names=ROLE_NAMES
    )
    assert json.loads(inline) == expected
    assert (
        instance.sso_admin.list_managed_policies_in_permission_set(
            InstanceArn=instance.arn, PermissionSetArn=arns[ADMIN]
        )["AttachedManagedPolicies"]
        == []
    )
    managed = instance.sso_admin.list_managed_policies_in_permission_set(
        InstanceArn=instance.arn, PermissionSetArn=arns[READ_ONLY]
    )["AttachedManagedPolicies"]
    assert [policy["Arn"] for policy in managed] == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert not instance.sso_admin.get_inline_policy_for_permission_set(
        InstanceArn=instance.arn, PermissionSetArn=arns[READ_ONLY]
    ).get("InlinePolicy")


def test_keep_permission_sets_a_second_time_changes_nothing(
    center: IdentityCenter, instance: Instance
) -> None:
    first = keep_permission_sets(center.sso_admin, instance.arn, specs(), SESSION, sleep=lambda _: None)
    calls = record_calls(center.sso_admin)

    again = keep_permission_sets(center.sso_admin, instance.arn, specs(), SESSION, sleep=lambda _: None)

    assert again == [
        KeptPermissionSet(name=each.name, arn=each.arn, created=False, changed=[], provisioning=None)
        for each in first
    ]
    assert calls.mutating("sso-admin") == []
    assert len(instance.sso_admin.list_permission_sets(InstanceArn=instance.arn)["PermissionSets"]) == 2


def test_a_changed_baseline_puts_the_inline_policy_again_and_reprovisions(
    center: IdentityCenter, instance: Instance
) -> None:
    keep_permission_sets(center.sso_admin, instance.arn, specs(), SESSION, sleep=lambda _: None)
    calls = record_calls(center.sso_admin)
    wider = ("OrganizationAccountAccessRole", "OrgvendAccess")

    kept = keep_permission_sets(center.sso_admin, instance.arn, specs(wider), SESSION, sleep=lambda _: None)

    assert [(each.name, each.created, each.changed, each.provisioning) for each in kept] == [
        (ADMIN, False, ["inline policy"], "SUCCEEDED"),
        (READ_ONLY, False, [], None),
    ]
    assert calls.mutating("sso-admin") == ["PutInlinePolicyToPermissionSet", "ProvisionPermissionSet"]
    (provision,) = calls.of("ProvisionPermissionSet")
    assert provision.params["PermissionSetArn"] == kept[0].arn
    assert provision.params["TargetType"] == "ALL_PROVISIONED_ACCOUNTS"
    inline = instance.sso_admin.get_inline_policy_for_permission_set(
        InstanceArn=instance.arn, PermissionSetArn=kept[0].arn
    )["InlinePolicy"]
    assert same_document(
        inline,
        administrator_minus_billing(partition="aws", policy_name=BASELINE_POLICY, access_role_names=wider),
    )


def test_a_changed_session_duration_updates_both_and_reprovisions(
    center: IdentityCenter, instance: Instance
) -> None:
    keep_permission_sets(center.sso_admin, instance.arn, specs(), SESSION, sleep=lambda _: None)
    kept = keep_permission_sets(center.sso_admin, instance.arn, specs(), "PT4H", sleep=lambda _: None)
    assert [(each.changed, each.provisioning) for each in kept] == [(["session duration"], "SUCCEEDED")] * 2


# -- keep_access ---------------------------------------------------------------------------------


def test_keep_access_creates_what_the_rules_say(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str]
) -> None:
    access = keep(center)

    assert access.configured and access.created == 3 and access.removed == 0 and access.missing_groups == []
    assert access.portal_url == "https://d-example.awsapps.com/start" and access.sso_region == REGION
    assert [(each.group, each.permission_set, each.rule) for each in access.assignments] == [
        ("agency-ops", ADMIN, "agency-ops=AdministratorMinusBilling"),
        ("acme-developers", ADMIN, "{client}-developers=AdministratorMinusBilling"),
        ("acme-web-readonly", READ_ONLY, "{client}-{project}-readonly=ReadOnlyAccess"),
    ]
    assert all(each.group_id == instance.groups[each.group] for each in access.assignments)
    assert all(each.permission_set_arn == permission_sets[each.permission_set] for each in access.assignments)
    assert instance.assigned_groups(ACCOUNT, permission_sets[ADMIN]) == ["acme-developers", "agency-ops"]
    assert instance.assigned_groups(ACCOUNT, permission_sets[READ_ONLY]) == ["acme-web-readonly"]
    assert access.permission_sets == [ADMIN, READ_ONLY]
    assert instance.listed(OTHER_ACCOUNT, permission_sets[ADMIN]) == []


def test_keep_access_a_second_time_creates_nothing(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str]
) -> None:
    first = keep(center)
    calls = record_calls(center.sso_admin)

    again = keep(center, recorded=first)
    third = keep(center, recorded=None)  # a redrive that lost the record: lists, creates nothing either

    assert again.created == again.removed == third.created == third.removed == 0
    assert again.assignments == third.assignments == first.assignments
    assert calls.mutating("sso-admin") == []
    # moto appends a duplicate on a second CreateAccountAssignment: none is listed.
    assert sorted(instance.listed(ACCOUNT, permission_sets[ADMIN])) == sorted(
        [instance.groups["agency-ops"], instance.groups["acme-developers"]]
    )
    assert instance.listed(ACCOUNT, permission_sets[READ_ONLY]) == [instance.groups["acme-web-readonly"]]


def test_a_missing_group_is_reported_and_the_rest_assigned(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str]
) -> None:
    access = keep(
        center,
        access_setup=setup(
            *RULES, "{client}-auditors=ReadOnlyAccess", "{client}-auditors=AdministratorMinusBilling"
        ),
    )

    assert access.missing_groups == ["acme-auditors"]
    assert access.created == 3
    assert "acme-auditors" not in {each.group for each in access.assignments}
    assert (
        instance.identity_store.list_groups(
            IdentityStoreId=instance.identity_store_id,
            Filters=[{"AttributePath": "DisplayName", "AttributeValue": "acme-auditors"}],
        )["Groups"]
        == []
    )


def test_create_missing_groups_creates_the_group_and_assigns_it(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str]
) -> None:
    access = keep(
        center, access_setup=setup(*RULES, "{client}-auditors=ReadOnlyAccess", create_missing_groups=True)
    )

    assert access.missing_groups == []
    assert access.created == 4
    (made,) = instance.identity_store.list_groups(
        IdentityStoreId=instance.identity_store_id,
        Filters=[{"AttributePath": "DisplayName", "AttributeValue": "acme-auditors"}],
    )["Groups"]
    instance.groups["acme-auditors"] = made["GroupId"]
    assert instance.assigned_groups(ACCOUNT, permission_sets[READ_ONLY]) == [
        "acme-auditors",
        "acme-web-readonly",
    ]


def test_a_client_change_removes_the_old_clients_assignments_and_makes_the_new(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str]
) -> None:
    before = keep(center)
    calls = record_calls(center.sso_admin)

    after = keep(center, client="globex", recorded=before)

    assert (after.created, after.removed) == (2, 2)
    assert [each.group for each in after.assignments] == [
        "agency-ops",
        "globex-developers",
        "globex-web-readonly",
    ]
    assert instance.assigned_groups(ACCOUNT, permission_sets[ADMIN]) == ["agency-ops", "globex-developers"]
    assert instance.assigned_groups(ACCOUNT, permission_sets[READ_ONLY]) == ["globex-web-readonly"]
    deleted = {call.params["PrincipalId"] for call in calls.of("DeleteAccountAssignment")}
    assert deleted == {instance.groups["acme-developers"], instance.groups["acme-web-readonly"]}
    assert unexpected_assignments(center, ACCOUNT, after) == []


def test_a_project_change_moves_only_the_project_rule(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str]
) -> None:
    instance.add_group("acme-data-readonly")
    before = keep(center)
    after = keep(center, project="data", recorded=before)
    assert (after.created, after.removed) == (1, 1)
    assert instance.assigned_groups(ACCOUNT, permission_sets[READ_ONLY]) == ["acme-data-readonly"]
    assert instance.assigned_groups(ACCOUNT, permission_sets[ADMIN]) == ["acme-developers", "agency-ops"]


def test_an_assignment_removed_by_hand_is_made_again(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str]
) -> None:
    first = keep(center)
    instance.sso_admin.delete_account_assignment(
        InstanceArn=instance.arn,
        TargetId=ACCOUNT,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=permission_sets[ADMIN],
        PrincipalType="GROUP",
        PrincipalId=instance.groups["agency-ops"],
    )
    again = keep(center, recorded=first)
    assert (again.created, again.removed) == (1, 0)
    assert instance.assigned_groups(ACCOUNT, permission_sets[ADMIN]) == ["acme-developers", "agency-ops"]


def hand_assign(instance: Instance, group: str, permission_set_arn: str) -> None:
    instance.sso_admin.create_account_assignment(
        InstanceArn=instance.arn,
        TargetId=ACCOUNT,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=permission_set_arn,
        PrincipalType="GROUP",
        PrincipalId=instance.groups[group],
    )


def test_a_hand_added_assignment_is_reported_never_removed(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str]
) -> None:
    instance.add_group("contractors")
    hand_assign(instance, "contractors", permission_sets[ADMIN])
    before = keep(center)
    # By hand too: a group the rules assign, with the other permission set.
    hand_assign(instance, "agency-ops", permission_sets[READ_ONLY])

    after = keep(center, client="globex", recorded=before)
    assert sorted(unexpected_assignments(center, ACCOUNT, after)) == [
        "agency-ops (ReadOnlyAccess)",
        "contractors (AdministratorMinusBilling)",
    ]
    assert "contractors" in instance.assigned_groups(ACCOUNT, permission_sets[ADMIN])

    removed = remove_access(center, ACCOUNT, after)

    assert [each.group for each in removed] == ["agency-ops", "globex-developers", "globex-web-readonly"]
    assert instance.assigned_groups(ACCOUNT, permission_sets[ADMIN]) == ["contractors"]
    assert instance.assigned_groups(ACCOUNT, permission_sets[READ_ONLY]) == ["agency-ops"]
    assert sorted(unexpected_assignments(center, ACCOUNT, None)) == [
        "agency-ops (ReadOnlyAccess)",
        "contractors (AdministratorMinusBilling)",
    ]


def test_remove_access_removes_only_what_was_recorded_and_is_idempotent(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str]
) -> None:
    made = keep(center)
    other = keep(center, account_id=OTHER_ACCOUNT)
    recorded = made.model_copy(update={"assignments": made.assignments[:2]})

    removed = remove_access(center, ACCOUNT, recorded)

    assert [each.group for each in removed] == ["agency-ops", "acme-developers"]
    assert instance.listed(ACCOUNT, permission_sets[ADMIN]) == []
    assert instance.assigned_groups(ACCOUNT, permission_sets[READ_ONLY]) == ["acme-web-readonly"]
    assert instance.assigned_groups(OTHER_ACCOUNT, permission_sets[ADMIN]) == [
        "acme-developers",
        "agency-ops",
    ]
    assert other.created == 3
    assert remove_access(center, ACCOUNT, recorded) == []
    assert remove_access(center, ACCOUNT, None) == []


def test_a_requests_own_assignment_stays_with_the_account(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str]
) -> None:
    instance.add_group("auditors")
    first = keep(center, requested=[AccessRequest(group="auditors", permission_set=READ_ONLY)])
    assert first.created == 4
    assert first.assignments[-1].rule == REQUESTED

    # The reconciliation or a client change knows no request: the record keeps it.
    again = keep(center, client="globex", recorded=first)
    assert "auditors" in {each.group for each in again.assignments}
    assert "auditors" in instance.assigned_groups(ACCOUNT, permission_sets[READ_ONLY])


def test_a_missing_permission_set_fails_naming_it(center: IdentityCenter) -> None:
    with pytest.raises(AccessAssignmentFailed, match="AdministratorMinusBilling, ReadOnlyAccess"):
        keep(center)


# -- the AssignAccess step ------------------------------------------------------------------------


def record_of(account_id: str) -> AccountRecord:
    now = datetime.now(UTC)
    return AccountRecord(
        account_id=account_id,
        account_name="acme-web",
        email=f"{account_id}@example.com",
        client="acme",
        project="web",
        role_name="OrganizationAccountAccessRole",
        status=AccountStatus.ACTIVE,
        created_at=now,
        updated_at=now,
    )


def test_assign_access_without_an_instance_calls_nothing(
    registry: Registry, make_onboarding: Callable[..., Onboarding]
) -> None:
    step_input = AssignAccessInput(onboarding=make_onboarding(), account_id=ACCOUNT)
    assert assign_access(step_input, None, None, registry) == NOT_CONFIGURED
    assert registry.get_account(ACCOUNT) is None


def test_assign_access_records_what_it_made_and_a_retry_creates_nothing(
    center: IdentityCenter,
    instance: Instance,
    permission_sets: dict[str, str],
    registry: Registry,
    make_onboarding: Callable[..., Onboarding],
) -> None:
    registry.save_account(record_of(ACCOUNT))
    instance.add_group("auditors")
    onboarding = make_onboarding(access=[AccessRequest(group="auditors", permission_set=READ_ONLY)])
    step_input = AssignAccessInput(onboarding=onboarding, account_id=ACCOUNT)

    access = assign_access(step_input, center, setup(), registry)

    assert access.created == 4
    stored = registry.get_account(ACCOUNT)
    assert stored is not None and stored.access == access
    again = assign_access(step_input, center, setup(), registry)
    assert again.created == 0 and again.assignments == access.assignments
    assert instance.assigned_groups(ACCOUNT, permission_sets[READ_ONLY]) == ["acme-web-readonly", "auditors"]


def test_assign_access_before_the_account_is_registered_records_nothing(
    center: IdentityCenter,
    permission_sets: dict[str, str],
    registry: Registry,
    make_onboarding: Callable[..., Onboarding],
) -> None:
    step_input = AssignAccessInput(onboarding=make_onboarding(), account_id=ACCOUNT)
    assert assign_access(step_input, center, setup(), registry).created == 3
    assert registry.get_account(ACCOUNT) is None


# -- faults: throttling --------------------------------------------------------------------------


THROTTLED_URL = "https://throttled.invalid/"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class Throttle:
    """A ``before-send`` handler: AWS's HTTP answer to a throttled JSON call, the first ``times`` sends."""

    times: int | None
    sent: int = 0
    throttled: int = 0

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        self.sent += 1
        if self.times is not None and self.throttled >= self.times:
            return None
        self.throttled += 1
        # Every before-send handler runs (the first answer wins): pointed nowhere, the request is
        # not answered by moto's stubber too, as a throttled request never reaches Identity Center.
        request.url = THROTTLED_URL
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-amz-json-1.1"
        return AWSResponse("https://sso.us-east-1.amazonaws.com/", 400, headers, _Raw(body))


@pytest.fixture
def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry back-off (``time.sleep`` in botocore.endpoint), recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=slept.append))
    return slept


def events_of(center: IdentityCenter) -> Any:
    """The sso-admin client's event hooks (botocore-stubs types a handler as returning None: ours answer)."""
    return center.sso_admin.meta.events


def throttle(center: IdentityCenter, operation: str, times: int | None) -> Throttle:
    handler = Throttle(times)
    events_of(center).register_first(f"before-send.sso-admin.{operation}", handler)
    return handler


def test_botocores_retries_absorb_a_short_burst_of_throttling(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str], retry_sleeps: list[float]
) -> None:
    throttled = throttle(center, "CreateAccountAssignment", times=2)

    access = keep(center)

    assert access.created == 3
    assert throttled.throttled == 2 and throttled.sent == 5  # 2 throttled, then 3 accepted
    assert len(retry_sleeps) == 2
    assert instance.assigned_groups(ACCOUNT, permission_sets[ADMIN]) == ["acme-developers", "agency-ops"]


def test_persistent_throttling_is_identity_center_busy(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str], retry_sleeps: list[float]
) -> None:
    throttled = throttle(center, "CreateAccountAssignment", times=None)

    with pytest.raises(
        IdentityCenterBusy, match=r"agency-ops \(AdministratorMinusBilling\).*ThrottlingException"
    ):
        keep(center)

    # orgvend.aws.CLIENT_CONFIG, standard mode: botocore's max_attempts (4) counts the retries, not the
    # first try; the client's own config says the total.
    config: Any = center.sso_admin.meta.config  # botocore-stubs declares no retries
    attempts = config.retries["total_max_attempts"]
    assert (throttled.sent, len(retry_sleeps)) == (attempts, attempts - 1) == (5, 4)
    assert instance.listed(ACCOUNT, permission_sets[ADMIN]) == []


def test_throttled_lookups_are_identity_center_busy_too(
    center: IdentityCenter, permission_sets: dict[str, str], retry_sleeps: list[float]
) -> None:
    throttle(center, "ListAccountAssignments", times=None)
    with pytest.raises(IdentityCenterBusy, match=f"listing the assignments of {ACCOUNT}"):
        keep(center)


def test_a_retry_after_busy_creates_only_what_is_missing(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str], retry_sleeps: list[float]
) -> None:
    """Busy after the first assignment: the workflow's retry makes the other two, none twice."""
    made: list[str] = []

    def throttled_after_one(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        made.append("call")
        return Throttle(times=None)(request) if len(made) > 1 else None

    events_of(center).register_first("before-send.sso-admin.CreateAccountAssignment", throttled_after_one)
    with pytest.raises(IdentityCenterBusy):
        keep(center)
    events_of(center).unregister("before-send.sso-admin.CreateAccountAssignment", throttled_after_one)

    access = keep(center)
    assert access.created == 2
    assert sorted(instance.listed(ACCOUNT, permission_sets[ADMIN])) == sorted(
        [instance.groups["agency-ops"], instance.groups["acme-developers"]]
    )


# -- faults: eventual consistency ------------------------------------------------------------------


REQUEST_ID = "0b7c3f52-5d0e-4c7e-9a39-6f3c2f1e8a11"


def parsed(key: str, status: str, failure: str = "") -> tuple[AWSResponse, dict[str, Any]]:
    body: dict[str, Any] = {"Status": status, "RequestId": REQUEST_ID}
    if failure:
        body["FailureReason"] = failure
    return (
        AWSResponse("https://sso.us-east-1.amazonaws.com/", 200, HTTPHeaders(), None),
        {key: body, "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": "canned"}},
    )


def script(center: IdentityCenter, kind: str, first: str, then: list[str], failure: str = "") -> list[str]:
    """CreateAccountAssignment (or Delete…) answers ``first``; each Describe…Status the next of ``then``
    (the last one again once they run out). Returns the statuses the Describe answers gave."""
    key = f"AccountAssignment{kind}Status"
    answered: list[str] = []

    def request(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return parsed(key, first)

    def describe(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        status = then[min(len(answered), len(then) - 1)]
        answered.append(status)
        return parsed(key, status, failure if status == "FAILED" else "")

    verb = "Create" if kind == "Creation" else "Delete"
    events_of(center).register(f"before-call.sso-admin.{verb}AccountAssignment", request)
    events_of(center).register(f"before-call.sso-admin.DescribeAccountAssignment{kind}Status", describe)
    return answered


def test_keep_access_waits_for_an_assignment_in_progress(
    center: IdentityCenter, permission_sets: dict[str, str], sleeps: Sleeps
) -> None:
    answered = script(center, "Creation", "IN_PROGRESS", ["IN_PROGRESS", "SUCCEEDED"])

    access = keep(center, access_setup=setup("agency-ops=ReadOnlyAccess"))

    assert access.created == 1
    assert answered == ["IN_PROGRESS", "SUCCEEDED"]
    assert sleeps.slept == [POLL_SECONDS, POLL_SECONDS]


def test_an_assignment_in_progress_past_the_wait_is_access_not_ready(
    center: IdentityCenter, permission_sets: dict[str, str], sleeps: Sleeps
) -> None:
    center.wait_seconds = 3.0
    answered = script(center, "Creation", "IN_PROGRESS", ["IN_PROGRESS"])

    with pytest.raises(AccessNotReady, match=rf"agency-ops \(ReadOnlyAccess\) on 210987654321.*{REQUEST_ID}"):
        keep(center, access_setup=setup("agency-ops=ReadOnlyAccess"))

    assert sum(sleeps.slept) == pytest.approx(3.0)
    assert len(answered) == len(sleeps.slept) == int(3.0 / POLL_SECONDS)


def test_a_failed_assignment_is_access_assignment_failed_naming_the_group(
    center: IdentityCenter, permission_sets: dict[str, str]
) -> None:
    script(
        center, "Creation", "IN_PROGRESS", ["FAILED"], failure="Received a 404 status error: No role found"
    )

    with pytest.raises(AccessAssignmentFailed) as raised:
        keep(center, access_setup=setup("{client}-developers=AdministratorMinusBilling"))

    message = str(raised.value)
    assert "acme-developers (AdministratorMinusBilling)" in message
    assert ACCOUNT in message and "No role found" in message


def test_a_failure_answered_at_once_is_access_assignment_failed(
    center: IdentityCenter, permission_sets: dict[str, str], sleeps: Sleeps
) -> None:
    script(center, "Creation", "FAILED", ["FAILED"])
    with pytest.raises(AccessAssignmentFailed, match=r"agency-ops \(ReadOnlyAccess\).*no reason given"):
        keep(center, access_setup=setup("agency-ops=ReadOnlyAccess"))
    assert sleeps.slept == []


def test_a_removal_is_waited_for_too(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str], sleeps: Sleeps
) -> None:
    made = keep(center)
    answered = script(center, "Deletion", "IN_PROGRESS", ["IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"])

    removed = remove_access(center, ACCOUNT, made)

    assert len(removed) == 3
    assert answered == ["IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]
    assert len(sleeps.slept) == 5


def test_a_requested_assignment_a_rule_also_gives_survives_a_client_change(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str]
) -> None:
    first = keep(center, requested=[AccessRequest(group="acme-developers", permission_set=ADMIN)])
    assert first.created == 3  # one assignment for the rule and the request, credited to the request
    after = keep(center, client="globex", recorded=first)
    assert "acme-developers" in instance.assigned_groups(ACCOUNT, permission_sets[ADMIN]), after


def test_a_permission_set_made_again_since_it_was_remembered_is_looked_up_again(
    center: IdentityCenter, instance: Instance, permission_sets: dict[str, str]
) -> None:
    """The kept permission sets are remembered for the process; one deleted and made again under a new
    ARN makes the next call ResourceNotFound: Busy (retried), and the retry looks them up afresh."""
    keep(center, recorded=None)  # remembered now
    looked_up: list[str] = []
    events_of(center).register(
        "before-call.sso-admin.ListPermissionSets", lambda **_: looked_up.append("listed")
    )

    def gone_once(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        events_of(center).unregister("before-call.sso-admin.ListAccountAssignments", gone_once)
        error = {"Code": "ResourceNotFoundException", "Message": "Could not find PermissionSet"}
        return (
            AWSResponse("https://sso.us-east-1.amazonaws.com/", 400, HTTPHeaders(), None),
            {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}},
        )

    events_of(center).register_first("before-call.sso-admin.ListAccountAssignments", gone_once)
    with pytest.raises(IdentityCenterBusy, match="looked up again"):
        keep(center, account_id=OTHER_ACCOUNT)
    assert looked_up == []  # the remembered ARNs were used

    keep(center, account_id=OTHER_ACCOUNT)
    assert looked_up == ["listed"]  # forgotten: looked up again

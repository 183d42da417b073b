"""The offboarding steps, one by one, on moto's Organizations and DynamoDB (faults through botocore hooks)."""

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from pydantic import ValidationError

from orgvend import aws
from orgvend.account_sync import sync_account
from orgvend.errors import (
    AccountClosureRefused,
    AccountClosureTimedOut,
    AccountRemovalRefused,
    DetachPreconditionsUnmet,
    InvalidOffboardingRequest,
    OffboardingInProgress,
    OrganizationsBusy,
    OrganizationsRejected,
    OutOfScope,
)
from orgvend.execution_status import ExecutionStatusChange
from orgvend.models import (
    AccountRecord,
    AccountStatus,
    Closure,
    ClosureState,
    ExecutionContext,
    Offboarding,
    OffboardingFailure,
    OffboardingRequest,
)
from orgvend.notifications import Announcer, offboarded_message, offboarding_failed_message
from orgvend.organizations import Scope
from orgvend.reactions.report_offboarding_failure import report_offboarding_failure
from orgvend.registry import Registry
from orgvend.steps.offboarding.begin_offboarding import BeginOffboardingInput, begin_offboarding
from orgvend.steps.offboarding.check_account_closure import CheckAccountClosureInput, check_account_closure
from orgvend.steps.offboarding.check_detach_preconditions import (
    CheckDetachPreconditionsInput,
    check_detach_preconditions,
)
from orgvend.steps.offboarding.close_account import CloseAccountInput, close_account
from orgvend.steps.offboarding.finish_offboarding import FinishOffboardingInput, finish_offboarding
from orgvend.steps.offboarding.remove_account import REFUSALS, RemoveAccountInput, remove_account
from orgvend.steps.offboarding.stop_discount_sharing import StopDiscountSharingInput, stop_discount_sharing

from .support import failing, record_calls

NOW = datetime.now(UTC)
# record_for's account name: what a request must confirm (confirmAccountName).
ACCOUNT_NAME = "acme-web"


def record_for(
    account_id: str, status: AccountStatus = AccountStatus.ACTIVE, **changes: Any
) -> AccountRecord:
    fields: dict[str, Any] = {
        "account_id": account_id,
        "account_name": ACCOUNT_NAME,
        "email": f"{account_id}@example.com",
        "client": "acme",
        "project": "web",
        "role_name": "OrganizationAccountAccessRole",
        "status": status,
        "created_at": NOW - timedelta(days=30),
        "updated_at": NOW - timedelta(days=30),
    }
    fields.update(changes)
    return AccountRecord(**fields)


@pytest.fixture
def registered(registry: Registry, create_member: Callable[..., str]) -> Callable[..., str]:
    """A member account with a registry entry (ACTIVE unless told otherwise), in orgvend's scope unless
    ``parent`` puts it elsewhere."""

    def register(status: AccountStatus = AccountStatus.ACTIVE, parent: str | None = None) -> str:
        account_id = create_member(f"{uuid.uuid4().hex[:10]}@example.com", parent=parent)
        registry.save_account(record_for(account_id, status))
        return account_id

    return register


def begin(
    registry: Registry,
    scope: Scope,
    account_id: str,
    mode: str = "detach",
    name: str | None = None,
    confirm: str = ACCOUNT_NAME,
) -> Offboarding:
    name = name or f"off-{uuid.uuid4().hex[:8]}"
    step_input = BeginOffboardingInput(
        request=OffboardingRequest(
            account_id=account_id,
            mode=mode,
            confirm_account_name=confirm,
            requested_by="arn:aws:iam::1:user/ops",
        ).to_json(),
        execution=ExecutionContext(
            id=f"arn:aws:states:us-east-1:123456789012:execution:orgvend-Offboard:{name}",
            name=name,
            start_time=NOW,
        ),
    )
    return begin_offboarding(step_input, registry, scope)


def joined(organizations: Any, account_id: str, age: timedelta, method: str = "CREATED") -> Stubber:
    """DescribeAccount answering that the account joined ``age`` ago (moto's accounts join at creation)."""
    member = organizations.describe_account(AccountId=account_id)["Account"]
    stubbed = {**member, "JoinedTimestamp": NOW - age, "JoinedMethod": method}

    def answer(model: Any, **_: Any) -> Any:
        if model.name != "DescribeAccount":
            return None
        return AWSResponse("https://organizations.invalid", 200, {}, None), {
            "Account": stubbed,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    organizations.meta.events.register("before-call.organizations.DescribeAccount", answer)
    return stubbed


# --------------------------------------------------------------------------- BeginOffboarding


def test_begin_takes_the_account_and_records_the_offboarding(registry, scope, registered):
    account_id = registered()

    offboarding = begin(registry, scope, account_id, "close", name="off-1")

    assert (offboarding.account_id, offboarding.mode, offboarding.client) == (account_id, "close", "acme")
    assert offboarding.status_before is AccountStatus.ACTIVE
    assert registry.get_account(account_id).offboarding_id == "off-1"
    stored = registry.get_offboarding("off-1")
    assert (stored["accountId"], stored["mode"], stored["status"]) == (account_id, "close", "RUNNING")
    assert stored["requestedBy"] == "arn:aws:iam::1:user/ops"
    # A retried step (same execution) takes it again without complaint.
    assert begin(registry, scope, account_id, "close", name="off-1").offboarding_id == "off-1"


def test_a_second_offboarding_of_a_held_account_is_refused(registry, scope, registered):
    account_id = registered()
    begin(registry, scope, account_id, name="off-first")

    with pytest.raises(OffboardingInProgress, match="off-first"):
        begin(registry, scope, account_id, name="off-second")
    assert registry.get_offboarding("off-second") is None


def test_the_atomic_guard_decides_a_race_the_read_did_not_see(registry, scope, registered, dynamodb):
    account_id = registered()
    reads = {"count": 0}

    # The second offboarding reads the entry before the first one's write lands.
    def stale_first_read(params: dict[str, Any], **_: Any) -> None:
        reads["count"] += 1
        if reads["count"] == 1:
            registry.begin_offboarding(offboarding_for(account_id, "off-winner"))

    dynamodb.meta.events.register("before-call.dynamodb.GetItem", stale_first_read)
    with pytest.raises(OffboardingInProgress, match="off-winner"):
        begin(registry, scope, account_id, name="off-loser")
    assert registry.get_account(account_id).offboarding_id == "off-winner"


def offboarding_for(account_id: str, name: str) -> Offboarding:
    return Offboarding(
        offboarding_id=name,
        execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:orgvend-Offboard:{name}",
        started_at=NOW,
        mode="close",
        account_id=account_id,
        account_name="acme-web",
        email=f"{account_id}@example.com",
        client="acme",
        project="web",
        role_name="OrganizationAccountAccessRole",
        status_before=AccountStatus.ACTIVE,
    )


@pytest.mark.parametrize(
    "status", [AccountStatus.CLOSING, AccountStatus.CLOSED, AccountStatus.DETACHED, AccountStatus.CREATING]
)
def test_accounts_in_other_states_are_not_offboarded(registry, scope, registered, status):
    account_id = registered(status)

    with pytest.raises(InvalidOffboardingRequest, match=status.value):
        begin(registry, scope, account_id)
    assert registry.get_account(account_id).offboarding_id is None


def test_an_unregistered_account_is_refused_naming_the_field(registry, scope):
    with pytest.raises(
        InvalidOffboardingRequest, match=r"^accountId: account 111122223333 is not in the registry"
    ):
        begin(registry, scope, "111122223333")


@pytest.fixture
def stored_entry(setup_client: Callable[..., Any], table_name: str) -> Callable[[str], dict[str, Any]]:
    """An account's registry item as DynamoDB holds it (version included), read outside orgvend's session."""

    def read(account_id: str) -> dict[str, Any]:
        key = {"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}}
        return setup_client("dynamodb").get_item(TableName=table_name, Key=key, ConsistentRead=True)["Item"]

    return read


@pytest.mark.parametrize(
    "confirm", ["ACME-WEB", "Acme-Web", " acme-web", "acme-web ", "acme-webshop", "globex-web", ""]
)
def test_a_request_that_does_not_name_the_account_is_refused_naming_the_field_and_writes_nothing(
    registry, scope, registered, dynamodb, stored_entry, confirm
):
    account_id = registered()
    before = stored_entry(account_id)
    calls = record_calls(dynamodb)

    with pytest.raises(InvalidOffboardingRequest, match=r"^confirmAccountName: .*'acme-web'"):
        begin(registry, scope, account_id, "close", name="off-unconfirmed", confirm=confirm)

    assert calls.mutating("dynamodb") == []
    assert stored_entry(account_id) == before  # no lock, no version bump
    assert registry.get_offboarding("off-unconfirmed") is None


def test_a_request_without_a_confirmation_is_invalid():
    with pytest.raises(ValidationError, match="confirmAccountName"):
        OffboardingRequest.model_validate({"accountId": "210987654321", "mode": "close"})


@pytest.mark.parametrize("outside", ["security_ou_id", "root_id"])
def test_an_account_outside_the_scope_is_refused_and_nothing_is_written(
    registry, scope, registered, organization, organizations, dynamodb, stored_entry, outside
):
    parent = getattr(organization, outside)
    account_id = registered(parent=parent)
    before = stored_entry(account_id)
    registry_calls, organizations_calls = record_calls(dynamodb), record_calls(organizations)

    with pytest.raises(OutOfScope) as raised:
        begin(registry, scope, account_id, "close", name="off-outside")

    assert raised.value.field == "accountId"
    assert f"account {account_id} is outside orgvend's managed scope" in str(raised.value)
    assert f"it is in {parent}, which is not under orgvend's OU {organization.clients_ou_id}" in str(
        raised.value
    )
    assert registry_calls.mutating("dynamodb") == []
    assert organizations_calls.mutating("organizations") == []
    assert stored_entry(account_id) == before
    assert registry.get_offboarding("off-outside") is None


def test_an_account_in_an_ou_below_the_clients_ou_is_in_the_scope(
    registry, scope, registered, organization, setup_client
):
    nested = setup_client("organizations").create_organizational_unit(
        ParentId=organization.clients_ou_id, Name="acme"
    )["OrganizationalUnit"]["Id"]
    account_id = registered(parent=nested)

    begin(registry, scope, account_id, name="off-nested")

    assert registry.get_account(account_id).offboarding_id == "off-nested"


@pytest.mark.parametrize("was_in", ["clients_ou_id", "security_ou_id"])
def test_an_account_that_already_left_the_organization_is_accepted(
    registry, scope, registered, organization, setup_client, was_in
):
    """Nothing of it is left to protect: its offboarding only brings the registry up to date."""
    account_id = registered(parent=getattr(organization, was_in))
    setup_client("organizations").remove_account_from_organization(AccountId=account_id)

    offboarding = begin(registry, scope, account_id, name="off-gone")

    assert (offboarding.account_id, offboarding.status_before) == (account_id, AccountStatus.ACTIVE)
    assert registry.get_account(account_id).offboarding_id == "off-gone"
    stored = registry.get_offboarding("off-gone")
    assert (stored["accountId"], stored["status"]) == (account_id, "RUNNING")


# --------------------------------------------------------------------------- CheckDetachPreconditions


def preconditions(registry: Registry, scope: Scope, account_id: str, organizations: Any):
    offboarding = begin(registry, scope, account_id)
    return check_detach_preconditions(
        CheckDetachPreconditionsInput(offboarding=offboarding), organizations, NOW
    )


def test_an_old_enough_plain_member_meets_every_precondition(registry, scope, registered, organizations):
    account_id = registered()
    joined(organizations, account_id, timedelta(days=4, minutes=1))

    met = preconditions(registry, scope, account_id, organizations)

    assert met.member and met.joined_method == "CREATED"


def test_a_created_account_younger_than_4_days_waits_and_is_told_until_when(
    registry, scope, registered, organizations
):
    account_id = registered()
    joined(organizations, account_id, timedelta(days=3, hours=23))

    with pytest.raises(DetachPreconditionsUnmet) as raised:
        preconditions(registry, scope, account_id, organizations)

    message = str(raised.value)
    assert "(1) it was created 3 days 23 hours ago" in message
    assert (NOW + timedelta(hours=1)).strftime("%Y-%m-%d %H:") in message  # from when it may leave
    assert "(2)" not in message


def test_an_invited_account_may_leave_at_once(registry, scope, registered, organizations):
    account_id = registered()
    joined(organizations, account_id, timedelta(hours=1), method="INVITED")

    assert preconditions(registry, scope, account_id, organizations).joined_method == "INVITED"


def test_a_delegated_administrator_is_named_with_its_services(
    registry, scope, registered, organizations, setup_client
):
    account_id = registered()
    joined(organizations, account_id, timedelta(days=10))
    for principal in ("macie.amazonaws.com", "guardduty.amazonaws.com"):
        setup_client("organizations").register_delegated_administrator(
            AccountId=account_id, ServicePrincipal=principal
        )

    with pytest.raises(DetachPreconditionsUnmet) as raised:
        preconditions(registry, scope, account_id, organizations)

    assert "delegated administrator for guardduty.amazonaws.com, macie.amazonaws.com" in str(raised.value)
    assert f"--account-id {account_id}" in str(raised.value)


def test_the_management_account_is_never_detached(registry, scope, organizations, organization):
    management_account_id = organization.management_account_id
    registry.save_account(record_for(management_account_id))

    # BeginOffboarding refuses it first: the management account is never in orgvend's scope ...
    with pytest.raises(OutOfScope, match="management account"):
        begin(registry, scope, management_account_id)
    assert registry.get_account(management_account_id).offboarding_id is None
    # ... and the precondition check still refuses it, whatever started the workflow past BeginOffboarding.
    offboarding = offboarding_for(management_account_id, "off-management").model_copy(
        update={"mode": "detach"}
    )
    with pytest.raises(DetachPreconditionsUnmet, match="management account"):
        check_detach_preconditions(CheckDetachPreconditionsInput(offboarding=offboarding), organizations, NOW)


def test_every_unmet_precondition_is_listed_at_once(registry, scope, registered, organizations, setup_client):
    account_id = registered()
    joined(organizations, account_id, timedelta(hours=2))
    setup_client("organizations").register_delegated_administrator(
        AccountId=account_id, ServicePrincipal="ssm.amazonaws.com"
    )

    with pytest.raises(DetachPreconditionsUnmet) as raised:
        preconditions(registry, scope, account_id, organizations)

    assert "(1) it was created 2 hours ago" in str(raised.value)
    assert "(2) it is a delegated administrator for ssm.amazonaws.com" in str(raised.value)


def test_an_account_already_gone_skips_the_checks(registry, scope, registered, organizations, setup_client):
    account_id = registered()
    setup_client("organizations").remove_account_from_organization(AccountId=account_id)

    assert preconditions(registry, scope, account_id, organizations).member is False


def test_throttled_checks_are_retried_by_the_workflow(registry, scope, registered, organizations):
    account_id = registered()
    # Begun before the fault: BeginOffboarding's scope check reads DescribeOrganization through the same client.
    offboarding = begin(registry, scope, account_id)
    organizations.meta.events.register(
        "before-call.organizations.DescribeOrganization", failing("TooManyRequestsException", times=1)
    )

    with pytest.raises(OrganizationsBusy):
        check_detach_preconditions(CheckDetachPreconditionsInput(offboarding=offboarding), organizations, NOW)


# --------------------------------------------------------------------------- StopDiscountSharing


def test_discount_sharing_is_turned_off_and_read_back(registry, scope, registered):
    account_id = registered()
    billing = boto3.client(
        "billing", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    stubber = Stubber(billing)
    get = {"features": ["RI_SHARING"], "filters": [{"name": "PREFERENCE_KEY", "value": [account_id]}]}

    def answer(value: str) -> dict[str, Any]:
        return {"billingPreferences": [{"feature": "RI_SHARING", "key": account_id, "value": value}]}

    stubber.add_response("get_billing_preferences", answer("ENABLED"), get)
    stubber.add_response(
        "update_billing_preferences",
        {},
        {"feature": "RI_SHARING", "billingPreferencesPerKey": [{"key": account_id, "value": "DISABLED"}]},
    )
    stubber.add_response("get_billing_preferences", answer("DISABLED"), get)

    with stubber:
        setup = stop_discount_sharing(
            StopDiscountSharingInput(offboarding=begin(registry, scope, account_id)), billing
        )

    stubber.assert_no_pending_responses()
    assert (setup.ri_sharing, setup.changed) == ("DISABLED", True)


# --------------------------------------------------------------------------- RemoveAccount


def removal(registry: Registry, scope: Scope, account_id: str, organizations: Any):
    return remove_account(RemoveAccountInput(offboarding=begin(registry, scope, account_id)), organizations)


def test_removal_takes_the_account_out_of_the_organization(registry, scope, registered, organizations):
    account_id = registered()

    assert removal(registry, scope, account_id, organizations).removed is True
    assert account_id not in {a["Id"] for a in organizations.list_accounts()["Accounts"]}


def test_an_account_already_removed_counts_as_removed(registry, scope, registered, organizations):
    account_id = registered()
    # AWS's answer for an account that is no longer a member (moto's differs: a parity patch of the
    # embedded runtime, orgvend_local.parity, makes it AWS's).
    organizations.meta.events.register(
        "before-call.organizations.RemoveAccountFromOrganization", failing("AccountNotFoundException")
    )

    assert removal(registry, scope, account_id, organizations).removed is False


@pytest.mark.parametrize("reason", sorted(REFUSALS))
def test_each_refusal_says_what_to_do_and_keeps_the_registry(
    registry, scope, registered, organizations, reason
):
    account_id = registered()
    organizations.meta.events.register(
        "before-call.organizations.RemoveAccountFromOrganization",
        failing("ConstraintViolationException", "refused", Reason=reason),
    )
    before = registry.get_account(account_id)

    with pytest.raises(AccountRemovalRefused) as raised:
        removal(registry, scope, account_id, organizations)

    message = str(raised.value)
    assert reason in message and "retry the offboarding" in message
    assert len(message) < 500  # the API shows causes up to 500 characters
    after = registry.get_account(account_id)
    assert after.status is before.status is AccountStatus.ACTIVE


def test_a_busy_organization_is_retried_and_an_unknown_refusal_is_terminal(
    registry, scope, registered, organizations
):
    account_id = registered()
    organizations.meta.events.register(
        "before-call.organizations.RemoveAccountFromOrganization",
        failing("ConcurrentModificationException", times=1),
    )
    with pytest.raises(OrganizationsBusy):
        removal(registry, scope, account_id, organizations)

    other = registered()
    organizations.meta.events.register(
        "before-call.organizations.RemoveAccountFromOrganization",
        failing("ConstraintViolationException", Reason="SOMETHING_NEW"),
    )
    with pytest.raises(OrganizationsRejected, match="SOMETHING_NEW"):
        removal(registry, scope, other, organizations)


# --------------------------------------------------------------------------- CloseAccount and its polls


def closing(
    registry: Registry, scope: Scope, account_id: str, organizations: Any
) -> tuple[Offboarding, Closure]:
    offboarding = begin(registry, scope, account_id, "close")
    return offboarding, close_account(
        CloseAccountInput(offboarding=offboarding), organizations, registry, NOW
    )


def test_close_requests_closure_and_the_registry_says_closing(registry, scope, registered, organizations):
    account_id = registered()

    offboarding, closure = closing(registry, scope, account_id, organizations)

    assert closure.state is ClosureState.PENDING_CLOSURE
    record = registry.get_account(account_id)
    assert record.status is AccountStatus.CLOSING
    assert record.offboarding_id == offboarding.offboarding_id  # still held until the end
    # A retried step: Organizations says it is already closing; the step goes on.
    again = close_account(CloseAccountInput(offboarding=offboarding), organizations, registry, NOW)
    assert again.state is ClosureState.PENDING_CLOSURE


def test_the_closure_quota_is_reported_plainly(registry, scope, registered, organizations):
    account_id = registered()
    organizations.meta.events.register(
        "before-call.organizations.CloseAccount",
        failing("ConstraintViolationException", Reason="CLOSE_ACCOUNT_QUOTA_EXCEEDED"),
    )

    with pytest.raises(AccountClosureRefused, match=r"greater of 250 or 20% .* rolling 30 days"):
        closing(registry, scope, account_id, organizations)
    assert registry.get_account(account_id).status is AccountStatus.ACTIVE


def test_too_many_closures_at_once_waits_its_turn(registry, scope, registered, organizations):
    account_id = registered()
    organizations.meta.events.register(
        "before-call.organizations.CloseAccount",
        failing("ConstraintViolationException", Reason="CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED", times=1),
    )

    with pytest.raises(OrganizationsBusy):
        closing(registry, scope, account_id, organizations)


def test_the_management_account_is_never_closed(registry, scope, organizations, organization, setup_client):
    management_account_id = organization.management_account_id
    registry.save_account(record_for(management_account_id))
    # Even placed inside the Clients OU, the management account is outside orgvend's scope.
    setup_client("organizations").move_account(
        AccountId=management_account_id,
        SourceParentId=organization.root_id,
        DestinationParentId=organization.clients_ou_id,
    )
    assert scope.path_to_scope(management_account_id) == (True, organization.clients_ou_id)
    calls = record_calls(organizations)

    with pytest.raises(OutOfScope, match="management account"):
        closing(registry, scope, management_account_id, organizations)
    assert registry.get_account(management_account_id).offboarding_id is None
    # CloseAccount's own guard, for a workflow that got past BeginOffboarding all the same.
    with pytest.raises(AccountClosureRefused, match="management account"):
        close_account(
            CloseAccountInput(offboarding=offboarding_for(management_account_id, "off-management")),
            organizations,
            registry,
            NOW,
        )
    assert "CloseAccount" not in calls.operations()
    assert registry.get_account(management_account_id).status is AccountStatus.ACTIVE


def test_closure_polls_until_suspended_then_times_out(registry, scope, registered, organizations):
    account_id = registered()
    offboarding, closure = closing(registry, scope, account_id, organizations)
    statuses = iter(["PENDING_CLOSURE", "SUSPENDED"])

    def describe(model: Any, **_: Any) -> Any:
        return AWSResponse("https://organizations.invalid", 200, {}, None), {
            "Account": {"Id": account_id, "Status": next(statuses)},
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    organizations.meta.events.register("before-call.organizations.DescribeAccount", describe)

    def poll(current: Closure, now: datetime, timeout: int = 600) -> Closure:
        step_input = CheckAccountClosureInput(
            offboarding=offboarding, closure=current, timeout_seconds=timeout
        )
        return check_account_closure(step_input, organizations, now)

    pending = poll(closure, NOW + timedelta(seconds=30))
    assert (pending.state, pending.polls) == (ClosureState.PENDING_CLOSURE, 1)
    done = poll(pending, NOW + timedelta(seconds=60))
    assert (done.state, done.polls) == (ClosureState.SUSPENDED, 2)

    statuses = iter(["PENDING_CLOSURE"])
    with pytest.raises(AccountClosureTimedOut, match="stays CLOSING"):
        poll(pending, NOW + timedelta(seconds=601))


# --------------------------------------------------------------------------- FinishOffboarding


@pytest.mark.parametrize(
    ("mode", "outcome"), [("detach", AccountStatus.DETACHED), ("close", AccountStatus.CLOSED)]
)
def test_finish_keeps_the_record_and_lets_go(registry, scope, registered, mode, outcome):
    account_id = registered()
    offboarding = begin(registry, scope, account_id, mode)

    record = finish_offboarding(FinishOffboardingInput(offboarding=offboarding), registry, NOW)

    assert record.status is outcome and record.offboarded_at == NOW and record.offboarding_id is None
    stored = registry.get_account(account_id)
    assert (stored.status, stored.client, stored.offboarding_id) == (outcome, "acme", None)
    assert registry.get_offboarding(offboarding.offboarding_id)["status"] == "SUCCEEDED"
    assert registry.get_offboarding(offboarding.offboarding_id)["outcome"] == outcome.value
    page, _ = registry.list_accounts(status=outcome.value)
    assert [r.account_id for r in page] == [account_id]


def test_finish_never_overwrites_an_account_another_offboarding_holds(registry, scope, registered):
    account_id = registered()
    first = begin(registry, scope, account_id)
    registry.fail_offboarding(first.offboarding_id, first.execution_arn, "X", "x", attempt=0)
    begin(registry, scope, account_id, name="off-other")

    with pytest.raises(OffboardingInProgress, match="held by offboarding off-other"):
        finish_offboarding(FinishOffboardingInput(offboarding=first), registry, NOW)
    stored = registry.get_account(account_id)
    assert (stored.status, stored.offboarding_id, stored.offboarded_at) == (
        AccountStatus.ACTIVE,
        "off-other",
        None,
    )
    assert registry.get_offboarding(first.offboarding_id)["status"] == "FAILED"


# --------------------------------------------------------------------------- failures and retries


def test_a_failure_lets_go_and_is_notified_once_per_attempt(registry, scope, registered):
    account_id = registered()
    offboarding = begin(registry, scope, account_id)

    assert registry.fail_offboarding(
        offboarding.offboarding_id, offboarding.execution_arn, "E", "m", attempt=0
    )
    assert registry.get_account(account_id).offboarding_id is None
    registry.offboarding_failure_notified(offboarding.offboarding_id, 0)
    assert not registry.fail_offboarding(
        offboarding.offboarding_id, offboarding.execution_arn, "E", "m", attempt=0
    )
    # A retry takes the account again, unless someone else holds it.
    assert registry.retake_offboarding(account_id, offboarding.offboarding_id, 1)
    assert registry.get_account(account_id).offboarding_id == offboarding.offboarding_id
    assert not registry.retake_offboarding(account_id, "off-someone-else", 1)


def test_a_failure_report_lets_go_only_while_the_execution_is_stopped_at_the_attempt_it_reports(
    registry, scope, registered, settings_for, operator_inbox, event_inbox
):
    account_id = registered()
    offboarding = begin(registry, scope, account_id, "close", name="off-reported")
    settings = settings_for("ReportOffboardingFailureFunction")
    state_machine_arn = offboarding.execution_arn.rsplit(":", 1)[0].replace(":execution:", ":stateMachine:")
    # Step Functions as the scenario has it, answering only for this execution (Stubber checks the ARN).
    stepfunctions = boto3.client(
        "stepfunctions", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    stubber = Stubber(stepfunctions)

    def execution_is(status: str, redrive_count: int) -> None:
        described = {
            "executionArn": offboarding.execution_arn,
            "stateMachineArn": state_machine_arn,
            "name": offboarding.offboarding_id,
            "status": status,
            "startDate": NOW,
            "redriveCount": redrive_count,
        }
        stubber.add_response("describe_execution", described, {"executionArn": offboarding.execution_arn})

    attempt_0_failed = ExecutionStatusChange(
        executionArn=offboarding.execution_arn,
        stateMachineArn=state_machine_arn,
        name=offboarding.offboarding_id,
        status="FAILED",
        input=json.dumps({"accountId": account_id, "mode": "close", "confirmAccountName": ACCOUNT_NAME}),
        error="AccountClosureRefused",
        cause=json.dumps({"errorMessage": "closure quota used up", "errorType": "AccountClosureRefused"}),
        redriveCount=0,
    )

    def report() -> OffboardingFailure | None:
        with stubber:
            return report_offboarding_failure(
                attempt_0_failed,
                registry=registry,
                stepfunctions=stepfunctions,
                announcer=Announcer(aws.client("sns"), aws.client("events"), settings),
            )

    # Still stopped at attempt 0: the report lets go of the account, records and tells, once.
    execution_is("FAILED", 0)
    failure = report()
    assert failure is not None
    assert (failure.account_id, failure.mode, failure.error) == (account_id, "close", "AccountClosureRefused")
    assert registry.get_account(account_id).offboarding_id is None
    assert registry.get_offboarding("off-reported")["failedAttempt"] == 0
    assert len(operator_inbox.receive()) == 1
    assert len(event_inbox.receive()) == 1

    # Retried: the API takes the account again and redrives; attempt 1 runs, then fails in its turn.
    assert registry.retake_offboarding(account_id, "off-reported", 1)
    for status, redrive_count in (("RUNNING", 1), ("FAILED", 1)):
        # A late duplicate of attempt 0's event speaks for an attempt that is over: nothing happens.
        execution_is(status, redrive_count)
        assert report() is None
        assert registry.get_account(account_id).offboarding_id == "off-reported"
        assert registry.get_offboarding("off-reported")["status"] == "FAILED"
    stubber.assert_no_pending_responses()
    assert operator_inbox.receive() == []
    assert event_inbox.receive() == []


def test_messages_carry_the_checklist_or_the_closure_note():
    offboarding = offboarding_for("210987654321", "off-9")
    account = record_for(
        "210987654321", AccountStatus.DETACHED, baseline_policy_arn="arn:aws:iam::210987654321:policy/P"
    )

    subject, body = offboarded_message(
        account, offboarding.model_copy(update={"mode": "detach"}), "111111111111"
    )
    assert "handed over" in subject
    for duty in ("Forgot password?", "MFA", "Payment method", "Support plan", "111111111111", "policy/P"):
        assert duty in body

    subject, body = offboarded_message(account, offboarding, "111111111111")
    assert "closed" in subject and "90 days" in body and "Hand-over" not in body

    subject, body = offboarding_failed_message(
        OffboardingFailure(
            offboarding_id="off-9", execution_arn="arn", error="E", message="why", mode="close"
        )
    )
    assert "E" in subject and "/offboardings/off-9/retry" in body and "why" in body


def test_a_begin_that_lost_to_another_offboarding_can_be_redriven_once_it_is_free(
    registry, scope, registered
):
    account_id = registered()
    holder = begin(registry, scope, account_id, name="off-holder")
    with pytest.raises(OffboardingInProgress):
        begin(registry, scope, account_id, name="off-later")
    # The reporter records the later one's failure; the holder fails too and lets go.
    arn = holder.execution_arn.replace("off-holder", "off-later")
    assert registry.fail_offboarding("off-later", arn, "OffboardingInProgress", "held", attempt=0)
    registry.fail_offboarding("off-holder", holder.execution_arn, "E", "m", attempt=0)

    redriven = begin(registry, scope, account_id, name="off-later")

    assert registry.get_account(account_id).offboarding_id == redriven.offboarding_id == "off-later"
    stored = registry.get_offboarding("off-later")
    assert (stored["status"], stored["accountId"], stored["failedAttempt"]) == ("RUNNING", account_id, 0)


def test_organizations_events_keep_the_offboarding_that_holds_the_account(
    registry, scope, registered, organizations
):
    """A CloseAccountResult (or any sync) while the account is held changes its status, not its holder."""
    account_id = registered()
    offboarding, _ = closing(registry, scope, account_id, organizations)  # moto suspends at once

    parent_id = scope.require_account(account_id)  # where the reaction's scope check finds it
    changed = sync_account(registry.get_account(account_id), organizations, registry, parent_id)

    assert "status" in changed
    record = registry.get_account(account_id)
    assert (record.status, record.offboarding_id) == (AccountStatus.CLOSED, offboarding.offboarding_id)
    finished = finish_offboarding(FinishOffboardingInput(offboarding=offboarding), registry, NOW)
    assert (finished.status, finished.offboarding_id) == (AccountStatus.CLOSED, None)

"""Event-driven orgvend: Account Requested events, Organizations events, reconciliation."""

import hashlib
import json
import time
from typing import Any

import pytest
from moto.events.models import EventPattern

from .conftest import Harness, request_for
from .events import (
    MANAGEMENT_ACCOUNT_ID,
    accept_handshake,
    api_call,
    close_account_result,
    create_account_result,
)

pytestmark = pytest.mark.e2e
POLICY = "OrgvendAdministratorMinusBilling"


def execution_name(idempotency_key: str) -> str:
    """The onboarding ID orgvend derives from an event's ID (orgvend.workflows.onboardings.execution_name). Not
    imported: importing orgvend's modules here would build Powertools' metrics before any function's
    environment names their namespace, and every function in this process would then fail to flush them."""
    return "k-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:48]


def move_in(embedded: Harness, account_id: str, destination: str | None = None) -> dict[str, Any]:
    """Move the account (into the Clients OU by default) and put the MoveAccount event CloudTrail would."""
    source = embedded.parent_of(account_id)
    target = destination or embedded.layout.clients_ou_id
    embedded.move_account(account_id, target)
    event = api_call(
        "MoveAccount", {"accountId": account_id, "sourceParentId": source, "destinationParentId": target}
    )
    embedded.put_event(event)
    return event


def onboarded(embedded: Harness, unique: str, **overrides: Any) -> str:
    execution = embedded.wait(embedded.start(request_for(unique, **overrides)))
    assert execution["status"] == "SUCCEEDED", execution
    return str(json.loads(execution["output"])["account"]["accountId"])


def registry_status(embedded: Harness, account_id: str, status: str) -> dict[str, Any]:
    return embedded.eventually(
        lambda: (item := embedded.account_item(account_id)) and item["status"] == status and item,
        what=f"account {account_id} {status}",
    )


def attached_policies(embedded: Harness, account_id: str) -> list[str]:
    policies = embedded.member_iam(account_id).list_attached_role_policies(
        RoleName="OrganizationAccountAccessRole"
    )
    return [policy["PolicyName"] for policy in policies["AttachedPolicies"]]


def handled(embedded: Harness, logical_id: str, before: int, count: int = 1) -> None:
    embedded.eventually(
        lambda: embedded.invocations(logical_id) >= before + count, what=f"{logical_id} invoked"
    )


def organizations_tags(embedded: Harness, account_id: str) -> dict[str, str]:
    tags = embedded.client("organizations").list_tags_for_resource(ResourceId=account_id)["Tags"]
    return {tag["Key"]: tag["Value"] for tag in tags}


def test_account_created_outside_orgvend_is_adopted_once_moved_into_the_scope(
    embedded: Harness, unique: str
) -> None:
    email = f"aws+{unique}@example.com"
    root = embedded.layout.root_id
    request_id, account_id = embedded.create_member(
        email,
        "outside",
        parent=root,  # where CreateAccount puts it: outside orgvend's scope
        Tags=[{"Key": "client", "Value": f"c{unique}"}, {"Key": "project", "Value": "legacy"}],
    )
    event = create_account_result(request_id, account_id)
    before = embedded.invocations("FollowOrganizationFunction")
    embedded.put_event(event)
    embedded.put_event(event)  # EventBridge delivers at least once
    handled(embedded, "FollowOrganizationFunction", before, 2)
    assert embedded.account_item(account_id) is None  # at the root: outside, nothing changes
    assert embedded.executions_named(f"adopt-{account_id}") == []
    assert embedded.parent_of(account_id) == root

    # An operator moves it into an OU of the scope: adopted there, once, however often the event comes.
    legacy = embedded.client("organizations").create_organizational_unit(
        ParentId=embedded.layout.clients_ou_id, Name=f"legacy-{unique}"
    )["OrganizationalUnit"]["Id"]
    moved = move_in(embedded, account_id, legacy)
    embedded.put_event(moved)
    embedded.put_event(event)  # a late CreateAccountResult changes nothing either

    item = registry_status(embedded, account_id, "ACTIVE")
    assert (item["client"], item["project"], item["email"]) == (f"c{unique}", "legacy", email)
    assert attached_policies(embedded, account_id) == [POLICY]
    assert len(embedded.executions_named(f"adopt-{account_id}")) == 1
    assert item["ouId"] == legacy == embedded.parent_of(account_id)  # adopted where it stands
    tags = organizations_tags(embedded, account_id)
    assert (tags["managed-by"], tags["client"], tags["project"]) == ("orgvend", f"c{unique}", "legacy")
    embedded.operator_message_about(account_id)


def test_create_account_result_for_orgvends_own_account_does_nothing_twice(
    embedded: Harness, unique: str
) -> None:
    account_id = onboarded(embedded, unique)
    before_item = embedded.account_item(account_id)
    onboarding = embedded.onboarding_item(before_item["onboardingId"])
    before = embedded.invocations("FollowOrganizationFunction")

    embedded.put_event(create_account_result(onboarding["createRequestId"], account_id))
    handled(embedded, "FollowOrganizationFunction", before)

    assert embedded.executions_named(f"adopt-{account_id}") == []
    assert embedded.account_item(account_id) == before_item


def accept_outside(embedded: Harness, account_id: str) -> None:
    """The invited account accepts: it joins at the root, outside the scope, and nothing changes."""
    organization_id = embedded.client("organizations").describe_organization()["Organization"]["Id"]
    before = embedded.invocations("FollowOrganizationFunction")
    embedded.put_event(accept_handshake(account_id, organization_id))
    handled(embedded, "FollowOrganizationFunction", before)
    assert embedded.account_item(account_id) is None
    assert embedded.parent_of(account_id) == embedded.layout.root_id


def test_invited_account_with_the_role_is_baselined_and_registered_once_moved_in(
    embedded: Harness, unique: str
) -> None:
    _, account_id = embedded.create_member(f"aws+{unique}@example.com", parent=embedded.layout.root_id)
    accept_outside(embedded, account_id)
    assert attached_policies(embedded, account_id) == ["AdministratorAccess"]  # untouched

    move_in(embedded, account_id)

    item = registry_status(embedded, account_id, "ACTIVE")
    assert item["ouId"] == embedded.layout.clients_ou_id == embedded.parent_of(account_id)
    assert attached_policies(embedded, account_id) == [POLICY]


def test_invited_account_without_the_role_needs_it_and_is_adopted_once_it_exists(
    embedded: Harness, unique: str
) -> None:
    _, account_id = embedded.create_member(
        f"aws+{unique}@example.com", parent=embedded.layout.root_id, RoleName="SomebodyElsesRole"
    )
    accept_outside(embedded, account_id)
    move_in(embedded, account_id)

    item = registry_status(embedded, account_id, "NEEDS_ROLE")
    assert "OrganizationAccountAccessRole" in item["failure"]
    message = embedded.operator_message_about(account_id)["Message"]
    assert "aws iam create-role --role-name OrganizationAccountAccessRole" in message
    assert "arn:aws:iam::123456789012:root" in message

    # The account's owner creates the role as told; the next reconciliation adopts the account.
    iam = embedded.member_iam(account_id, role_name="SomebodyElsesRole")
    trust = message.split("--assume-role-policy-document '")[1].split("'")[0]
    iam.create_role(RoleName="OrganizationAccountAccessRole", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(
        RoleName="OrganizationAccountAccessRole", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    embedded.invoke("ReconcileRegistryFunction", {})

    registry_status(embedded, account_id, "ACTIVE")
    assert attached_policies(embedded, account_id) == [POLICY]
    assert embedded.parent_of(account_id) == embedded.layout.clients_ou_id


def test_moves_follow_the_organization_even_out_of_order(embedded: Harness, unique: str) -> None:
    account_id = onboarded(embedded, unique)
    organizations = embedded.client("organizations")
    clients = embedded.layout.clients_ou_id  # moves within orgvend's scope
    first = organizations.create_organizational_unit(ParentId=clients, Name=f"first-{unique}")[
        "OrganizationalUnit"
    ]["Id"]
    second = organizations.create_organizational_unit(ParentId=first, Name=f"second-{unique}")[
        "OrganizationalUnit"
    ]["Id"]
    current = organizations.list_parents(ChildId=account_id)["Parents"][0]["Id"]
    organizations.move_account(AccountId=account_id, SourceParentId=current, DestinationParentId=first)
    organizations.move_account(AccountId=account_id, SourceParentId=first, DestinationParentId=second)
    to_first = api_call(
        "MoveAccount", {"accountId": account_id, "sourceParentId": current, "destinationParentId": first}
    )
    to_second = api_call(
        "MoveAccount", {"accountId": account_id, "sourceParentId": first, "destinationParentId": second}
    )

    before = embedded.invocations("FollowOrganizationFunction")
    embedded.put_event(to_second)  # delivered out of order...
    embedded.put_event(to_first)
    embedded.put_event(to_first)  # ...and twice
    handled(embedded, "FollowOrganizationFunction", before, 3)
    time.sleep(0.5)

    item = embedded.account_item(account_id)
    assert (item["ouId"], item["status"]) == (second, "ACTIVE")


def test_tags_follow_and_the_client_tag_moves_the_account(embedded: Harness, unique: str) -> None:
    account_id = onboarded(embedded, unique, tags={"cost-center": "42"})
    organizations = embedded.client("organizations")
    organizations.tag_resource(ResourceId=account_id, Tags=[{"Key": "client", "Value": f"n{unique}"}])
    embedded.put_event(
        api_call(
            "TagResource", {"resourceId": account_id, "tags": [{"key": "client", "value": f"n{unique}"}]}
        )
    )

    item = embedded.eventually(
        lambda: (found := embedded.account_item(account_id)) and found["client"] == f"n{unique}" and found,
        what="client changed",
    )
    assert item["gsi1pk"] == f"CLIENT#n{unique}"

    organizations.untag_resource(ResourceId=account_id, TagKeys=["cost-center"])
    embedded.put_event(api_call("UntagResource", {"resourceId": account_id, "tagKeys": ["cost-center"]}))
    embedded.eventually(
        lambda: "cost-center" not in embedded.account_item(account_id)["tags"], what="cost-center tag removed"
    )


def test_removed_account_is_marked_detached_and_kept(embedded: Harness, unique: str) -> None:
    account_id = onboarded(embedded, unique)
    embedded.client("organizations").remove_account_from_organization(AccountId=account_id)
    event = api_call("RemoveAccountFromOrganization", {"accountId": account_id})
    embedded.put_event(event)
    embedded.put_event(event)

    item = registry_status(embedded, account_id, "DETACHED")
    assert item["email"] == f"aws+{unique}@example.com"  # the record is kept


def test_left_account_is_marked_detached(embedded: Harness, unique: str) -> None:
    account_id = onboarded(embedded, unique)
    embedded.client("organizations").remove_account_from_organization(AccountId=account_id)
    # LeaveOrganization is called by the member account itself.
    embedded.put_event(api_call("LeaveOrganization", None, recipient=account_id))
    registry_status(embedded, account_id, "DETACHED")


def test_closing_then_closed(embedded: Harness, unique: str) -> None:
    account_id = onboarded(embedded, unique)
    embedded.client("organizations").close_account(AccountId=account_id)
    embedded.put_event(api_call("CloseAccount", {"accountId": account_id}))
    registry_status(embedded, account_id, "CLOSING")

    time.sleep(embedded.runtime.organizations_behaviour.closure_seconds)
    embedded.put_event(close_account_result(account_id))
    registry_status(embedded, account_id, "CLOSED")


def account_requested(detail: dict[str, Any]) -> dict[str, Any]:
    return {"Source": "orgvend", "DetailType": "Account Requested", "Detail": json.dumps(detail)}


def requested_event(
    event_id: str, detail: dict[str, Any], account: str = MANAGEMENT_ACCOUNT_ID
) -> dict[str, Any]:
    """An "Account Requested" event as EventBridge hands it to its target."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Account Requested",
        "source": "orgvend",
        "account": account,
        "time": "2026-11-28T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def test_account_requested_event_onboards(embedded: Harness, unique: str) -> None:
    request = request_for(unique)
    embedded.put_event(account_requested(request))

    guard = embedded.eventually(
        lambda: embedded.registry_item(f"EMAIL#{request['email']}", "EMAIL"), what="request recorded"
    )
    onboarding = embedded.eventually(
        lambda: (
            (item := embedded.onboarding_item(guard["onboardingId"]))
            and item["status"] == "SUCCEEDED"
            and item
        ),
        what="onboarding succeeded",
    )
    item = registry_status(embedded, onboarding["accountId"], "ACTIVE")
    assert item["client"] == f"c{unique}"
    assert item["requestedBy"] == "event:123456789012:orgvend"  # the event's account and source
    assert embedded.parent_of(item["accountId"]) == item["ouId"]  # placed in its client's OU, in the scope
    ou = embedded.client("organizations").describe_organizational_unit(OrganizationalUnitId=item["ouId"])
    assert ou["OrganizationalUnit"]["Name"] == f"c{unique}"
    assert embedded.client("organizations").list_parents(ChildId=item["ouId"])["Parents"][0]["Id"] == (
        embedded.layout.clients_ou_id
    )


def test_bad_or_duplicate_request_events_start_nothing_and_are_reported(
    embedded: Harness, unique: str
) -> None:
    sfn = embedded.client("stepfunctions")
    arn = embedded.outputs["OnboardAccountStateMachineArn"]
    count = lambda: len(sfn.list_executions(stateMachineArn=arn)["executions"])  # noqa: E731
    before_executions, before_calls = count(), embedded.invocations("StartRequestedOnboardingFunction")

    embedded.put_event(account_requested({**request_for(unique), "email": f"bad email {unique}"}))
    handled(embedded, "StartRequestedOnboardingFunction", before_calls)
    rejected = embedded.operator_message_about("was not started")
    assert "Nothing was created" in rejected["Message"]
    assert count() == before_executions

    account_id = onboarded(embedded, unique)
    before_executions = count()
    before_calls = embedded.invocations("StartRequestedOnboardingFunction")
    embedded.put_event(account_requested(request_for(unique, project="again")))
    handled(embedded, "StartRequestedOnboardingFunction", before_calls)
    duplicate = embedded.operator_message_about(f"account {account_id} (EmailAlreadyRegistered)")
    assert "Nothing was created" in duplicate["Message"]
    assert count() == before_executions


def test_a_request_event_delivered_twice_starts_one_onboarding(embedded: Harness, unique: str) -> None:
    event = requested_event(f"delivered-twice-{unique}", request_for(unique))
    first = embedded.invoke("StartRequestedOnboardingFunction", event)
    second = embedded.invoke("StartRequestedOnboardingFunction", event)
    assert first["outcome"] == second["outcome"] == "started"
    assert first["onboardingId"] == second["onboardingId"]
    assert len(embedded.executions_named(first["onboardingId"])) == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"accountId": "LOG_ARCHIVE"},
        {"ou": "CLIENTS"},
        {"keepOu": True},
        {"requestedBy": "arn:aws:iam::123456789012:role/ops-admin"},
    ],
    ids=["accountId", "ou", "keepOu", "requestedBy"],
)
def test_a_request_event_may_only_ask_for_a_new_account(
    embedded: Harness, unique: str, extra: dict[str, Any]
) -> None:
    names = {"LOG_ARCHIVE": embedded.layout.log_archive_account_id, "CLIENTS": embedded.layout.clients_ou_id}
    field = next(iter(extra))
    detail = {**request_for(unique), field: names.get(extra[field], extra[field])}
    if field == "keepOu":
        detail["accountId"] = embedded.layout.log_archive_account_id
    event_id = f"api-only-{field}-{unique}"

    outcome = embedded.invoke("StartRequestedOnboardingFunction", requested_event(event_id, detail))

    assert outcome["outcome"] == "rejected"
    assert outcome["reason"].startswith(f"{'accountId' if field == 'keepOu' else field}:")
    assert embedded.executions_named(execution_name(f"event:{event_id}")) == []
    assert embedded.registry_item(f"EMAIL#{detail['email']}", "EMAIL") is None
    message = embedded.operator_message_about(event_id)["Message"]
    assert "was not started" in message and "Nothing was created" in message
    assert embedded.account_item(embedded.layout.log_archive_account_id) is None


def test_reconciliation_on_demand_adopts_the_unknown_and_marks_the_departed(
    embedded: Harness, unique: str
) -> None:
    departed = onboarded(embedded, unique)
    embedded.client("organizations").remove_account_from_organization(AccountId=departed)  # no event
    _, unknown = embedded.create_member(f"aws+{unique}-x@example.com")  # in the Clients OU, no event either
    _, outside = embedded.create_member(f"aws+{unique}-y@example.com", parent=embedded.layout.root_id)

    result = embedded.invoke("ReconcileRegistryFunction", {})

    actions = {repair["accountId"]: repair["action"] for repair in result["repairs"]}
    assert actions[unknown] == "adopted" and actions[departed] == "left the organization"
    assert outside not in actions and result["outside"] >= 1
    registry_status(embedded, departed, "DETACHED")
    registry_status(embedded, unknown, "ACTIVE")
    assert embedded.account_item(outside) is None
    again = embedded.invoke("ReconcileRegistryFunction", {})
    assert all(repair["accountId"] not in (unknown, departed, outside) for repair in again["repairs"])
    embedded.operator_message_about("reconciliation found")


def test_the_events_exercised_here_match_the_template_patterns(embedded: Harness) -> None:
    """Every event shape used above matches the rule the template routes it to, and only that one."""
    assert embedded.runtime.template is not None
    patterns: dict[str, dict[str, Any]] = {}
    for logical_id, function in embedded.runtime.template.enabled_resources(
        "AWS::Serverless::Function"
    ).items():
        for event_id, event in function["Properties"].get("Events", {}).items():
            if event["Type"] == "EventBridgeRule":
                patterns[f"{logical_id}.{event_id}"] = embedded.runtime.template.resolve(
                    event["Properties"]["Pattern"]
                )
    samples = {
        "FollowOrganizationFunction.OrganizationsResults": [
            create_account_result("car-example1", "111122223333"),
            close_account_result("111122223333"),
        ],
        "FollowOrganizationFunction.OrganizationsApiCalls": [
            api_call(name, {"accountId": "111122223333"})
            for name in (
                "MoveAccount",
                "RemoveAccountFromOrganization",
                "CloseAccount",
                "TagResource",
                "UntagResource",
            )
        ]
        + [
            accept_handshake("111122223333", "o-exampleorg"),
            api_call("LeaveOrganization", None, recipient="111122223333"),
        ],
        "StartRequestedOnboardingFunction.AccountRequested": [account_requested(request_for("pattern"))],
    }

    def routed_to(entry: dict[str, Any], account: str = MANAGEMENT_ACCOUNT_ID) -> set[str]:
        event = {
            "id": "1",
            "account": account,
            "region": "us-east-1",
            "time": "2026-11-28T12:00:00Z",
            "source": entry["Source"],
            "detail-type": entry["DetailType"],
            "detail": json.loads(entry["Detail"]),
            "resources": [],
        }
        # moto's TestEventPattern answers no Result; its matcher (the one that routes events here) does.
        return {
            name
            for name, pattern in patterns.items()
            if EventPattern.load(json.dumps(pattern)).matches_event(event)
        }

    for target, entries in samples.items():
        for entry in entries:
            assert routed_to(entry) == {target}, (
                entry["DetailType"],
                json.loads(entry["Detail"]).get("eventName"),
                routed_to(entry),
            )
    # An account request put on the bus by any other account reaches no target.
    assert routed_to(account_requested(request_for("pattern")), account="111122223333") == set()

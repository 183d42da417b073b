"""The onboarding workflow end to end: the real ASL, template and handlers on the embedded AWS."""

import json
from typing import Any

import pytest

from orgvend.baseline_policy import administrator_minus_billing, same_document

from .conftest import FaultInjector, Harness, request_for

pytestmark = pytest.mark.e2e
ADMINISTRATOR_ACCESS_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def entered_states(history: list[dict[str, Any]]) -> list[str]:
    return [
        event["stateEnteredEventDetails"]["name"] for event in history if "stateEnteredEventDetails" in event
    ]


def task_inputs(history: list[dict[str, Any]], state: str) -> list[dict[str, Any]]:
    """The input each attempt of a Task state's Lambda function received."""
    entered = [e["id"] for e in history if e.get("stateEnteredEventDetails", {}).get("name") == state]
    inputs = []
    for event in history:
        scheduled = event.get("lambdaFunctionScheduledEventDetails")
        if scheduled and entered and event["id"] > entered[0]:
            inputs.append(json.loads(scheduled["input"]))
    return inputs


def lambda_failures(history: list[dict[str, Any]]) -> list[str]:
    return [
        e["lambdaFunctionFailedEventDetails"]["error"]
        for e in history
        if "lambdaFunctionFailedEventDetails" in e
    ]


def member_accounts_with_email(embedded: Harness, email: str) -> list[dict[str, Any]]:
    paginator = embedded.client("organizations").get_paginator("list_accounts")
    return [a for page in paginator.paginate() for a in page["Accounts"] if a["Email"] == email]


def test_onboarding_creates_places_baselines_registers_and_notifies(embedded: Harness, unique: str) -> None:
    request = request_for(unique, tags={"cost-center": "42"})
    rule_queue = catch_events(embedded, "Account Onboarded", unique)
    execution = embedded.wait(embedded.start(request))

    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    account_id = output["account"]["accountId"]

    # Organizations: one account, in the client's OU, with the tags.
    [account] = member_accounts_with_email(embedded, request["email"])
    assert account["Id"] == account_id and account["Name"] == f"c{unique}-web"
    organizations = embedded.client("organizations")
    [parent] = organizations.list_parents(ChildId=account_id)["Parents"]
    assert (
        organizations.describe_organizational_unit(OrganizationalUnitId=parent["Id"])["OrganizationalUnit"][
            "Name"
        ]
        == f"c{unique}"
    )
    tags = {t["Key"]: t["Value"] for t in organizations.list_tags_for_resource(ResourceId=account_id)["Tags"]}
    assert tags == {"client": f"c{unique}", "project": "web", "cost-center": "42", "managed-by": "orgvend"}
    assert embedded.parent_of(parent["Id"]) == embedded.layout.clients_ou_id  # the client's OU, in the scope

    # The role in the new account: the orgvend policy instead of AdministratorAccess.
    iam = embedded.member_iam(account_id)
    attached = {
        p["PolicyName"]: p["PolicyArn"]
        for p in iam.list_attached_role_policies(RoleName="OrganizationAccountAccessRole")["AttachedPolicies"]
    }
    assert set(attached) == {"OrgvendAdministratorMinusBilling"}
    policy = iam.get_policy(PolicyArn=attached["OrgvendAdministratorMinusBilling"])["Policy"]
    document = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])[
        "PolicyVersion"
    ]
    assert same_document(
        document["Document"],
        administrator_minus_billing(
            policy_name="OrgvendAdministratorMinusBilling",
            access_role_names=("OrganizationAccountAccessRole",),
        ),
    )
    # Its trust: orgvend's functions and the operators of the management account, nobody else.
    trust = iam.get_role(RoleName="OrganizationAccountAccessRole")["Role"]["AssumeRolePolicyDocument"]
    admitted = sorted(p for s in trust["Statement"] for p in s["Condition"]["ArnLike"]["aws:PrincipalArn"])
    assert admitted == [
        "arn:aws:iam::123456789012:role/ops-*",
        "arn:aws:iam::123456789012:role/orgvend/member-access/*",
        "arn:aws:iam::123456789012:user/moto",
    ]

    # The registry.
    item = embedded.account_item(account_id)
    assert item is not None
    assert item["status"] == "ACTIVE"
    assert (item["client"], item["project"], item["email"]) == (f"c{unique}", "web", request["email"])
    assert item["roleName"] == "OrganizationAccountAccessRole"
    assert item["ouId"] == parent["Id"]
    assert item["executionArn"] == execution["executionArn"]
    assert "switchRoleUrl" not in item  # computed from the role, client and project by every reader
    assert embedded.onboarding_item(execution["name"])["status"] == "SUCCEEDED"

    # The operators' message and the event for downstream automation, with the switch-role link.
    link = (
        f"https://signin.aws.amazon.com/switchrole?account={account_id}"
        f"&roleName=OrganizationAccountAccessRole&displayName=c{unique}%2Fweb"
    )
    message = embedded.operator_message_about(account_id)
    assert link in message["Message"]
    assert "Forgot password" in message["Message"] and "MFA" in message["Message"]
    event = embedded.eventually(lambda: receive_one(embedded, rule_queue), what="Account Onboarded event")
    assert event["detail"]["accountId"] == account_id
    assert event["detail"]["switchRoleUrl"] == output["account"]["switchRoleUrl"] == link


def catch_events(embedded: Harness, detail_type: str, unique: str) -> str:
    """An SQS queue that receives this test's events of ``detail_type`` from the default bus."""
    sqs, events = embedded.client("sqs"), embedded.client("events")
    queue_url = sqs.create_queue(QueueName=f"events-{unique}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = {"source": ["orgvend"], "detail-type": [detail_type], "detail": {"client": [f"c{unique}"]}}
    events.put_rule(Name=f"catch-{unique}", EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"catch-{unique}", Targets=[{"Id": "queue", "Arn": queue_arn}])
    return str(queue_url)


def receive_one(embedded: Harness, queue_url: str) -> dict[str, Any] | None:
    messages = embedded.client("sqs").receive_message(QueueUrl=queue_url).get("Messages", [])
    return json.loads(messages[0]["Body"]) if messages else None


def test_creation_in_progress_for_several_polls(embedded: Harness, unique: str) -> None:
    request = request_for(unique)
    embedded.runtime.organizations_behaviour.script_creation(
        request["email"], ["IN_PROGRESS"] * 4 + ["SUCCEEDED"]
    )
    execution = embedded.wait(embedded.start(request))

    assert execution["status"] == "SUCCEEDED"
    states = entered_states(embedded.history(execution["executionArn"]))
    assert states.count("CheckAccountCreation") == 5
    assert states.count("WaitForAccountCreation") == 5
    assert json.loads(execution["output"])["creation"]["polls"] == 5


def test_email_already_exists_fails_with_the_reason_and_registers_nothing(
    embedded: Harness, unique: str
) -> None:
    request = request_for(unique)
    # An account made outside orgvend already uses the address.
    embedded.client("organizations").create_account(Email=request["email"], AccountName="outside")
    embedded.eventually(
        lambda: member_accounts_with_email(embedded, request["email"]), what="outside account"
    )

    execution = embedded.wait(embedded.start(request))

    assert execution["status"] == "FAILED"
    assert execution["error"] == "AccountCreationFailed"
    assert "EMAIL_ALREADY_EXISTS" in execution["cause"]
    assert len(member_accounts_with_email(embedded, request["email"])) == 1
    onboarding = embedded.eventually(
        lambda: (item := embedded.onboarding_item(execution["name"])) and item["status"] == "FAILED" and item,
        what="onboarding recorded FAILED",
    )
    assert "EMAIL_ALREADY_EXISTS" in onboarding["failure"]
    assert "accountId" not in onboarding
    message = embedded.operator_message_about(execution["name"])
    assert "EMAIL_ALREADY_EXISTS" in message["Message"]


def test_throttled_create_account_is_retried_and_creates_one_account(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    request = request_for(unique)
    throttled = faults.fail(
        "before-call.organizations.CreateAccount",
        "TooManyRequestsException",
        times=2,
        when=lambda params: params.get("Email") == request["email"],
    )
    rate_limited = faults.fail(
        "before-call.organizations.CreateAccount",
        "ConstraintViolationException",
        times=1,
        when=lambda params: params.get("Email") == request["email"] and len(throttled) == 2,
        extra={"Reason": "ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED"},
    )
    execution = embedded.wait(embedded.start(request))

    assert execution["status"] == "SUCCEEDED", execution
    assert len(throttled) == 2 and len(rate_limited) == 1
    assert lambda_failures(embedded.history(execution["executionArn"])) == ["OrganizationsBusy"] * 3
    assert len(member_accounts_with_email(embedded, request["email"])) == 1


def test_terminal_create_account_error_is_not_retried(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    request = request_for(unique)
    refused = faults.fail(
        "before-call.organizations.CreateAccount",
        "ConstraintViolationException",
        times=5,
        when=lambda params: params.get("Email") == request["email"],
        extra={"Reason": "ACCOUNT_NUMBER_LIMIT_EXCEEDED"},
    )
    execution = embedded.wait(embedded.start(request))

    assert execution["status"] == "FAILED"
    assert execution["error"] == "OrganizationsRejected"
    assert "ACCOUNT_NUMBER_LIMIT_EXCEEDED" in execution["cause"]
    assert len(refused) == 1
    assert member_accounts_with_email(embedded, request["email"]) == []


def test_access_denied_on_first_assume_role_attempts_is_retried(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    request = request_for(unique)
    denied = faults.fail(
        "before-call.sts.AssumeRole",
        "AccessDenied",
        times=2,
        status=403,
        when=lambda params: params.get("RoleSessionName") == "orgvend-baseline",
    )
    execution = embedded.wait(embedded.start(request))

    assert execution["status"] == "SUCCEEDED", execution
    assert len(denied) == 2
    assert lambda_failures(embedded.history(execution["executionArn"])) == [
        "AccountNotReady",
        "AccountNotReady",
    ]


def test_adopting_an_existing_member_account(embedded: Harness, unique: str) -> None:
    email = f"aws+{unique}@example.com"
    request_id, account_id = embedded.create_member(email, f"legacy-{unique}")
    [account] = member_accounts_with_email(embedded, email)
    execution = embedded.wait(embedded.start(request_for(unique, accountId=account["Id"])))

    assert execution["status"] == "SUCCEEDED", execution
    states = entered_states(embedded.history(execution["executionArn"]))
    assert "CreateAccount" not in states and {"VerifyMemberAccount", "ClaimAccount"} <= set(states)
    assert request_id and account["Id"] == account_id  # created once, outside orgvend
    assert embedded.parent_of(account_id) == embedded.layout.clients_ou_id  # kept where it was
    assert len(member_accounts_with_email(embedded, email)) == 1
    item = embedded.account_item(account["Id"])
    assert item["status"] == "ACTIVE" and item["client"] == f"c{unique}"
    attached = embedded.member_iam(account["Id"]).list_attached_role_policies(
        RoleName="OrganizationAccountAccessRole"
    )
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == ["OrgvendAdministratorMinusBilling"]


def test_adopting_the_management_account_is_refused(embedded: Harness, unique: str) -> None:
    management = embedded.client("organizations").describe_organization()["Organization"]
    execution = embedded.wait(
        embedded.start(
            request_for(
                unique, accountId=management["MasterAccountId"], email=management["MasterAccountEmail"]
            )
        )
    )
    assert execution["status"] == "FAILED"
    assert execution["error"] == "OutOfScope"  # RecordRequest refuses it before anything is written
    assert "management account" in execution["cause"]
    assert embedded.account_item(management["MasterAccountId"]) is None


def test_rerunning_the_baseline_changes_nothing(embedded: Harness, unique: str) -> None:
    execution = embedded.wait(embedded.start(request_for(unique)))
    assert execution["status"] == "SUCCEEDED"
    account_id = json.loads(execution["output"])["account"]["accountId"]
    [baseline_input] = task_inputs(embedded.history(execution["executionArn"]), "ApplyBaseline")[:1]
    iam = embedded.member_iam(account_id)
    policy_arn = f"arn:aws:iam::{account_id}:policy/OrgvendAdministratorMinusBilling"
    versions_before = iam.list_policy_versions(PolicyArn=policy_arn)["Versions"]

    # Invoke the deployed ApplyBaseline function again, through Lambda's API, with the same input.
    function = embedded.runtime.template.physical_name("ApplyBaselineFunction")
    response = embedded.client("lambda").invoke(FunctionName=function, Payload=json.dumps(baseline_input))
    result = json.loads(response["Payload"].read())

    assert "FunctionError" not in response, result
    assert result["changed"] is False
    assert iam.list_policy_versions(PolicyArn=policy_arn)["Versions"] == versions_before
    attached = iam.list_attached_role_policies(RoleName="OrganizationAccountAccessRole")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [policy_arn]


def test_second_onboarding_with_a_registered_email_is_refused(embedded: Harness, unique: str) -> None:
    request = request_for(unique)
    first = embedded.wait(embedded.start(request))
    assert first["status"] == "SUCCEEDED"
    account_id = json.loads(first["output"])["account"]["accountId"]

    second = embedded.wait(embedded.start({**request, "project": "other"}))

    assert second["status"] == "FAILED"
    assert second["error"] == "EmailAlreadyRegistered"
    assert account_id in second["cause"]
    assert len(member_accounts_with_email(embedded, request["email"])) == 1
    assert embedded.account_item(account_id)["status"] == "ACTIVE"


def test_invalid_request_fails_naming_the_field_and_creates_nothing(embedded: Harness, unique: str) -> None:
    request = request_for(unique, email=f"not an email {unique}", tags={"aws:owner": "x"})
    execution = embedded.wait(embedded.start(request))

    assert execution["status"] == "FAILED"
    assert execution["error"] == "InvalidOnboardingRequest"
    assert "email:" in execution["cause"] and "tags.aws:owner" in execution["cause"]
    assert entered_states(embedded.history(execution["executionArn"])) == ["Configure", "RecordRequest"]
    assert member_accounts_with_email(embedded, request["email"]) == []


def test_failure_after_creation_keeps_the_account_in_the_registry(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    request = request_for(unique)
    faults.fail("before-call.organizations.MoveAccount", "AccessDeniedException", times=10)
    execution = embedded.wait(embedded.start(request))

    assert execution["status"] == "FAILED"
    assert execution["error"] == "OrganizationsRejected"
    history = embedded.history(execution["executionArn"])
    assert entered_states(history)[-1] == "PlaceAccount"  # no Catch: a redrive resumes here
    [account] = member_accounts_with_email(embedded, request["email"])
    item = embedded.eventually(
        lambda: (found := embedded.account_item(account["Id"])) and found["status"] == "FAILED" and found,
        what="account marked FAILED",
    )
    assert "AccessDeniedException" in item["failure"]
    assert embedded.onboarding_item(execution["name"])["accountId"] == account["Id"]
    message = embedded.operator_message_about(execution["name"])
    assert account["Id"] in message["Message"] and "redrive" in message["Message"]


def test_execution_history_through_the_aws_cli(embedded: Harness, unique: str) -> None:
    execution = embedded.wait(embedded.start(request_for(unique)))
    events = embedded.aws_cli(
        "stepfunctions", "get-execution-history", "--execution-arn", execution["executionArn"]
    )["events"]
    assert events[0]["type"] == "ExecutionStarted" and events[-1]["type"] == "ExecutionSucceeded"

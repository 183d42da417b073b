"""RedriveExecution on the embedded AWS: a failed onboarding continues where it failed."""

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import FaultInjector, Harness, request_for

pytestmark = pytest.mark.e2e


def state_entries(history: list[dict[str, Any]], state: str) -> int:
    return sum(
        1
        for event in history
        if event["type"] == "TaskStateEntered" and event["stateEnteredEventDetails"]["name"] == state
    )


def fail_at_place_account(
    embedded: Harness, unique: str, faults: FaultInjector
) -> tuple[dict[str, Any], str]:
    """An onboarding that failed at PlaceAccount after creating its account, reported FAILED."""
    request = request_for(unique)
    faults.fail("before-call.organizations.MoveAccount", "AccessDeniedException", times=10)
    execution = embedded.wait(embedded.start(request))
    assert execution["status"] == "FAILED" and execution["error"] == "OrganizationsRejected"
    account_id = embedded.eventually(
        lambda: embedded.onboarding_item(execution["name"])["accountId"], what="account recorded"
    )
    embedded.eventually(
        lambda: (embedded.account_item(account_id) or {}).get("status") == "FAILED",
        what="account marked FAILED",
    )
    faults.clear()
    return execution, account_id


def test_redrive_resumes_at_the_failed_state_and_succeeds(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    failed, account_id = fail_at_place_account(embedded, unique, faults)
    arn = failed["executionArn"]
    sfn = embedded.client("stepfunctions")
    assert sfn.describe_execution(executionArn=arn)["redriveStatus"] == "REDRIVABLE"
    events_before = embedded.history(arn)

    redriven = sfn.redrive_execution(executionArn=arn)
    assert redriven["redriveDate"]
    execution = embedded.wait(arn)

    assert execution["status"] == "SUCCEEDED", execution
    assert execution["name"] == failed["name"] and execution["input"] == failed["input"]
    assert execution["redriveCount"] == 1 and execution["redriveDate"] == redriven["redriveDate"]
    assert execution["redriveStatus"] == "NOT_REDRIVABLE"
    assert execution["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"
    assert json.loads(execution["output"])["account"]["accountId"] == account_id

    history = embedded.history(arn)
    assert history[: len(events_before)] == events_before  # the old events are kept
    [redriven_event] = [event for event in history if event["type"] == "ExecutionRedriven"]
    assert redriven_event["id"] == events_before[-1]["id"] + 1
    assert redriven_event["executionRedrivenEventDetails"] == {"redriveCount": 1}
    resumed = history[len(events_before) + 1]
    assert resumed["stateEnteredEventDetails"]["name"] == "PlaceAccount"
    assert state_entries(history, "CreateAccount") == 1
    assert state_entries(history, "RecordRequest") == 1
    assert history[-1]["type"] == "ExecutionSucceeded"

    accounts = [
        account
        for page in embedded.client("organizations").get_paginator("list_accounts").paginate()
        for account in page["Accounts"]
        if account["Email"] == json.loads(failed["input"])["email"]
    ]
    assert [account["Id"] for account in accounts] == [account_id]
    embedded.eventually(
        lambda: (embedded.account_item(account_id) or {}).get("status") == "ACTIVE",
        what="account marked ACTIVE",
    )


def test_only_an_unsuccessful_execution_can_be_redriven(embedded: Harness, unique: str) -> None:
    sfn = embedded.client("stepfunctions")
    succeeded = embedded.wait(embedded.start(request_for(unique)))
    assert succeeded["status"] == "SUCCEEDED" and succeeded["redriveCount"] == 0
    with pytest.raises(ClientError) as refused:
        sfn.redrive_execution(executionArn=succeeded["executionArn"])
    assert refused.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    running = embedded.start(request_for(f"{unique}r"))
    with pytest.raises(ClientError) as refused:
        sfn.redrive_execution(executionArn=running)
    assert refused.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    assert "RUNNING" in refused.value.response["Error"]["Message"]
    embedded.wait(running)

    unknown = succeeded["executionArn"].rsplit(":", 1)[0] + ":no-such-execution"
    with pytest.raises(ClientError) as refused:
        sfn.redrive_execution(executionArn=unknown)
    assert refused.value.response["Error"]["Code"] == "ExecutionDoesNotExist"


def test_redrive_through_the_aws_cli(embedded: Harness, unique: str, faults: FaultInjector) -> None:
    failed, _ = fail_at_place_account(embedded, unique, faults)
    answer = embedded.aws_cli("stepfunctions", "redrive-execution", "--execution-arn", failed["executionArn"])
    assert "redriveDate" in answer
    execution = embedded.wait(failed["executionArn"])
    assert execution["status"] == "SUCCEEDED" and execution["redriveCount"] == 1

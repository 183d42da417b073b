"""The Lambda handlers of functions/*/app.py, one at a time, called as Step Functions and EventBridge call them.

Each handler is imported by file path (CodeUri and Handler in template.yaml) and runs with the
environment template.yaml gives its function. A step's input is its state's Parameters in
statemachines/onboard_account.asl.json (the template's DefinitionSubstitutions applied), each path
given its value by the test (``task_input``), so the JSON here is the JSON the state machine passes,
camelCase and all. Whole workflows run on the real state machines in tests/e2e
(test_onboarding_states.py, test_onboarding_slots.py).
"""

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from orgvend import aws
from orgvend.errors import AccountCreationTimedOut, EmailAlreadyRegistered, InvalidOnboardingRequest

from .support import as_json, lambda_context, load_handler

STATE_MACHINE = "OnboardAccountStateMachine"


def task_input(parameters: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """What Step Functions passes a state: its ASL ``Parameters``, each ``"key.$": path`` replaced by the
    value the test gives for that path. It substitutes and evaluates nothing: every path of the Parameters
    must be given a value, and every value given must be a path they use."""
    used: set[str] = set()

    def fill(block: dict[str, Any]) -> dict[str, Any]:
        filled: dict[str, Any] = {}
        for key, value in block.items():
            if key.endswith(".$"):
                assert value in values, f"no value given for {value} (Parameters key {key})"
                used.add(value)
                filled[key.removesuffix(".$")] = values[value]
            else:
                filled[key] = fill(value) if isinstance(value, dict) else value
        return filled

    result = fill(parameters)
    assert used == set(values), f"paths the Parameters do not use: {sorted(set(values) - used)}"
    return result


def test_task_input_substitutes_every_path_and_nothing_else():
    parameters = {"onboarding.$": "$.onboarding", "nested": {"id.$": "$$.Execution.Id"}, "fixed": 1}
    values = {"$.onboarding": {"a": 1}, "$$.Execution.Id": "arn"}
    assert task_input(parameters, values) == {"onboarding": {"a": 1}, "nested": {"id": "arn"}, "fixed": 1}
    with pytest.raises(AssertionError, match=r"no value given for \$\$\.Execution\.Id"):
        task_input(parameters, {"$.onboarding": {}})
    with pytest.raises(AssertionError, match=r"do not use: \['\$\.other'\]"):
        task_input(parameters, {**values, "$.other": 2})


@pytest.fixture
def definition(template) -> dict[str, Any]:
    return json.loads(template.state_machine_definition(STATE_MACHINE))


@pytest.fixture
def invoke(template, set_function_environment) -> Callable[[str, Any], Any]:
    """Call a function's handler, by logical ID, as Lambda would (its environment, a context)."""

    def call(logical_id: str, event: Any) -> Any:
        set_function_environment(logical_id)
        handler = load_handler(template, logical_id)
        return as_json(handler(as_json(event), lambda_context(template, logical_id)))

    return call


@pytest.fixture
def stack(table_name, organization, operator_inbox, event_inbox, slots) -> dict[str, Any]:
    """What the deployed stack provides: the registry (and its creation slots), an organization,
    the topic and the event bus."""
    return {"organization": organization, "operators": operator_inbox, "events": event_inbox, "slots": slots}


@pytest.fixture
def record_request_input(definition, execution_arn) -> Callable[[dict[str, Any], str], dict[str, Any]]:
    """RecordRequest's input for a request and an execution name: Configure's ``execution`` block, then
    RecordRequest's Parameters."""
    states = definition["States"]

    def make(request: dict[str, Any], name: str) -> dict[str, Any]:
        execution = task_input(
            states["Configure"]["Parameters"]["execution"],
            {
                "$$.Execution.Id": execution_arn(name),
                "$$.Execution.Name": name,
                "$$.Execution.StartTime": "2026-01-02T03:04:05.000Z",
            },
        )
        return task_input(
            states["RecordRequest"]["Parameters"], {"$.request": request, "$.execution": execution}
        )

    return make


def test_the_workflow_reads_the_semaphore_item_the_functions_write(definition, slots, table_name):
    look = definition["States"]["LookForCreationSlot"]
    assert look["Parameters"]["TableName"] == table_name
    assert look["Parameters"]["Key"] == slots.key
    assert look["Parameters"]["ProjectionExpression"] == "freeAt"


def retry_names(definition: dict[str, Any], state_name: str, *, terminal: bool) -> set[str]:
    names: set[str] = set()
    for retrier in definition["States"][state_name].get("Retry", []):
        if (retrier["MaxAttempts"] == 0) is terminal:
            names.update(retrier["ErrorEquals"])
    return names


def test_record_request_refuses_an_invalid_request_with_an_error_the_asl_treats_as_terminal(
    invoke, definition, organization, table_name, record_request_input, table_items
):
    event = record_request_input({"client": "acme", "project": "web", "email": "not-an-email"}, "onb-bad")
    with pytest.raises(InvalidOnboardingRequest, match=r"^email: must contain exactly one @"):
        invoke("RecordRequestFunction", event)

    assert InvalidOnboardingRequest.__name__ in retry_names(definition, "RecordRequest", terminal=True)
    assert table_items() == []


def test_record_request_refuses_a_claimed_email(
    invoke, definition, organization, table_name, record_request_input
):
    def event(name: str) -> dict[str, Any]:
        return record_request_input({"client": "acme", "project": "web", "email": "ops@example.com"}, name)

    output = invoke("RecordRequestFunction", event("onb-a"))
    assert output["onboardingId"] == "onb-a"
    assert output["startedAt"].startswith("2026-01-02T03:04:05")
    with pytest.raises(EmailAlreadyRegistered, match="onb-a"):
        invoke("RecordRequestFunction", event("onb-b"))
    assert EmailAlreadyRegistered.__name__ in retry_names(definition, "RecordRequest", terminal=True)


def test_check_account_creation_polls_once_and_answers_camel_case(invoke, definition, opened_onboarding):
    onboarding = opened_onboarding()
    organizations = aws.client("organizations")  # the cached client the handler uses
    event = task_input(
        definition["States"]["CheckAccountCreation"]["Parameters"],
        {
            "$.onboarding": onboarding.to_json(),
            "$.creation": {"requestId": "car-1234567890", "state": "IN_PROGRESS", "polls": 0},
            "$.config.creationTimeoutSeconds": 1800,
        },
    )
    assert event["timeoutSeconds"] == 1800

    with Stubber(organizations) as stubber:
        stubber.add_response(
            "describe_create_account_status",
            {"CreateAccountStatus": {"Id": "car-1234567890", "State": "IN_PROGRESS"}},
            {"CreateAccountRequestId": "car-1234567890"},
        )
        output = invoke("CheckAccountCreationFunction", event)

    assert output == {"requestId": "car-1234567890", "state": "IN_PROGRESS", "polls": 1, "recovered": False}


def test_check_account_creation_times_out_with_an_error_the_asl_treats_as_terminal(
    invoke, definition, opened_onboarding
):
    onboarding = opened_onboarding(started_at=datetime.now(UTC) - timedelta(hours=2))
    organizations = aws.client("organizations")
    event = task_input(
        definition["States"]["CheckAccountCreation"]["Parameters"],
        {
            "$.onboarding": onboarding.to_json(),
            "$.creation": {"requestId": "car-1234567890", "state": "IN_PROGRESS", "polls": 7},
            "$.config.creationTimeoutSeconds": 1800,
        },
    )
    assert event["timeoutSeconds"] == 1800
    with Stubber(organizations) as stubber:
        stubber.add_response(
            "describe_create_account_status",
            {"CreateAccountStatus": {"Id": "car-1234567890", "State": "IN_PROGRESS"}},
        )
        with pytest.raises(AccountCreationTimedOut, match="car-1234567890"):
            invoke("CheckAccountCreationFunction", event)
    assert "AccountCreationTimedOut" in retry_names(definition, "CheckAccountCreation", terminal=True)


def test_report_onboarding_failure_handles_the_eventbridge_event(
    template, invoke, registry, opened_onboarding, stack
):
    rule = template.resources["ReportOnboardingFailureFunction"]["Properties"]["Events"]["OnboardingEnded"]
    pattern = rule["Properties"]["Pattern"]
    onboarding = opened_onboarding(client="acme", project="web")
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": pattern["detail-type"][0],
        "source": pattern["source"][0],
        "account": template.account_id,
        "time": "2026-01-02T03:04:05Z",
        "region": template.region,
        "resources": [onboarding.execution_arn],
        "detail": {
            "executionArn": onboarding.execution_arn,
            "stateMachineArn": template.arn(STATE_MACHINE),
            "name": onboarding.onboarding_id,
            "status": pattern["detail"]["status"][0],
            "startDate": 1767323045000,
            "stopDate": 1767323105000,
            "input": json.dumps({"client": "acme", "project": "web", "email": onboarding.email}),
            "inputDetails": {"included": True},
            "output": None,
            "outputDetails": None,
            "error": "AccountCreationFailed",
            "cause": json.dumps(
                {
                    "errorMessage": "CreateAccount failed: INTERNAL_FAILURE: AWS had an internal failure; try again later"
                }
            ),
            "redriveCount": 0,
        },
    }

    # Step Functions' side: the execution is still stopped at the attempt the event reports.
    stepfunctions = aws.client("stepfunctions")  # the cached client the handler uses
    described = {
        "executionArn": onboarding.execution_arn,
        "stateMachineArn": template.arn(STATE_MACHINE),
        "status": "FAILED",
        "startDate": datetime(2026, 1, 2, tzinfo=UTC),
        "redriveCount": 0,
    }
    with Stubber(stepfunctions) as stubber:
        for _ in range(2):
            stubber.add_response("describe_execution", described, {"executionArn": onboarding.execution_arn})
        output = invoke("ReportOnboardingFailureFunction", event)
        duplicate = invoke("ReportOnboardingFailureFunction", event)

    assert output == {
        "onboardingId": onboarding.onboarding_id,
        "executionArn": onboarding.execution_arn,
        "error": "AccountCreationFailed",
        "message": "CreateAccount failed: INTERNAL_FAILURE: AWS had an internal failure; try again later",
        "client": "acme",
        "project": "web",
        "accountName": onboarding.account_name,
        "email": onboarding.email,
    }
    assert duplicate == {"duplicate": True}
    assert len(stack["operators"].receive()) == 1
    assert len(stack["events"].receive()) == 1
    assert registry.get_onboarding(onboarding.onboarding_id)["status"] == "FAILED"

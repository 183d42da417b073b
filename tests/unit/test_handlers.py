"""The Lambda handlers of functions/*/app.py, called as Step Functions and EventBridge call them.

Each handler is imported by file path (CodeUri and Handler in template.yaml) and
runs with the environment template.yaml gives its function. Step inputs are built
from the ASL's own Parameters (statemachines/onboard_account.asl.json, with the
template's DefinitionSubstitutions applied), so the JSON here is the JSON the
state machine passes, camelCase and all.
"""

import json
import random
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from orgvend import aws
from orgvend.errors import (
    AccountCreationTimedOut,
    EmailAlreadyRegistered,
    InvalidOnboardingRequest,
    OrgvendError,
    Terminal,
)
from orgvend.semaphore import creation_slots

from .support import as_json, function_environment, hooked_session, lambda_context, load_handler

STATE_MACHINE = "OnboardAccountStateMachine"
STRING_TO_JSON = re.compile(r"States\.StringToJson\('(.*)'\)")
TERMINAL_ERRORS = {
    "InvalidOnboardingRequest",
    "EmailAlreadyRegistered",
    "OrganizationsRejected",
    "AccountCreationFailed",
    "AccountCreationTimedOut",
    "AccountNotAdoptable",
    "OutOfScope",
    "UnsafeAccessRoleTrust",
    "BaselineFailed",
    "BillingPreferencesFailed",
    "InvalidOffboardingRequest",
    "OffboardingInProgress",
    "DetachPreconditionsUnmet",
    "AccountRemovalRefused",
    "AccountClosureRefused",
    "AccountClosureTimedOut",
}


# --------------------------------------------------------------------------- a tiny ASL interpreter


INTRINSIC = re.compile(r"States\.(?P<name>MathAdd|MathRandom)\((?P<first>.+), (?P<second>[^,]+)\)")


def read_path(path: str, state: Any, context: dict[str, Any]) -> Any:
    if match := STRING_TO_JSON.fullmatch(path):
        return json.loads(match.group(1))
    if match := INTRINSIC.fullmatch(path):
        first, second = (read_path(match[part], state, context) for part in ("first", "second"))
        if match["name"] == "MathAdd":
            return first + second
        assert first < second, path
        return random.randrange(first, second)  # Step Functions: start included, end excluded
    root, rest = (context, path[2:]) if path.startswith("$$") else (state, path[1:])
    for part in filter(None, rest.split(".")):
        root = root[part]
    return root


def is_present(path: str, state: Any) -> bool:
    try:
        read_path(path, state, {})
    except KeyError:
        return False
    return True


def parameters(template_: dict[str, Any], state: Any, context: dict[str, Any]) -> dict[str, Any]:
    result = {}
    for key, value in template_.items():
        if key.endswith(".$"):
            result[key[:-2]] = read_path(value, state, context)
        elif isinstance(value, dict):
            result[key] = parameters(value, state, context)
        else:
            result[key] = value
    return result


def with_result(state: dict[str, Any], result_path: str, result: Any) -> Any:
    if result_path == "$":
        return result
    key = result_path.removeprefix("$.")
    assert "." not in key, result_path
    return {**state, key: result}


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


def entered_time() -> str:
    """``$$.State.EnteredTime`` as Step Functions writes it: UTC, milliseconds, Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TaskTokens:
    """Step Functions' side of ``.waitForTaskToken`` for the tiny interpreter.

    SendTaskSuccess calls of orgvend's clients are answered through botocore's public
    ``before-call`` hook: a token whose task waits is answered (its output kept); any other
    token gets TaskTimedOut, as from AWS.
    """

    def __init__(self) -> None:
        self.waiting: set[str] = set()
        self.answers: dict[str, Any] = {}
        self.refused: list[str] = []

    def issue(self) -> str:
        token = f"token-{uuid.uuid4().hex}"
        self.waiting.add(token)
        return token

    def end(self, token: str) -> Any | None:
        """The task stops waiting: its answer, or None when nobody answered (a timeout)."""
        self.waiting.discard(token)
        return self.answers.pop(token, None)

    def __call__(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        request = json.loads(params["body"])  # before-call sees the serialised request
        token = request["taskToken"]
        if token in self.waiting and token not in self.answers:
            self.answers[token] = json.loads(request["output"])
            return AWSResponse("https://states.local", 200, {}, None), {}
        self.refused.append(token)
        error = {"Code": "TaskTimedOut", "Message": "Task Timed Out: 'Provided task does not exist anymore'"}
        return AWSResponse("https://states.local", 400, {}, None), {"Error": error}


@pytest.fixture
def task_tokens(moto_aws) -> Iterator[TaskTokens]:
    tokens = TaskTokens()
    with hooked_session("before-call.sfn.SendTaskSuccess", tokens):
        yield tokens


def caught(spec: dict[str, Any], error: str) -> dict[str, Any]:
    return next(catcher for catcher in spec.get("Catch", []) if error in catcher["ErrorEquals"])


@pytest.fixture
def run_execution(
    template, definition, invoke, execution_arn, setup_client, task_tokens
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Run the workflow's states in process; returns the final state and the states visited.

    Lambda tasks call the function's handler; the one SDK integration, DynamoDB GetItem,
    is called with the state's Parameters on moto's DynamoDB (a client outside orgvend's session).
    A ``.waitForTaskToken`` task calls its function with a fresh token, then ends with the
    answer sent with that token, or else times out (its ``States.Timeout`` catcher).
    ``on_state(name, state)`` runs when a state is entered, or, for a waiting task, while it waits.
    """
    functions = {
        template.arn(logical_id): logical_id
        for logical_id in template.enabled_resources("AWS::Serverless::Function")
    }

    def task(resource: str, step_input: Any) -> Any:
        if resource == "arn:aws:states:::lambda:invoke.waitForTaskToken":
            return invoke(functions[step_input["FunctionName"]], step_input["Payload"])
        if resource in ("arn:aws:states:::dynamodb:getItem", "arn:aws:states:::dynamodb:updateItem"):
            action = resource.rsplit(":", 1)[1]
            response = getattr(
                setup_client("dynamodb"), "get_item" if action == "getItem" else "update_item"
            )(**step_input)
            response.pop("ResponseMetadata", None)
            return response
        return invoke(functions[resource], step_input)

    def run(
        request: dict[str, Any],
        name: str | None = None,
        on_state: Callable[[str, Any], None] | None = None,
    ) -> dict[str, Any]:
        name = name or f"onb-{uuid.uuid4().hex[:12]}"
        context = {
            "Execution": {
                "Id": execution_arn(name),
                "Name": name,
                "StartTime": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            }
        }
        state: Any = request
        visited: list[str] = []
        current = definition["StartAt"]
        while True:
            visited.append(current)
            assert len(visited) < 40, visited
            context["State"] = {"Name": current, "EnteredTime": entered_time()}
            spec = definition["States"][current]
            kind = spec["Type"]
            waits_for_token = spec.get("Resource", "").endswith(".waitForTaskToken")
            if on_state and not waits_for_token:
                on_state(current, state)  # what the test does while the execution is in this state
            if waits_for_token:
                token = task_tokens.issue()
                step_input = parameters(spec["Parameters"], state, {**context, "Task": {"Token": token}})
                task(spec["Resource"], step_input)
                if on_state:
                    on_state(current, state)
                answer = task_tokens.end(token)
                if answer is None:
                    catcher = caught(spec, "States.Timeout")
                    timeout = {"Error": "States.Timeout", "Cause": ""}
                    state = with_result(state, catcher["ResultPath"], timeout)
                    current = catcher["Next"]
                else:
                    state = with_result(state, spec["ResultPath"], answer)
                    current = spec["Next"]
                continue
            if kind == "Succeed":
                return {"state": state, "visited": visited}
            if kind == "Choice":
                current = next(
                    (choice["Next"] for choice in spec["Choices"] if matches(choice, state)), spec["Default"]
                )
                continue
            if kind in ("Pass", "Task"):
                step_input = parameters(spec["Parameters"], state, context) if "Parameters" in spec else state
                result = task(spec["Resource"], step_input) if kind == "Task" else step_input
                if "ResultSelector" in spec:
                    result = parameters(spec["ResultSelector"], result, context)
                state = with_result(state, spec.get("ResultPath", "$"), result)
            current = spec["Next"]  # Wait states wait no time here

    return run


def matches(choice: dict[str, Any], state: Any) -> bool:
    if "IsPresent" in choice:
        return is_present(choice["Variable"], state) is choice["IsPresent"]
    if "StringEquals" in choice:
        return read_path(choice["Variable"], state, {}) == choice["StringEquals"]
    if "StringEqualsPath" in choice:
        return read_path(choice["Variable"], state, {}) == read_path(choice["StringEqualsPath"], state, {})
    if "StringLessThanEqualsPath" in choice:
        return read_path(choice["Variable"], state, {}) <= read_path(
            choice["StringLessThanEqualsPath"], state, {}
        )
    raise AssertionError(f"choice rule not emulated: {choice}")


def snake_case_keys(value: Any, path: str = "$") -> list[str]:
    """Keys with an underscore anywhere in a JSON value (tags, which are data, excepted)."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if "_" in key:
                found.append(f"{path}.{key}")
            if key != "tags":
                found += snake_case_keys(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += snake_case_keys(item, f"{path}[{index}]")
    return found


# --------------------------------------------------------------------------- the whole workflow


@pytest.fixture
def stack(table_name, organization, operator_inbox, event_inbox, slots) -> dict[str, Any]:
    """What the deployed stack provides: the registry (and its creation slots), an organization,
    the topic and the event bus."""
    return {"organization": organization, "operators": operator_inbox, "events": event_inbox, "slots": slots}


def test_an_onboarding_runs_through_every_handler(
    run_execution, stack, registry, setup_client, default_role_name
):
    request = {
        "client": "acme",
        "project": "web",
        "email": "acme-web@example.com",
        "tags": {"cost_center": "42"},
    }

    result = run_execution(request, name="onb-handlers-1")

    assert result["visited"] == [
        "Configure",
        "RecordRequest",
        "CreateOrAdopt",
        "CreateAccount",
        "HasCreationSlot",
        "WaitForAccountCreation",
        "CheckAccountCreation",
        "IsAccountCreated",
        "PlaceAccount",
        "ApplyBaseline",
        "SetBillingPreferences",
        "RegisterAccount",
        "NotifyOnboarded",
        "Onboarded",
    ]
    state = result["state"]
    assert snake_case_keys(state) == []

    onboarding = state["onboarding"]
    assert onboarding["onboardingId"] == "onb-handlers-1"
    assert onboarding["executionArn"] == state["execution"]["id"]
    assert state["execution"]["id"].endswith(":onb-handlers-1")
    assert onboarding["mode"] == "create"
    assert onboarding["accountName"] == "acme-web"
    assert onboarding["roleName"] == default_role_name
    assert onboarding["tags"] == {"cost_center": "42", "client": "acme", "project": "web"}
    assert onboarding["iamUserAccessToBilling"] == "DENY"
    assert "accountId" not in onboarding

    creation = state["creation"]
    assert creation["state"] == "SUCCEEDED"
    assert creation["polls"] == 1
    assert creation["recovered"] is False
    account_id = creation["accountId"]
    assert re.fullmatch(r"[0-9]{12}", account_id)

    assert state["placement"]["ouName"] == "acme"
    assert state["placement"]["moved"] is True
    ou_id = state["placement"]["ouId"]
    assert setup_client("organizations").list_parents(ChildId=account_id)["Parents"][0]["Id"] == ou_id

    assert state["baseline"]["changed"] is True
    assert state["baseline"]["roleArn"] == f"arn:aws:iam::{account_id}:role/{default_role_name}"

    account = state["account"]
    assert account["accountId"] == account_id
    assert account["status"] == "ACTIVE"
    assert account["ouId"] == ou_id
    assert account["baselinePolicyArn"] == state["baseline"]["policyArn"]
    assert account["switchRoleUrl"].startswith("https://signin.aws.amazon.com/switchrole?")
    assert account["onboardingId"] == "onb-handlers-1"

    assert state["notification"]["eventDetailType"] == "Account Onboarded"
    (message,) = stack["operators"].receive()
    assert message["MessageId"] == state["notification"]["messageId"]
    assert account_id in message["Message"]
    (event,) = stack["events"].receive()
    assert event["detail"]["accountId"] == account_id

    assert registry.get_onboarding("onb-handlers-1")["status"] == "SUCCEEDED"
    assert registry.get_account(account_id).status.value == "ACTIVE"
    assert stack["slots"].holders() == {}  # CheckAccountCreation released the creation slot


def test_an_adoption_runs_through_verify_member_account(run_execution, stack, registry, create_member):
    account_id = create_member("legacy@example.com", "legacy")

    result = run_execution(
        {"client": "acme", "project": "legacy", "email": "legacy@example.com", "accountId": account_id}
    )

    assert "VerifyMemberAccount" in result["visited"]
    assert "CreateAccount" not in result["visited"]
    state = result["state"]
    assert state["onboarding"]["mode"] == "adopt"
    assert state["creation"] == {
        "state": "SUCCEEDED",
        "accountId": account_id,
        "polls": 0,
        "recovered": False,
    }
    assert state["account"]["status"] == "ACTIVE"
    assert registry.get_account(account_id).project == "legacy"


def fill_creation_slots(slots: Any, template: Any, lease: timedelta) -> list[str]:
    """Every creation slot taken by other onboardings (the limit CreateAccountFunction is given)."""
    limit = int(function_environment(template, "CreateAccountFunction")["MAX_CREATIONS_IN_PROGRESS"])
    others = [f"onb-other-{index}" for index in range(limit)]
    for other in others:
        assert slots.acquire(other, limit, lease)
    return others


def test_an_onboarding_waits_in_line_for_a_creation_slot_then_creates_its_account(
    run_execution, stack, template, session_calls, dynamodb, table_name, task_tokens
):
    """Every slot taken: CreateAccount asks nothing of Organizations and the workflow waits in line
    with its task token. Nobody releases during the first wait: it times out, reads the semaphore's
    item itself (no Lambda), and joins the line again; during the second wait a release wakes it."""
    slots = stack["slots"]
    others = fill_creation_slots(slots, template, timedelta(hours=1))
    waking = creation_slots(dynamodb, table_name, aws.client("stepfunctions"))  # as the functions build it
    seen: list[tuple[str, Any]] = []

    def meanwhile(name: str, state: Any) -> None:
        if name == "WaitForCreationSlot":
            seen.append((name, state["creation"]))
            assert session_calls.of("CreateAccount") == []
            assert slots.waiting() == ["onb-handlers-wait"]
            if len(seen) == 2:
                waking.release(others[0])  # another onboarding finishes while this one waits

    result = run_execution(
        {"client": "acme", "project": "web", "email": "acme-web@example.com"},
        name="onb-handlers-wait",
        on_state=meanwhile,
    )

    visited = result["visited"]
    start = visited.index("CreateAccount")
    assert visited[start : start + 13] == [
        "CreateAccount",
        "HasCreationSlot",
        "SpreadSlotCheck",
        "WaitForCreationSlot",  # no wake-up: timed out
        "LookForCreationSlot",
        "IsCreationSlotFree",  # every lease is live: back in line, no CreateAccount invocation
        "SpreadSlotCheck",
        "WaitForCreationSlot",  # woken by the release
        "CreateAccount",
        "HasCreationSlot",
        "WaitForAccountCreation",
        "CheckAccountCreation",
        "IsAccountCreated",
    ]
    assert (
        seen == [("WaitForCreationSlot", {"state": "WAITING_FOR_SLOT", "polls": 0, "recovered": False})] * 2
    )
    assert result["state"]["slotWait"] == {"woken": True}
    assert visited[-1] == "Onboarded"
    assert len(session_calls.of("CreateAccount")) == 1
    # The creation succeeded: its slot is free again; the others still hold theirs; nobody is in line.
    assert sorted(slots.holders()) == sorted(others[1:])
    assert slots.waiting() == []


def test_the_workflow_reads_the_semaphore_item_the_functions_write(definition, slots, table_name):
    look = definition["States"]["LookForCreationSlot"]
    assert look["Parameters"]["TableName"] == table_name
    assert look["Parameters"]["Key"] == slots.key
    assert look["Parameters"]["ProjectionExpression"] == "freeAt"


def test_a_waiting_onboarding_takes_a_slot_whose_lease_expired_without_any_release(
    run_execution, stack, template, session_calls, task_tokens
):
    """Holders that vanished (aborted executions, their reports lost) free their slots by time, and
    nobody wakes the line: the wait times out, the workflow's own check sees the earliest lease over
    and sends it to CreateAccount, which drops the expired holders."""
    slots = stack["slots"]  # releases here wake nobody: no Step Functions client
    lease = timedelta(hours=1)
    others = fill_creation_slots(slots, template, lease)
    limit = len(others)
    waits = []

    def meanwhile(name: str, state: Any) -> None:
        if name == "WaitForCreationSlot":
            waits.append(name)
            if len(waits) == 2:
                # The first check saw every lease live. Now the item is what it would be had the
                # same holders taken their slots two hours ago and vanished: every lease is over.
                long_ago = datetime.now(UTC) - 2 * lease
                for other in others:
                    slots.release(other)
                for other in others:
                    assert slots.acquire(other, limit, lease, long_ago)
                assert slots.holders() == {}

    result = run_execution(
        {"client": "acme", "project": "web", "email": "acme-web@example.com"},
        name="onb-handlers-expired",
        on_state=meanwhile,
    )

    visited = result["visited"]
    assert visited[-1] == "Onboarded"
    assert visited.count("WaitForCreationSlot") == 2
    assert visited.count("LookForCreationSlot") == 2
    assert visited.count("CreateAccount") == 2  # the first attempt, and the one after the leases ran out
    assert len(session_calls.of("CreateAccount")) == 1
    # The expired holders were dropped from the item, not merely ignored.
    assert set(slots.holders(datetime.now(UTC) - 3 * lease)) == set()
    # Dropping them handed free slots to the line, where only this onboarding's own entry was, left
    # when its wait timed out: it holds a slot now, so the entry went and nobody was woken.
    assert task_tokens.refused == []
    assert slots.waiting() == []
    assert list(slots.holders()) == []  # and its slot was released after the creation, not before


# --------------------------------------------------------------------------- one handler at a time


def retry_names(definition: dict[str, Any], state_name: str, *, terminal: bool) -> set[str]:
    names: set[str] = set()
    for retrier in definition["States"][state_name].get("Retry", []):
        if (retrier["MaxAttempts"] == 0) is terminal:
            names.update(retrier["ErrorEquals"])
    return names


def test_record_request_refuses_an_invalid_request_with_an_error_the_asl_treats_as_terminal(
    invoke, definition, organization, table_name, execution_arn, table_items
):
    event = {
        "request": {"client": "acme", "project": "web", "email": "not-an-email"},
        "execution": {
            "id": execution_arn("onb-bad"),
            "name": "onb-bad",
            "startTime": "2026-01-02T03:04:05.000Z",
        },
    }
    with pytest.raises(InvalidOnboardingRequest, match=r"^email: must contain exactly one @"):
        invoke("RecordRequestFunction", event)

    assert InvalidOnboardingRequest.__name__ in retry_names(definition, "RecordRequest", terminal=True)
    assert table_items() == []


def test_record_request_refuses_a_claimed_email(invoke, definition, organization, table_name, execution_arn):
    def event(name: str) -> dict[str, Any]:
        return {
            "request": {"client": "acme", "project": "web", "email": "ops@example.com"},
            "execution": {"id": execution_arn(name), "name": name, "startTime": "2026-01-02T03:04:05.000Z"},
        }

    output = invoke("RecordRequestFunction", event("onb-a"))
    assert output["onboardingId"] == "onb-a"
    assert output["startedAt"].startswith("2026-01-02T03:04:05")
    with pytest.raises(EmailAlreadyRegistered, match="onb-a"):
        invoke("RecordRequestFunction", event("onb-b"))
    assert EmailAlreadyRegistered.__name__ in retry_names(definition, "RecordRequest", terminal=True)


def test_every_terminal_error_is_terminal_in_every_task_state(definition):
    terminal = {cls.__name__ for cls in Terminal.__subclasses__()}
    assert {cls.__name__ for cls in OrgvendError.__subclasses__()} == {"Retryable", "Terminal"}
    assert terminal == TERMINAL_ERRORS
    for name, spec in definition["States"].items():
        # Lambda tasks; the DynamoDB integration (LookForCreationSlot) raises none of them.
        if spec["Type"] == "Task" and not spec["Resource"].startswith("arn:aws:states:::"):
            assert retry_names(definition, name, terminal=True) == terminal, name


def test_check_account_creation_polls_once_and_answers_camel_case(invoke, definition, opened_onboarding):
    onboarding = opened_onboarding()
    organizations = aws.client("organizations")  # the cached client the handler uses
    config = {"creationTimeoutSeconds": 1800}
    event = parameters(
        definition["States"]["CheckAccountCreation"]["Parameters"],
        {
            "onboarding": onboarding.to_json(),
            "creation": {"requestId": "car-1234567890", "state": "IN_PROGRESS", "polls": 0},
            "config": config,
        },
        {},
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
    event = {
        "onboarding": onboarding.to_json(),
        "creation": {"requestId": "car-1234567890", "state": "IN_PROGRESS", "polls": 7},
        "timeoutSeconds": 1800,
    }
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

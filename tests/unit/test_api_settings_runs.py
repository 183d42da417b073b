"""Settings runs over the API, on a resolver of its own over moto (the registry, and the keep-settings state
machine under the template's name, which moto does not run here): what starts a run and with what input,
each refusal answered naming its field with nothing started, and a run's progress."""

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from botocore.stub import Stubber

from orgvend.account_settings.runs import AccountOutcome, SettingsRun, SettingsRunMode, SettingsSelection
from orgvend.api import errors, settings_runs
from orgvend.api.dependencies import ApiDependencies
from orgvend.models import AccountRecord, AccountStatus
from orgvend.registry import Registry
from orgvend.settings import Settings
from orgvend.workflows.settings_runs import SettingsRuns, progress_of
from orgvend_local.template import Template

from .support import Calls
from .test_api_contract import answer, api_settings, event

__all__ = ["api_settings"]  # the fixture, used here too

CALLER = "arn:aws:iam::123456789012:user/alice"
ACTIVE_ACCOUNT = "210987654321"
WAITING_ACCOUNT = "210987654322"  # NEEDS_ROLE: not kept by a settings run
UNKNOWN_ACCOUNT = "210987654329"
Api = Callable[..., tuple[int, dict[str, Any]]]


def entry(account_id: str, status: AccountStatus) -> AccountRecord:
    stamp = datetime.now(UTC)
    return AccountRecord(
        account_id=account_id,
        account_name=f"acme-{account_id}",
        email=f"aws+{account_id}@example.com",
        client="acme",
        project="web",
        role_name="OrganizationAccountAccessRole",
        status=status,
        created_at=stamp,
        updated_at=stamp,
    )


@pytest.fixture
def state_machine_arn(setup_client: Callable[..., Any], template: Template) -> str:
    role = setup_client("iam").create_role(RoleName="states", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    return str(
        setup_client("stepfunctions").create_state_machine(
            name=template.physical_name("KeepSettingsStateMachine"),
            definition=json.dumps(definition),
            roleArn=role,
        )["stateMachineArn"]
    )


@pytest.fixture
def api(
    api_settings: Settings, table_name: str, registry: Registry, state_machine_arn: str, session_calls: Calls
) -> Api:
    """``api(method, path, body=None)``: the answer's status and JSON, as the caller ``CALLER``."""
    for record in (
        entry(ACTIVE_ACCOUNT, AccountStatus.ACTIVE),
        entry(WAITING_ACCOUNT, AccountStatus.NEEDS_ROLE),
    ):
        registry.write_account(record.account_id, lambda _, written=record: written)
    app = APIGatewayRestResolver(enable_validation=True, debug=False, json_body_deserializer=errors.read_json)
    app.include_router(settings_runs.router)
    errors.install(app)
    provided = ApiDependencies(
        api_settings.model_copy(
            update={"registry_table_name": table_name, "keep_settings_state_machine_arn": state_machine_arn}
        )
    )

    def call(method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        provided.provide_to(app)
        text = body if isinstance(body, str) or body is None else json.dumps(body)
        return answer(app, event(method, path, text, userArn=CALLER))

    return call


def started_inputs(session_calls: Calls) -> list[dict[str, Any]]:
    return [json.loads(call.params["input"]) for call in session_calls.of("StartExecution")]


def test_an_account_run_starts_with_the_request_and_the_caller(api: Api, session_calls: Calls) -> None:
    status, accepted = api("POST", f"/accounts/{ACTIVE_ACCOUNT}/settings/apply")
    assert status == 202, accepted
    run_id = accepted["runId"]
    assert str(uuid.UUID(run_id)) == run_id
    assert accepted["executionArn"].endswith(f":execution:orgvend-keep-settings:{run_id}")
    assert accepted["statusUrl"] == f"/settings/runs/{run_id}"
    [start] = session_calls.of("StartExecution")
    assert start.params["name"] == run_id
    assert started_inputs(session_calls) == [
        {"mode": "apply", "selection": {"accountId": ACTIVE_ACCOUNT, "all": False}, "requestedBy": CALLER}
    ]


def test_an_account_run_takes_a_profile_and_the_check_mode(api: Api, session_calls: Calls) -> None:
    body = {"settingsProfile": "default", "mode": "check"}
    assert api("POST", f"/accounts/{ACTIVE_ACCOUNT}/settings/apply", body)[0] == 202
    [request] = started_inputs(session_calls)
    assert (request["mode"], request["settingsProfile"]) == ("check", "default")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "client"),
        ({"client": "acme", "all": True}, "all"),
        ({"accountId": ACTIVE_ACCOUNT, "client": "acme"}, "client"),
        ({"all": False}, "client"),
        ({"client": "Not A Slug"}, "client"),
        ({"accountId": "12345"}, "accountId"),
        ({"all": True, "mode": "repair"}, "mode"),
        ({"all": True, "settingsProfile": "Strict!"}, "settingsProfile"),
        ({"all": True, "selection": {"all": True}}, "selection"),
    ],
)
def test_a_fleet_run_names_exactly_one_selection_or_is_422_naming_the_field(
    api: Api, session_calls: Calls, body: dict[str, Any], field: str
) -> None:
    status, answered = api("POST", "/settings/apply", body)
    assert (status, answered["error"]["code"], answered["error"]["field"]) == (422, "ValidationError", field)
    assert session_calls.of("StartExecution") == []


@pytest.mark.parametrize(
    "path", [f"/accounts/{ACTIVE_ACCOUNT}/settings/apply", "/settings/apply"], ids=["account", "fleet"]
)
def test_an_unknown_profile_is_422_naming_settings_profile_and_starts_nothing(
    api: Api, session_calls: Calls, path: str
) -> None:
    body = {"settingsProfile": "nonesuch", **({"all": True} if path == "/settings/apply" else {})}
    status, answered = api("POST", path, body)
    assert (status, answered["error"]["code"], answered["error"]["field"]) == (
        422,
        "InvalidSettings",
        "settingsProfile",
    )
    assert "'nonesuch'" in answered["error"]["message"]
    assert session_calls.of("StartExecution") == []


@pytest.mark.parametrize(
    ("account_id", "status", "code"),
    [(UNKNOWN_ACCOUNT, 404, "NotFound"), (WAITING_ACCOUNT, 409, "AccountNotActive")],
    ids=["unknown", "not-active"],
)
@pytest.mark.parametrize("door", ["account", "fleet"])
def test_an_unknown_or_inactive_account_is_refused_naming_it_and_starts_nothing(
    api: Api, session_calls: Calls, account_id: str, status: int, code: str, door: str
) -> None:
    if door == "account":
        answered = api("POST", f"/accounts/{account_id}/settings/apply")
    else:
        answered = api("POST", "/settings/apply", {"accountId": account_id})
    assert (answered[0], answered[1]["error"]["code"], answered[1]["error"]["field"]) == (
        status,
        code,
        "accountId",
    )
    assert session_calls.of("StartExecution") == []


def test_a_bad_account_id_or_body_is_refused_before_anything(api: Api, session_calls: Calls) -> None:
    status, answered = api("POST", "/accounts/12345/settings/apply")
    assert (status, answered["error"]["field"]) == (422, "accountId")
    status, answered = api("POST", f"/accounts/{ACTIVE_ACCOUNT}/settings/apply", {"mode": "fix"})
    assert (status, answered["error"]["field"]) == (422, "mode")
    status, answered = api("POST", f"/accounts/{ACTIVE_ACCOUNT}/settings/apply", "[1, 2]")
    assert status in (400, 422)
    assert session_calls.of("StartExecution") == []


def test_a_client_run_starts_for_the_client_as_its_selection(api: Api, session_calls: Calls) -> None:
    status, accepted = api("POST", "/settings/apply", {"client": "acme", "settingsProfile": "default"})
    assert status == 202, accepted
    assert started_inputs(session_calls) == [
        {
            "mode": "apply",
            "selection": {"client": "acme", "all": False},
            "settingsProfile": "default",
            "requestedBy": CALLER,
        }
    ]


def test_an_unknown_run_is_404_naming_run_id(api: Api) -> None:
    status, answered = api("GET", f"/settings/runs/{uuid.uuid4()}")
    assert (status, answered["error"]["code"], answered["error"]["field"]) == (404, "NotFound", "runId")
    assert api("GET", "/settings/runs/not%20an%20id")[0] == 422


def test_a_started_run_shows_its_request_and_then_its_progress(api: Api, registry: Registry) -> None:
    run_id = api("POST", "/settings/apply", {"client": "acme"})[1]["runId"]
    status, view = api("GET", f"/settings/runs/{run_id}")
    assert status == 200, view
    # Its accounts not chosen yet: the request, and no total.
    assert view["runId"] == run_id and view["run"] is None and view["summary"] is None
    assert view["request"]["selection"]["client"] == "acme" and view["request"]["requestedBy"] == CALLER
    assert view["progress"] == {
        "total": None,
        "done": 0,
        "succeeded": 0,
        "failed": 0,
        "running": 0,
        "pending": 0,
    }

    registry.start_settings_run(
        SettingsRun(
            run_id=run_id,
            mode=SettingsRunMode.APPLY,
            selection=SettingsSelection(client="acme"),
            started_at=datetime.now(UTC),
            accounts=3,
        )
    )
    registry.record_settings_outcome(run_id, "210987654301", AccountOutcome.CHANGED)
    registry.record_settings_outcome(run_id, "210987654302", AccountOutcome.FAILED, "SettingsNotApplied: no")
    view = api("GET", f"/settings/runs/{run_id}")[1]
    assert view["run"]["accounts"] == 3 and view["run"]["failures"] == {
        "210987654302": "SettingsNotApplied: no"
    }
    assert view["progress"] == {
        "total": 3,
        "done": 2,
        "succeeded": 1,
        "failed": 1,
        "running": 0,
        "pending": 1,
    }


def a_run(accounts: int, **outcomes: list[int]) -> SettingsRun:
    """A run of ``accounts`` accounts, with the accounts numbered 1, 2... by outcome."""
    return SettingsRun(
        run_id="r",
        mode=SettingsRunMode.APPLY,
        selection=SettingsSelection(all=True),
        started_at=datetime.now(UTC),
        accounts=accounts,
        outcomes={
            AccountOutcome(name): [f"{number:012d}" for number in numbers]
            for name, numbers in outcomes.items()
        },
    )


@pytest.mark.parametrize(
    ("run", "map_counts", "running", "expected"),
    [
        # Nothing chosen yet, no map run.
        (None, None, True, (None, 0, 0, 0, 0, 0)),
        # Chosen, the map not started.
        (a_run(4), None, True, (4, 0, 0, 0, 0, 4)),
        # The map runs two items, one ended (its outcome recorded).
        (
            a_run(4, changed=[1]),
            {"total": 3, "succeeded": 1, "running": 2, "failed": 0, "timedOut": 0, "aborted": 0},
            True,
            (4, 1, 1, 0, 2, 1),
        ),
        # The registry ahead of the map: an outcome recorded, its item not ended yet.
        (
            a_run(2, unchanged=[1], failed=[2]),
            {"total": 2, "succeeded": 0, "running": 2},
            True,
            (2, 2, 1, 1, 0, 0),
        ),
        # An item whose failure could not be recorded fails in the map: counted failed.
        (
            a_run(2, changed=[1]),
            {"total": 2, "succeeded": 1, "running": 0, "failed": 1},
            True,
            (2, 2, 1, 1, 0, 0),
        ),
        # Finished: the registry's counts; nothing running.
        (a_run(2, changed=[1], drifted=[2]), None, False, (2, 2, 2, 0, 0, 0)),
    ],
)
def test_progress_keeps_done_running_and_pending_adding_up_to_the_total(
    run: SettingsRun | None,
    map_counts: dict[str, int] | None,
    running: bool,
    expected: tuple[int | None, ...],
) -> None:
    progress = progress_of(run, map_counts, running=running)
    assert (
        progress.total,
        progress.done,
        progress.succeeded,
        progress.failed,
        progress.running,
        progress.pending,
    ) == expected


def test_a_running_run_counts_the_distributed_maps_items_from_the_map_run_its_history_names(
    registry: Registry, state_machine_arn: str
) -> None:
    """DescribeMapRun on the map run of the history's MapRunStarted (never ListMapRuns)."""
    run_id = str(uuid.uuid4())
    execution_arn = state_machine_arn.replace(":stateMachine:", ":execution:") + f":{run_id}"
    map_run_arn = state_machine_arn.replace(":stateMachine:", ":mapRun:") + "/SettingsAccounts:1"
    registry.start_settings_run(
        SettingsRun(
            run_id=run_id,
            mode=SettingsRunMode.APPLY,
            selection=SettingsSelection(all=True),
            started_at=datetime.now(UTC),
            accounts=5,
        )
    )
    registry.record_settings_outcome(run_id, "210987654301", AccountOutcome.UNCHANGED)
    stepfunctions = boto3.client("stepfunctions", region_name="us-east-1")
    stamp = datetime.now(UTC)
    with Stubber(stepfunctions) as stubbed:
        stubbed.add_response(
            "describe_execution",
            {
                "executionArn": execution_arn,
                "stateMachineArn": state_machine_arn,
                "status": "RUNNING",
                "startDate": stamp,
                "input": json.dumps({"selection": {"all": True}}),
            },
        )
        stubbed.add_response(
            "get_execution_history",
            {
                "events": [
                    {"timestamp": stamp, "type": "ExecutionStarted", "id": 1},
                    {
                        "timestamp": stamp,
                        "type": "MapRunStarted",
                        "id": 5,
                        "mapRunStartedEventDetails": {"mapRunArn": map_run_arn},
                    },
                ]
            },
        )
        counts = {"pending": 0, "running": 3, "succeeded": 1, "failed": 0, "timedOut": 0, "aborted": 0}
        stubbed.add_response(
            "describe_map_run",
            {
                "mapRunArn": map_run_arn,
                "executionArn": execution_arn,
                "status": "RUNNING",
                "startDate": stamp,
                "maxConcurrency": 3,
                "toleratedFailurePercentage": 0,
                "toleratedFailureCount": 0,
                "itemCounts": {**counts, "total": 4, "resultsWritten": 1},
                "executionCounts": {**counts, "total": 4, "resultsWritten": 1},
            },
            {"mapRunArn": map_run_arn},
        )
        view = SettingsRuns(stepfunctions, registry, state_machine_arn).describe(run_id)
        stubbed.assert_no_pending_responses()
    assert (view.status, view.run is not None, view.summary) == ("RUNNING", True, None)
    assert view.progress.model_dump() == {
        "total": 5,
        "done": 1,
        "succeeded": 1,
        "failed": 0,
        "running": 3,
        "pending": 1,
    }

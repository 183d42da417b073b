"""Step Functions' interpreter as AWS runs it: executions named, ``$$.Execution.StartTime`` a string,
a task token good for one answer."""

import functools
import json
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from moto.core.exceptions import AWSError
from moto.core.models import botocore_stubber
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.states import ContextObject
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from orgvend_local.parity.patch import (
    CANARY_ACCOUNT,
    Emulator,
    Patcher,
    declared,
    poll,
    refusal,
    still,
    stock_moto,
)

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_stepfunctions.type_defs import DescribeExecutionOutputTypeDef

CANARY_ROLE = f"arn:aws:iam::{CANARY_ACCOUNT}:role/canary"  # moto's Step Functions does not check it


def create_state_machine(session: boto3.session.Session, name: str, states: dict[str, Any]) -> str:
    """A state machine for a canary (``states`` holds StartAt and States)."""
    return session.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(states), roleArn=CANARY_ROLE
    )["stateMachineArn"]


ONE_PASS_STATE = {"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}}


def start_canary_execution(
    session: boto3.session.Session, states: dict[str, Any] = ONE_PASS_STATE
) -> tuple["SFNClient", str]:
    """An execution named "canary" of a new state machine: the Step Functions client, the execution's ARN."""
    stepfunctions = session.client("stepfunctions")
    execution_arn = stepfunctions.start_execution(
        stateMachineArn=create_state_machine(session, "canary", states), name="canary"
    )["executionArn"]
    return stepfunctions, execution_arn


def wait_until_stopped(
    stepfunctions: "SFNClient", execution_arn: str, timeout: float = 10
) -> "DescribeExecutionOutputTypeDef":
    """The execution once it stopped running (as it is, should it still run after ``timeout`` seconds)."""
    return poll(
        lambda: stepfunctions.describe_execution(executionArn=execution_arn),
        lambda execution: execution["status"] != "RUNNING",
        timeout=timeout,
    )


# --------------------------------------------------------------------------- execution names


def apply_unnamed_executions_get_uuids(patcher: Patcher, _emulator: Emulator) -> None:
    @patcher.around(StepFunctionsParserBackend, "start_execution")
    def start_execution(
        original: Callable[..., Any],
        backend: StepFunctionsParserBackend,
        state_machine_arn: str,
        name: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        return original(backend, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)


def canary_unnamed_executions_get_uuids() -> None:
    with stock_moto(execute_state_machines=True) as session:
        state_machine_arn = create_state_machine(session, "canary", ONE_PASS_STATE)
        execution_arn = session.client("stepfunctions").start_execution(stateMachineArn=state_machine_arn)[
            "executionArn"
        ]
        name = execution_arn.rsplit(":", 1)[-1]
        still(name == "None", f"an execution started without a name is named {name!r}")


UNNAMED_EXECUTIONS_GET_UUIDS = declared(
    "stepfunctions-execution-name",
    apply=apply_unnamed_executions_get_uuids,
    canary=canary_unnamed_executions_get_uuids,
)


# --------------------------------------------------------------------------- $$.Execution.StartTime


def iso_8601_milliseconds(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def apply_iso_start_time(patcher: Patcher, _emulator: Emulator) -> None:
    @patcher.around(ExecutionWorker, "_get_evaluation_environment")
    def _get_evaluation_environment(
        original: Callable[[ExecutionWorker], Environment], worker: ExecutionWorker
    ) -> Environment:
        environment = original(worker)
        execution = environment.states.context_object.context_object_data["Execution"]
        start: object = execution["StartTime"]  # typed a string by moto, which puts a datetime there
        if isinstance(start, datetime):
            execution["StartTime"] = iso_8601_milliseconds(start)
        return environment


def canary_iso_start_time() -> None:
    """The start time a state reads is a datetime object: the execution's output cannot be serialised."""
    states = {
        "StartAt": "Read",
        "States": {
            "Read": {"Type": "Pass", "Parameters": {"start.$": "$$.Execution.StartTime"}, "End": True}
        },
    }
    with stock_moto(execute_state_machines=True) as session:
        stepfunctions, execution_arn = start_canary_execution(session, states)
        try:
            execution = wait_until_stopped(stepfunctions, execution_arn)
        except TypeError as error:  # in-process moto raises what its server answers as a 500
            still("datetime" in str(error), f"it failed otherwise: {error}")
        else:
            start = json.loads(execution.get("output", "{}")).get("start")
            still(not isinstance(start, str), f"$$.Execution.StartTime reads {start!r}")


ISO_START_TIME = declared(
    "stepfunctions-start-time-iso", apply=apply_iso_start_time, canary=canary_iso_start_time
)


# --------------------------------------------------------------------------- task tokens


class TaskTimedOut(AWSError):
    """What AWS answers to a token whose task has ended (moto's own classes for it cannot be raised:
    they lack the message its server's error path needs, and it answers 500)."""

    TYPE = "TaskTimedOut"
    STATUS = 400

    def __init__(self) -> None:
        super().__init__("Task Timed Out: 'Provided task does not exist anymore'")


LAST_TASK_TOKEN = "orgvend_last_task_token"  # where the patch keeps, on a context object, its task's token


def apply_task_tokens_answer_once(patcher: Patcher, _emulator: Emulator) -> None:
    ended: set[str] = set()

    @patcher.around(ContextObject, "update_task_token")
    def update_task_token(original: Callable[[ContextObject], str], context_object: ContextObject) -> str:
        token = original(context_object)
        setattr(context_object, LAST_TASK_TOKEN, token)
        return str(token)

    @patcher.around(StateTaskServiceCallback, "_eval_body")
    def _eval_body(
        original: Callable[[StateTaskServiceCallback, Environment], None],
        state: StateTaskServiceCallback,
        env: Environment,
    ) -> None:
        try:
            original(state, env)
        finally:
            token = getattr(env.states.context_object, LAST_TASK_TOKEN, None)
            if token:
                ended.add(token)

    @patcher.around(StepFunctionsParserBackend, "send_task_success")
    def send_task_success(
        original: Callable[..., Any], backend: StepFunctionsParserBackend, task_token: str, outcome: str
    ) -> Any:
        if task_token in ended:
            raise TaskTimedOut
        return original(backend, task_token, outcome)


def canary_task_tokens_answer_once() -> None:
    """A task waits for its token (sent to a queue), times out, and the execution moves on to a Wait state:
    moto accepts an answer with that token all the same."""
    with stock_moto(execute_state_machines=True) as session:
        sqs = session.client("sqs")
        queue_url = sqs.create_queue(QueueName="canary-tokens")["QueueUrl"]
        states = {
            "StartAt": "WaitForToken",
            "States": {
                "WaitForToken": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
                    "TimeoutSeconds": 1,
                    "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Later"}],
                    "Next": "Later",
                },
                "Later": {"Type": "Wait", "Seconds": 5, "End": True},
            },
        }
        stepfunctions, execution_arn = start_canary_execution(session, states)
        [message] = poll(
            lambda: sqs.receive_message(QueueUrl=queue_url).get("Messages", []),
            bool,
            give_up="task sent no token",
        )
        poll(
            lambda: stepfunctions.get_execution_history(executionArn=execution_arn)["events"],
            lambda events: any(event["type"] == "WaitStateEntered" for event in events),
            give_up="execution never reached its Wait state",
        )
        token = json.loads(message["Body"])["token"]
        code = refusal(lambda: stepfunctions.send_task_success(taskToken=token, output="{}"))
        still(code is None, f"the token of a timed-out task answered {code}")


TASK_TOKENS_ANSWER_ONCE = declared(
    "stepfunctions-task-token-answers-once",
    apply=apply_task_tokens_answer_once,
    canary=canary_task_tokens_answer_once,
)


# --------------------------------------------------------------------------- integrations in the account


# moto's interpreter makes its service clients with fixed keys (``boto_client_for``), so every Task
# state acts in moto's default account, whichever account holds the state machine.
_INTEGRATION_CONFIG = Config(  # moto's own, as in boto_client_for
    parameter_validation=False,
    retries={"max_attempts": 0, "total_max_attempts": 1},
    connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
    read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
)


def apply_integrations_in_own_account(patcher: Patcher, _emulator: Emulator) -> None:
    """Every component the interpreter evaluates notes its execution's account on the thread doing the work
    (each Map iteration runs in a thread of its own); the Task states' clients are made per account and
    name it to moto's server (its ``x-moto-account-id`` header), so they act where the state machine is."""
    acting = threading.local()

    @patcher.around(EvalComponent, "eval")
    def evaluate(original: Callable[..., None], component: EvalComponent, env: Environment) -> None:
        acting.account = env.aws_execution_details.account
        original(component, env)

    @functools.cache
    def client_in(region: str, service: str, account: str | None) -> Any:
        endpoint = None if botocore_stubber.enabled else f"http://localhost:{moto_server_port()}"
        client: Any = boto3.client(  # type: ignore[call-overload]  # the service is a name moto gives
            service,
            region_name=region,
            aws_access_key_id="ak",
            aws_secret_access_key="sk",
            config=_INTEGRATION_CONFIG,
            endpoint_url=endpoint,
        )
        if account is not None:
            client.meta.events.register(
                "before-sign", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account)
            )
        return client

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        return client_in(
            region, service, getattr(acting, "account", None)
        )  # moto ignores the credentials too

    for module in dict.fromkeys([boto_client, *list(sys.modules.values())]):
        name = getattr(module, "__name__", "")
        if name.startswith("moto.stepfunctions.parser") and hasattr(module, "boto_client_for"):
            patcher.replace(module, "boto_client_for", boto_client_for)


CANARY_OTHER_ACCOUNT = "222222222222"


def canary_integrations_in_own_account() -> None:
    """A state machine of another account reads an item of its own table: moto's interpreter looks for the
    table in its default account and fails."""
    with stock_moto(execute_state_machines=True) as session:

        def in_other_account(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = CANARY_OTHER_ACCOUNT

        dynamodb, stepfunctions = session.client("dynamodb"), session.client("stepfunctions")
        for client in (dynamodb, stepfunctions):
            client.meta.events.register("before-sign", in_other_account)
        dynamodb.create_table(
            TableName="canary",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        states = {
            "StartAt": "Read",
            "States": {
                "Read": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:getItem",
                    "Parameters": {"TableName": "canary", "Key": {"pk": {"S": "probe"}}},
                    "End": True,
                }
            },
        }
        arn = stepfunctions.create_state_machine(
            name="canary",
            definition=json.dumps(states),
            roleArn=f"arn:aws:iam::{CANARY_OTHER_ACCOUNT}:role/canary",
        )["stateMachineArn"]
        execution_arn = stepfunctions.start_execution(stateMachineArn=arn)["executionArn"]
        execution = wait_until_stopped(stepfunctions, execution_arn)
        still(execution["status"] != "SUCCEEDED", "the other account's state machine read its own table")


INTEGRATIONS_IN_OWN_ACCOUNT = declared(
    "stepfunctions-integrations-in-own-account",
    apply=apply_integrations_in_own_account,
    canary=canary_integrations_in_own_account,
)

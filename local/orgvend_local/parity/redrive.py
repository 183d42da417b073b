"""Step Functions RedriveExecution, which moto's interpreter lacks (it answers 500 NotImplementedError).

orgvend's workflow catches no error so that an operator can redrive a failed
onboarding: AWS then continues the SAME execution (same ARN, name, input and
``$$.Execution``) from the state that failed, with that state's original input,
without running again the states that succeeded. The history keeps every event
and goes on with ``ExecutionRedriven`` (``redriveCount``) and the new state
events; the execution is RUNNING again, then ends as usual. Only a Standard
execution that is FAILED, TIMED_OUT or ABORTED, and stopped less than 14 days
ago, can be redriven; otherwise AWS answers ``ExecutionNotRedrivable``.

``install`` adds the action to moto's response layer, and the AWS fields
``redriveCount``, ``redriveDate``, ``redriveStatus`` and ``redriveStatusReason``
to DescribeExecution. The redrive itself runs moto's own interpreter: a worker
bound to the same ``Execution`` whose program starts at the failed state and
whose event manager is the one holding the history so far. The execution's
``redrive_count`` is what the EventBridge status change events carry (``stepfunctions_events``).

Not emulated: a failed Parallel or Map state is run again whole (AWS redrives
only its failed branches or iterations), and workflow variables (``Assign``)
set before the failure start empty again.
"""

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.stepfunctions.parser.api import (
    ExecutionRedrivenEventDetails,
    ExecutionRedriveStatus,
    ExecutionStatus,
    HistoryEventType,
    StateMachineType,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.evaluation_details import EvaluationDetails
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext, EventManager
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.utils import TMP_THREADS
from moto.stepfunctions.responses import StepFunctionResponse

from orgvend_local.parity.patch import Emulator, Patcher, declared, still, still_unimplemented, stock_moto
from orgvend_local.parity.stepfunctions import start_canary_execution, wait_until_stopped
from orgvend_local.parity.stepfunctions_events import announce_status_change

REDRIVABLE_STATUSES = (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED)
REDRIVABLE_PERIOD = timedelta(days=14)
_lock = threading.Lock()  # one redrive of an execution at a time


class ExecutionNotRedrivable(AWSError):
    """The AWS error (moto's ``parser.api`` one has no error type, so it serialises without a code)."""

    TYPE = "ExecutionNotRedrivable"
    STATUS = 400


def not_redrivable_reason(execution: Execution) -> str | None:
    """Why RedriveExecution would refuse this execution (AWS's ``redriveStatusReason``), or None."""
    # The state machine's type: moto's Execution.sm_type says STANDARD for every execution.
    if execution.state_machine.type != StateMachineType.STANDARD:
        return "Execution of an EXPRESS state machine cannot be redriven"
    status = execution.exec_status
    if status is None or status not in REDRIVABLE_STATUSES:
        return f"Execution is {status.value if status else 'not started'} and cannot be redriven"
    if execution.stop_date and datetime.now(UTC) - execution.stop_date > REDRIVABLE_PERIOD:
        return "Execution redrivable period exceeded"
    return None


class _RedriveWorker(ExecutionWorker):
    """Runs the execution's program from ``state_name`` with ``state_input``, appending to ``history``."""

    def __init__(
        self, execution: Execution, history: EventManager, state_name: str, state_input: Any
    ) -> None:
        super().__init__(
            evaluation_details=EvaluationDetails(
                aws_execution_details=execution._get_start_aws_execution_details(),
                execution_details=execution.get_start_execution_details(),
                state_machine_details=execution.get_start_state_machine_details(),
            ),
            exec_comm=execution._get_start_execution_worker_comm(),
            cloud_watch_logging_session=execution._cloud_watch_logging_session,
            activity_store=execution._activity_store,
        )
        self._history = history
        self._state_name = state_name
        self._state_input = state_input

    def _get_evaluation_entrypoint(self) -> Any:
        definition = json.loads(self._evaluation_details.state_machine_details.definition)
        definition["StartAt"] = self._state_name
        return AmazonStateLanguageParser.parse(json.dumps(definition))[0]

    def _get_evaluation_environment(self) -> Environment:
        env = super()._get_evaluation_environment()  # the same $$.Execution as the first attempt
        env.event_manager = self._history
        env.states.reset(input_value=self._state_input)
        return env

    def start_redrive(self, redrive_count: int) -> None:
        """Record ExecutionRedriven before answering, then run the program in the background."""
        program = self._get_evaluation_entrypoint()
        self.env = self._get_evaluation_environment()
        last_event_id = self._history.get_event_history()[-1]["id"]
        self.env.event_history_context.integrate(EventHistoryContext(previous_event_id=last_event_id))
        self.env.event_manager.add_event(
            context=self.env.event_history_context,
            event_type=HistoryEventType.ExecutionRedriven,
            # moto's EventDetails declares every other kind of details, and not this one.
            event_details=cast(
                EventDetails,
                {"executionRedrivenEventDetails": ExecutionRedrivenEventDetails(redriveCount=redrive_count)},
            ),
        )
        thread = threading.Thread(target=self._run, args=(program,), daemon=True)
        TMP_THREADS.append(thread)
        thread.start()

    def _run(self, program: Any) -> None:
        program.eval(self.env)
        self._execution_communication.terminated()


def _failed_state(execution: Execution, history: Sequence[Mapping[str, Any]]) -> tuple[str, Any]:
    """The top-level state the execution stopped in, and that state's input."""
    definition = json.loads(execution.state_machine.definition)
    for event in reversed(history):
        entered = event.get("stateEnteredEventDetails")
        if entered and entered["name"] in definition["States"]:
            return entered["name"], json.loads(entered["input"])
    return definition["StartAt"], execution.input_data  # failed before entering any state


def redrive(execution: Execution, client_token: str | None = None) -> datetime:
    """Continue ``execution`` from its failed state; returns the redrive date."""
    with _lock:
        tokens: dict[str, datetime] = getattr(execution, "redrive_tokens", {})
        if client_token in tokens:  # the SDK retrying the same request: AWS does not redrive twice
            return tokens[client_token]
        reason = not_redrivable_reason(execution)
        if reason:
            raise ExecutionNotRedrivable(reason)
        if execution.exec_worker is None or execution.exec_worker.env is None:
            raise ExecutionNotRedrivable("Execution has not started")
        history = execution.exec_worker.env.event_manager
        state_name, state_input = _failed_state(execution, history.get_event_history())

        execution.redrive_count = getattr(execution, "redrive_count", 0) + 1
        execution.redrive_date = datetime.now(UTC)
        if client_token:
            execution.redrive_tokens = {**tokens, client_token: execution.redrive_date}
        execution.exec_status = ExecutionStatus.RUNNING
        execution.stop_date = execution.output = execution.error = execution.cause = None
        worker = _RedriveWorker(execution, history, state_name, state_input)
        execution.exec_worker = worker
        worker.start_redrive(execution.redrive_count)
        announce_status_change(execution, started=True)  # AWS announces the redriven execution RUNNING again
        return execution.redrive_date


def _redrive_fields(execution: Execution) -> dict[str, Any]:
    fields: dict[str, Any] = {"redriveCount": getattr(execution, "redrive_count", 0)}
    if hasattr(execution, "redrive_date"):
        fields["redriveDate"] = execution.redrive_date
    reason = not_redrivable_reason(execution)
    fields["redriveStatus"] = (
        ExecutionRedriveStatus.NOT_REDRIVABLE if reason else ExecutionRedriveStatus.REDRIVABLE
    ).value
    if reason:
        fields["redriveStatusReason"] = reason
    return fields


def _interpreted(response: StepFunctionResponse) -> Execution:
    """The request's execution, as moto's interpreter runs it.

    moto declares its plain model as the answer; the interpreter's backend keeps executions of its own.
    """
    execution: object = response.stepfunction_backend.describe_execution(response._get_param("executionArn"))
    if not isinstance(execution, Execution):
        raise TypeError(f"{type(execution).__name__} is not run by moto's interpreter (SFN_EXECUTION)")
    return execution


def apply_redrive(patcher: Patcher, _emulator: Emulator) -> None:
    def redrive_execution(response: StepFunctionResponse) -> ActionResult:
        execution = _interpreted(response)
        return ActionResult({"redriveDate": redrive(execution, response._get_param("clientToken"))})

    patcher.replace(StepFunctionResponse, "redrive_execution", redrive_execution)

    @patcher.around(StepFunctionResponse, "describe_execution")
    def describe_execution(
        original: Callable[[StepFunctionResponse], ActionResult], response: StepFunctionResponse
    ) -> ActionResult:
        result = original(response)
        execution = _interpreted(response)
        fields = result.result
        if not isinstance(fields, dict):
            raise TypeError(f"moto's DescribeExecution answered {type(fields).__name__}, not a dict")
        fields.update(_redrive_fields(execution))
        return result


def canary_redrive() -> None:
    with stock_moto(execute_state_machines=True) as session:
        stepfunctions, execution_arn = start_canary_execution(session)
        execution = wait_until_stopped(stepfunctions, execution_arn)
        still("redriveStatus" not in execution, f"DescribeExecution says {execution.get('redriveStatus')}")
        # AWS refuses to redrive a SUCCEEDED execution (ExecutionNotRedrivable): moto knows no such action.
        still_unimplemented(
            lambda: stepfunctions.redrive_execution(executionArn=execution_arn), "has not been implemented"
        )


REDRIVE = declared("stepfunctions-redrive-execution", apply=apply_redrive, canary=canary_redrive)

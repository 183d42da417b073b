"""Step Functions' "Execution Status Change" events on EventBridge, which moto does not put."""

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.events.models import events_backends
from moto.stepfunctions.parser.backend import execution as sfn_execution

from orgvend_local.parity.patch import Emulator, EventsQueue, Patcher, declared, still, stock_moto
from orgvend_local.parity.stepfunctions import start_canary_execution, wait_until_stopped

EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"


def _millis(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def announce_status_change(execution: Any, *, started: bool = False) -> None:
    """The event AWS puts on the execution's account's default bus when its status changes.

    ``started``: the RUNNING event of a start. The execution runs on moto's worker thread, so by the
    time this is called a short one may already have ended: the event says what it announces, the
    start, not the status the execution has reached meanwhile."""
    ended = not started
    output = execution.output if ended else None
    detail = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine.arn,
        "name": execution.name,
        "status": execution.exec_status.value if ended else "RUNNING",
        "startDate": _millis(execution.start_date),
        "stopDate": _millis(execution.stop_date) if ended else None,
        "input": json.dumps(execution.input_data),
        "inputDetails": {"included": True},
        "output": json.dumps(output) if output is not None else None,
        "outputDetails": {"included": True} if output is not None else None,
        "error": execution.error if ended else None,
        "cause": execution.cause if ended else None,
        "redriveCount": getattr(execution, "redrive_count", 0),
    }
    events_backends[execution.account_id][execution.region_name].put_events(
        [
            {
                "Source": "aws.states",
                "DetailType": EXECUTION_STATUS_CHANGE,
                "Detail": json.dumps(detail),
                "Resources": [execution.exec_arn],
            }
        ]
    )


def apply_status_change_events(patcher: Patcher, _emulator: Emulator) -> None:
    """On every start (RUNNING) and every end (SUCCEEDED, FAILED, TIMED_OUT, ABORTED)."""

    @patcher.around(sfn_execution.BaseExecutionWorkerCommunication, "terminated")
    def terminated(original: Callable[[Any], None], communication: Any) -> None:
        original(communication)
        announce_status_change(communication.execution)

    @patcher.around(sfn_execution.Execution, "start")
    def start(original: Callable[[Any], None], execution: Any) -> None:
        original(execution)
        announce_status_change(execution, started=True)


def canary_status_change_events() -> None:
    """A rule sends Step Functions' events to a queue: an execution from start to end puts nothing there,
    though an event of the same source put by hand arrives (so the probe could see one)."""
    with stock_moto(execute_state_machines=True) as session:
        queue = EventsQueue.of_source(session, "aws.states")
        wait_until_stopped(*start_canary_execution(session))
        announced = queue.received(within=0.1)
        still(not announced, f"the execution was announced: {announced}")
        queue.check_delivery({"Source": "aws.states", "DetailType": EXECUTION_STATUS_CHANGE, "Detail": "{}"})


STATUS_CHANGE_EVENTS = declared(
    "stepfunctions-status-change-events", apply=apply_status_change_events, canary=canary_status_change_events
)

"""Step Functions' "Execution Status Change" events on EventBridge, which moto does not put."""

import json
import time
from datetime import datetime
from typing import Any

from moto.events.models import events_backends
from moto.stepfunctions.parser.backend import execution as sfn_execution

from orgvend_local.parity.patch import Emulator, Kind, Patch, Patcher, still, stock_moto
from orgvend_local.parity.stepfunctions import ONE_PASS_STATE, create_state_machine, wait_until_stopped

EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"


def _millis(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def announce_status_change(execution: Any) -> None:
    """The event AWS puts on the execution's account's default bus when its status changes."""
    detail = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine.arn,
        "name": execution.name,
        "status": execution.exec_status.value,
        "startDate": _millis(execution.start_date),
        "stopDate": _millis(execution.stop_date),
        "input": json.dumps(execution.input_data),
        "inputDetails": {"included": True},
        "output": json.dumps(execution.output) if execution.output is not None else None,
        "outputDetails": {"included": True} if execution.output is not None else None,
        "error": execution.error,
        "cause": execution.cause,
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
    original_terminated = sfn_execution.BaseExecutionWorkerCommunication.terminated
    original_start = sfn_execution.Execution.start

    def terminated(communication: Any) -> None:
        original_terminated(communication)
        announce_status_change(communication.execution)

    def start(execution: Any) -> None:
        original_start(execution)
        announce_status_change(execution)

    patcher.replace(sfn_execution.BaseExecutionWorkerCommunication, "terminated", terminated)
    patcher.replace(sfn_execution.Execution, "start", start)


def canary_status_change_events() -> None:
    """A rule sends Step Functions' events to a queue: an execution from start to end puts nothing there,
    though an event of the same source put by hand arrives (so the probe could see one)."""
    with stock_moto(execute_state_machines=True) as session:
        sqs, events = session.client("sqs"), session.client("events")
        stepfunctions = session.client("stepfunctions")
        queue_url = sqs.create_queue(QueueName="canary")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name="canary", EventPattern=json.dumps({"source": ["aws.states"]}))
        events.put_targets(Rule="canary", Targets=[{"Id": "queue", "Arn": queue_arn}])

        execution_arn = stepfunctions.start_execution(
            stateMachineArn=create_state_machine(session, "canary", ONE_PASS_STATE), name="canary"
        )["executionArn"]
        wait_until_stopped(stepfunctions, execution_arn)
        time.sleep(0.1)
        announced = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        still(not announced, f"the execution was announced: {[message['Body'] for message in announced]}")

        events.put_events(
            Entries=[{"Source": "aws.states", "DetailType": EXECUTION_STATUS_CHANGE, "Detail": "{}"}]
        )
        if not sqs.receive_message(QueueUrl=queue_url).get("Messages"):
            raise RuntimeError("the canary's rule delivers nothing: it cannot tell whether moto announces")


STATUS_CHANGE_EVENTS = Patch(
    name="stepfunctions-status-change-events",
    kind=Kind.BEHAVIOUR,
    aws="Step Functions puts *Execution Status Change* events on EventBridge",
    aws_doc="https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html",
    moto="does not",
    closed_by="emitted on every start and end (and redrive), with the execution's `redriveCount`",
    apply=apply_status_change_events,
    canary=canary_status_change_events,
)

"""An onboarding's timeline, built from its Step Functions execution history."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from orgvend.refusals import public_cause
from orgvend.workflows.models import TimelineStep

_SCHEDULED = {"LambdaFunctionScheduled", "TaskScheduled"}
_FAILED_DETAILS = (
    "lambdaFunctionFailedEventDetails",
    "lambdaFunctionTimedOutEventDetails",
    "lambdaFunctionScheduleFailedEventDetails",
    "lambdaFunctionStartFailedEventDetails",
    "taskFailedEventDetails",
    "taskTimedOutEventDetails",
)
_EXECUTION_ENDED = {"ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}


def _readable(details: dict[str, Any]) -> tuple[str | None, str | None]:
    return details.get("error"), public_cause(details.get("cause"))


def build_timeline(history: Sequence[Mapping[str, Any]]) -> list[TimelineStep]:
    """One step per state, in order of first entry; repeated visits (the poll loop, a redrive) fold in."""
    steps: dict[str, TimelineStep] = {}
    current: TimelineStep | None = None
    for event in history:
        kind: str = event["type"]
        stamp: datetime = event["timestamp"]
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            step = steps.get(name)
            if step is None:
                step = steps[name] = TimelineStep(
                    name=name,
                    type=kind.removesuffix("StateEntered"),
                    status="RUNNING",
                    started_at=stamp,
                    visits=0,
                )
            step.visits += 1
            step.status, step.ended_at = "RUNNING", None
            current = step
        elif current is None:
            continue
        elif kind in _SCHEDULED:
            current.attempts += 1
        elif kind.endswith("StateExited"):
            current.status, current.ended_at = "SUCCEEDED", stamp
        elif kind in _EXECUTION_ENDED and current.status == "RUNNING":
            current.status, current.ended_at = "FAILED", stamp
        else:
            for key in _FAILED_DETAILS:
                if key in event:
                    current.error, current.cause = _readable(event[key])
        if current.ended_at:
            current.duration_seconds = round((current.ended_at - current.started_at).total_seconds(), 3)
    for step in steps.values():
        step.retries = max(0, step.attempts - step.visits)
    return list(steps.values())

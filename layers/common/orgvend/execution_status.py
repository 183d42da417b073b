"""Step Functions' "Execution Status Change" events, and whether one still speaks for its execution.

A failure is reported from these events, which come late, twice or out of order. A
late report of an attempt that has since been redriven must not touch the newer
attempt: release its account or its creation slot, or change its status. So a
report acts only while the execution is still stopped at the attempt it reports
(its ``redriveCount``), which DescribeExecution tells.
"""

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict

from orgvend.models import WorkflowError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

STOPPED_STATUSES = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})


class ExecutionStatusChange(BaseModel):
    """``detail`` of a Step Functions Execution Status Change event."""

    model_config = ConfigDict(extra="ignore")

    executionArn: str
    stateMachineArn: str
    name: str
    status: str
    input: str | None = None
    error: str | None = None
    cause: str | None = None
    redriveCount: int = 0

    def failure(self) -> WorkflowError:
        """The execution's error; a timeout or an abort (which carry none) named after the status."""
        return WorkflowError(
            error=self.error or f"Execution{self.status.title().replace('_', '')}",
            cause=self.cause or f"the execution ended {self.status}",
        )

    def request(self) -> dict[str, Any]:
        """The execution's input, the workflow's request (empty when it is not a JSON object)."""
        try:
            request = json.loads(self.input or "{}")
        except ValueError:
            return {}
        return request if isinstance(request, dict) else {}


class ExecutionStatusChangeEvent(EventBridgeModel):
    detail: ExecutionStatusChange


def reports_current_attempt(
    stepfunctions: "SFNClient", change: ExecutionStatusChange, state_machine_arn: str | None = None
) -> bool:
    """True while the execution (of ``state_machine_arn``, when given) is still stopped at the attempt
    ``change`` reports (not redriven since)."""
    if state_machine_arn and change.stateMachineArn != state_machine_arn:
        return False  # another workflow's execution: the rule's pattern should never let it through
    execution = stepfunctions.describe_execution(executionArn=change.executionArn)
    return (
        execution["status"] in STOPPED_STATUSES
        and int(execution.get("redriveCount", 0)) == change.redriveCount
    )

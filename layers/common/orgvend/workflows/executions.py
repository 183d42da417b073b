"""One workflow's Step Functions executions as the API sees them: named by their ID, started once, redriven."""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orgvend.aws import error_code
from orgvend.models import FAILED_EXECUTION_STATUSES
from orgvend.refusals import BadRequest, Conflict, NotFound, public_cause, public_text
from orgvend.workflows.models import Links, RunSummary, RunView
from orgvend.workflows.timeline import build_timeline

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_stepfunctions.type_defs import ExecutionListItemTypeDef, HistoryEventTypeDef

# Who asked: a retry of the same request may come with other (rotated) credentials.
ASKER = "requestedBy"


def _without_asker(workflow_input: Any) -> Any:
    if isinstance(workflow_input, dict):
        return {key: value for key, value in workflow_input.items() if key != ASKER}
    return workflow_input


class Executions:
    """The executions of one state machine; ``noun`` ("onboarding", "offboarding") names them in answers."""

    def __init__(self, stepfunctions: "SFNClient", state_machine_arn: str, noun: str) -> None:
        self._sfn = stepfunctions
        self.state_machine_arn = state_machine_arn
        self.noun = noun

    def arn(self, name: str) -> str:
        prefix, _, state_machine = self.state_machine_arn.rpartition(":stateMachine:")
        return f"{prefix}:execution:{state_machine}:{name}"

    def start(self, name: str, workflow_input: dict[str, Any]) -> None:
        """Start the execution ``name``; a repeat with the same input (whoever asked) is the same execution."""
        try:
            self._sfn.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(workflow_input)
            )
        except ClientError as error:
            # The same name: started before (a retried request). AWS returns the running execution
            # for the same name and input; a finished one answers ExecutionAlreadyExists.
            if error_code(error) != "ExecutionAlreadyExists":
                raise
            if _without_asker(json.loads(self.describe(name)["input"])) != _without_asker(workflow_input):
                raise Conflict(
                    "IdempotencyKeyReused",
                    "this Idempotency-Key was used for another request",
                    "Idempotency-Key",
                ) from None

    def describe(self, name: str) -> dict[str, Any]:
        try:
            return dict(self._sfn.describe_execution(executionArn=self.arn(name)))
        except ClientError as error:
            if error_code(error) in ("ExecutionDoesNotExist", "InvalidArn"):
                raise NotFound(f"{self.noun} {name}", f"{self.noun}Id") from None
            raise

    def run(self, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The execution, and the fields of its view (``RunView``) but ``links``."""
        execution = self.describe(name)
        failed = execution["status"] != "SUCCEEDED" and bool(execution.get("error"))
        return execution, {
            "status": execution["status"],
            "error": execution["error"] if failed else None,
            "cause": public_cause(execution.get("cause")) if failed else None,
            "started_at": execution["startDate"],
            "stopped_at": execution.get("stopDate"),
            "redrive_count": int(execution.get("redriveCount", 0)),
            "timeline": build_timeline(self.history(execution["executionArn"])),
        }

    @staticmethod
    def summary(execution: Mapping[str, Any], record: dict[str, Any]) -> dict[str, Any]:
        """The fields of a run in a list (``RunSummary``) but ``links``: the execution's, and the registry's."""
        return {
            "status": execution["status"],
            "started_at": execution["startDate"],
            "stopped_at": execution.get("stopDate"),
            "account_id": record.get("accountId"),
            "client": record.get("client"),
            "project": record.get("project"),
        }

    def history(self, execution_arn: str) -> list["HistoryEventTypeDef"]:
        paginator = self._sfn.get_paginator("get_execution_history")
        return [event for page in paginator.paginate(executionArn=execution_arn) for event in page["events"]]

    def page(
        self, status: str | None, limit: int, next_token: str | None
    ) -> tuple[list["ExecutionListItemTypeDef"], str | None]:
        arguments: dict[str, Any] = {"stateMachineArn": self.state_machine_arn, "maxResults": limit}
        if status:
            arguments["statusFilter"] = status
        if next_token:
            arguments["nextToken"] = next_token
        try:
            response = self._sfn.list_executions(**arguments)
        except ClientError as error:
            if error_code(error) == "InvalidToken":
                raise BadRequest("InvalidNextToken", "nextToken is not valid", "nextToken") from None
            raise
        return response["executions"], response.get("nextToken")

    def refuse_unless_retryable(self, name: str) -> dict[str, Any]:
        execution = self.describe(name)
        if execution["status"] not in FAILED_EXECUTION_STATUSES:
            raise Conflict(
                "NotRetryable",
                f"{self.noun} {name} is {execution['status']}; only a failed one can be retried",
            )
        return execution

    def redrive(self, name: str, execution: dict[str, Any]) -> datetime:
        try:
            response = self._sfn.redrive_execution(executionArn=execution["executionArn"])
        except ClientError as error:
            if error_code(error) == "ExecutionNotRedrivable":
                # Step Functions' reason, without the botocore preamble; the API withholds its ARNs.
                reason = error.response.get("Error", {}).get("Message") or "ExecutionNotRedrivable"
                raise Conflict(
                    "NotRetryable", f"{self.noun} {name} cannot be redriven: {public_text(reason)}"
                ) from None
            raise
        redrive_date: datetime = response["redriveDate"]
        return redrive_date


def run_links(noun: str, run_id: str, account_id: str | None = None, *, retry: bool = False) -> Links:
    """The links of a run (``noun`` "onboarding" or "offboarding"): itself, its account, its retry."""
    return Links(
        self=f"/{noun}s/{run_id}",
        account=f"/accounts/{account_id}" if account_id else None,
        retry=f"/{noun}s/{run_id}/retry" if retry else None,
    )


class Runs[View: RunView, Summary: RunSummary]:
    """One workflow's runs as the API shows them: Step Functions' side joined with the registry's item.

    A workflow says how to read its items and which of their fields its view and summary add.
    """

    def __init__(self, executions: Executions, view: type[View], summary: type[Summary]) -> None:
        self._executions = executions
        self._view = view
        self._summary = summary

    def _record(self, run_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def _records(self, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    def _view_fields(self, record: dict[str, Any]) -> dict[str, Any]:
        """The view's fields beyond the account, its client, project and name."""
        return {}

    def _summary_fields(self, record: dict[str, Any]) -> dict[str, Any]:
        return {}

    def links(self, run_id: str, account_id: str | None = None, *, retry: bool = False) -> Links:
        return run_links(self._executions.noun, run_id, account_id, retry=retry)

    def _id(self, run_id: str) -> dict[str, str]:
        return {f"{self._executions.noun}_id": run_id}

    def describe(self, run_id: str) -> View:
        execution, run = self._executions.run(run_id)
        record = self._record(run_id)
        account_id = record.get("accountId")
        return self._view.model_validate(
            {
                **self._id(run_id),
                **run,
                "account_id": account_id,
                "client": record.get("client"),
                "project": record.get("project"),
                "account_name": record.get("accountName"),
                **self._view_fields(record),
                "links": self.links(
                    run_id, account_id, retry=execution["status"] in FAILED_EXECUTION_STATUSES
                ),
            }
        )

    def summaries(
        self, status: str | None, limit: int, next_token: str | None
    ) -> tuple[list[Summary], str | None]:
        """A page of runs, newest first, and the token of the next page."""
        executions, following = self._executions.page(status, limit, next_token)
        records = self._records([execution["name"] for execution in executions])
        return [
            self._summary.model_validate(
                {
                    **self._id(execution["name"]),
                    **Executions.summary(execution, record := records.get(execution["name"], {})),
                    **self._summary_fields(record),
                    "links": self.links(execution["name"], record.get("accountId")),
                }
            )
            for execution in executions
        ], following

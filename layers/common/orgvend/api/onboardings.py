"""Start, describe, list and retry onboardings: Step Functions executions of the onboarding workflow."""

import hashlib
import json
import os
import uuid
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from orgvend import aws
from orgvend.api.errors import ApiError, BadRequest, Conflict, NotFound, public_cause, public_text
from orgvend.api.models import (
    Links,
    OnboardingAccepted,
    OnboardingPage,
    OnboardingSummary,
    OnboardingView,
    RetryAccepted,
)
from orgvend.api.timeline import build_timeline
from orgvend.aws import error_code
from orgvend.errors import InvalidOnboardingRequest
from orgvend.models import OnboardingRequest
from orgvend.registry import Registry, default_registry
from orgvend.steps.record_request import check_role_allowed

EXECUTION_NAME_PATTERN = r"^[0-9A-Za-z_-]{1,80}$"


def execution_name(idempotency_key: str | None) -> str:
    """The onboarding's ID: derived from the Idempotency-Key (so a retry finds the same execution), else random."""
    if idempotency_key:
        return "k-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:48]
    return str(uuid.uuid4())


def onboarding_links(onboarding_id: str, account_id: str | None = None, *, retry: bool = False) -> Links:
    return Links(
        self=f"/onboardings/{onboarding_id}",
        account=f"/accounts/{account_id}" if account_id else None,
        retry=f"/onboardings/{onboarding_id}/retry" if retry else None,
    )


class Onboardings:
    """The onboarding workflow as the API sees it."""

    def __init__(self, stepfunctions: Any, registry: Registry, state_machine_arn: str) -> None:
        self._sfn = stepfunctions
        self._registry = registry
        self._state_machine_arn = state_machine_arn

    def execution_arn(self, onboarding_id: str) -> str:
        prefix, _, name = self._state_machine_arn.rpartition(":stateMachine:")
        return f"{prefix}:execution:{name}:{onboarding_id}"

    def refuse_registered_email(self, email: str, onboarding_id: str | None) -> None:
        """Answer 409 early unless the owner is this very onboarding (a retried request).

        The workflow's atomic email guard stays the real protection; this is a courtesy.
        """
        owner = self._registry.email_owner(email)
        if owner and owner.get("onboardingId") != onboarding_id:
            where = (
                f"account {owner['accountId']}"
                if owner.get("accountId")
                else f"onboarding {owner['onboardingId']}"
            )
            raise Conflict("EmailAlreadyRegistered", f"this email is already registered to {where}", "email")

    def submit(
        self, request: OnboardingRequest, onboarding_id: str, allowed_role_names: tuple[str, ...]
    ) -> OnboardingAccepted:
        """What every way in (HTTP, EventBridge) checks before starting: role allowed, email not taken."""
        try:
            check_role_allowed(request, allowed_role_names)
        except InvalidOnboardingRequest as error:
            raise BadRequest("InvalidRoleName", str(error).removeprefix("roleName: "), "roleName") from None
        self.refuse_registered_email(request.email, onboarding_id)
        return self.start(request, onboarding_id)

    def start(self, request: OnboardingRequest, onboarding_id: str) -> OnboardingAccepted:
        workflow_input = request.to_json()
        try:
            self._sfn.start_execution(
                stateMachineArn=self._state_machine_arn, name=onboarding_id, input=json.dumps(workflow_input)
            )
        except ClientError as error:
            # The same name: this onboarding was started before (a retried request). AWS returns the
            # running execution for the same name and input; a finished one answers ExecutionAlreadyExists.
            if error_code(error) != "ExecutionAlreadyExists":
                raise
            existing = self._sfn.describe_execution(executionArn=self.execution_arn(onboarding_id))
            if json.loads(existing["input"]) != workflow_input:
                raise Conflict(
                    "IdempotencyKeyReused",
                    "this Idempotency-Key was used for another request",
                    "Idempotency-Key",
                ) from None
        return OnboardingAccepted(onboarding_id=onboarding_id, links=onboarding_links(onboarding_id))

    def _execution(self, onboarding_id: str) -> dict[str, Any]:
        try:
            return dict(self._sfn.describe_execution(executionArn=self.execution_arn(onboarding_id)))
        except ClientError as error:
            if error_code(error) in ("ExecutionDoesNotExist", "InvalidArn"):
                raise NotFound(f"onboarding {onboarding_id}", "onboardingId") from None
            raise

    def _history(self, execution_arn: str) -> list[dict[str, Any]]:
        paginator = self._sfn.get_paginator("get_execution_history")
        return [event for page in paginator.paginate(executionArn=execution_arn) for event in page["events"]]

    def describe(self, onboarding_id: str) -> OnboardingView:
        execution = self._execution(onboarding_id)
        record = self._registry.get_onboarding(onboarding_id) or {}
        failed = execution["status"] != "SUCCEEDED" and bool(execution.get("error"))
        account_id = record.get("accountId")
        return OnboardingView(
            onboarding_id=onboarding_id,
            status=execution["status"],
            account_id=account_id,
            client=record.get("client"),
            project=record.get("project"),
            account_name=record.get("accountName"),
            error=execution["error"] if failed else None,
            cause=public_cause(execution.get("cause")) if failed else None,
            started_at=execution["startDate"],
            stopped_at=execution.get("stopDate"),
            redrive_count=int(execution.get("redriveCount", 0)),
            timeline=build_timeline(self._history(execution["executionArn"])),
            links=onboarding_links(
                onboarding_id, account_id, retry=execution["status"] in ("FAILED", "TIMED_OUT", "ABORTED")
            ),
        )

    def list(self, status: str | None, limit: int, next_token: str | None) -> OnboardingPage:
        arguments: dict[str, Any] = {"stateMachineArn": self._state_machine_arn, "maxResults": limit}
        if status:
            arguments["statusFilter"] = status
        if next_token:
            arguments["nextToken"] = next_token
        try:
            response = self._sfn.list_executions(**arguments)
        except ClientError as error:
            if error_code(error) == "InvalidToken":
                raise ApiError(400, "InvalidNextToken", "nextToken is not valid", "nextToken") from None
            raise
        executions = response["executions"]
        records = self._registry.onboardings([execution["name"] for execution in executions])
        items = []
        for execution in executions:
            record = records.get(execution["name"], {})
            items.append(
                OnboardingSummary(
                    onboarding_id=execution["name"],
                    status=execution["status"],
                    started_at=execution["startDate"],
                    stopped_at=execution.get("stopDate"),
                    account_id=record.get("accountId"),
                    client=record.get("client"),
                    project=record.get("project"),
                    links=onboarding_links(execution["name"], record.get("accountId")),
                )
            )
        return OnboardingPage(items=items, next_token=response.get("nextToken"))

    def retry(self, onboarding_id: str) -> RetryAccepted:
        execution = self._execution(onboarding_id)
        if execution["status"] in ("RUNNING", "SUCCEEDED", "PENDING_REDRIVE"):
            raise Conflict(
                "NotRetryable",
                f"onboarding {onboarding_id} is {execution['status']}; only a failed one can be retried",
            )
        try:
            response = self._sfn.redrive_execution(executionArn=execution["executionArn"])
        except ClientError as error:
            if error_code(error) == "ExecutionNotRedrivable":
                # Step Functions' reason, without the botocore preamble; the API withholds its ARNs.
                reason = error.response.get("Error", {}).get("Message") or "ExecutionNotRedrivable"
                raise Conflict(
                    "NotRetryable", f"onboarding {onboarding_id} cannot be redriven: {public_text(reason)}"
                ) from None
            raise
        redrive_date: datetime = response["redriveDate"]
        return RetryAccepted(
            onboarding_id=onboarding_id,
            redrive_date=redrive_date,
            message="redriven: the workflow resumes at the step that failed; no second account is created",
            links=onboarding_links(onboarding_id),
        )


def default_onboardings() -> Onboardings:
    """The onboarding workflow named by the function's environment (ONBOARD_STATE_MACHINE_ARN)."""
    return Onboardings(
        aws.client("stepfunctions"), default_registry(), os.environ["ONBOARD_STATE_MACHINE_ARN"]
    )

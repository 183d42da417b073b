"""Start, describe, list and retry offboardings: executions of the offboarding workflow."""

from typing import TYPE_CHECKING, Any

from orgvend import aws
from orgvend.doors import confirmation_refusal, offboarding_refusal
from orgvend.errors import OffboardingInProgress, OutOfScope
from orgvend.models import OffboardingRequest
from orgvend.organizations import Scope, default_scope
from orgvend.refusals import Conflict, NotFound, Unprocessable, out_of_scope
from orgvend.registry import Registry, default_registry
from orgvend.settings import Settings
from orgvend.workflows.executions import Executions, Runs
from orgvend.workflows.models import (
    OffboardingAccepted,
    OffboardingPage,
    OffboardingRetryAccepted,
    OffboardingSummary,
    OffboardingView,
)
from orgvend.workflows.onboardings import execution_name

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class Offboardings(Runs[OffboardingView, OffboardingSummary]):
    """The offboarding workflow as the API sees it."""

    def __init__(
        self, stepfunctions: "SFNClient", registry: Registry, state_machine_arn: str, scope: Scope
    ) -> None:
        super().__init__(
            Executions(stepfunctions, state_machine_arn, "offboarding"), OffboardingView, OffboardingSummary
        )
        self._registry = registry
        self._scope = scope

    def _refuse_unless_offboardable(self, request: OffboardingRequest, offboarding_id: str) -> None:
        """The workflow's own first checks (BeginOffboarding), answered before anything starts."""
        account_id = request.account_id
        try:
            self._scope.refuse_member_outside(account_id)
        except OutOfScope as error:
            raise out_of_scope(error) from None
        record = self._registry.get_account(account_id)
        if record is None:
            raise NotFound(f"account {account_id}", "accountId")
        refusal = offboarding_refusal(account_id, record, offboarding_id)
        if refusal:
            code = (
                "OffboardingInProgress"
                if isinstance(refusal, OffboardingInProgress)
                else "AccountNotOffboardable"
            )
            raise Conflict(code, str(refusal), "accountId")
        unconfirmed = confirmation_refusal(record, request.confirm_account_name)
        if unconfirmed:
            raise Unprocessable(
                "ConfirmationMismatch",
                str(unconfirmed).removeprefix("confirmAccountName: "),
                "confirmAccountName",
            )

    def start(self, request: OffboardingRequest, idempotency_key: str | None) -> OffboardingAccepted:
        offboarding_id = execution_name(idempotency_key)
        self._refuse_unless_offboardable(request, offboarding_id)
        self._executions.start(offboarding_id, request.to_json())
        return OffboardingAccepted(
            offboarding_id=offboarding_id,
            account_id=request.account_id,
            mode=request.mode,
            links=self.links(offboarding_id, request.account_id),
        )

    def _record(self, run_id: str) -> dict[str, Any]:
        return self._registry.get_offboarding(run_id) or {}

    def _records(self, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        return self._registry.offboardings(run_ids)

    def _view_fields(self, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "mode": record.get("mode"),
            "requested_by": record.get("requestedBy"),
            "outcome": record.get("outcome"),
        }

    def _summary_fields(self, record: dict[str, Any]) -> dict[str, Any]:
        return {"mode": record.get("mode")}

    def list(self, status: str | None, limit: int, next_token: str | None) -> OffboardingPage:
        items, following = self.summaries(status, limit, next_token)
        return OffboardingPage(items=items, next_token=following)

    def retry(self, offboarding_id: str) -> OffboardingRetryAccepted:
        execution = self._executions.refuse_unless_retryable(offboarding_id)
        record = self._registry.get_offboarding(offboarding_id) or {}
        account_id = record.get("accountId")
        # The failure let go of the account; the retry takes it again, unless another offboarding has.
        attempt = int(execution.get("redriveCount", 0)) + 1  # the attempt the redrive is about to start
        if account_id and not self._registry.retake_offboarding(str(account_id), offboarding_id, attempt):
            holder = self._registry.get_account(str(account_id))
            if holder is None:
                raise Conflict("AccountNotOffboardable", f"account {account_id} is no longer in the registry")
            raise Conflict(
                "OffboardingInProgress",
                f"account {account_id} is being offboarded by {holder.offboarding_id}; retry this one after it ends",
            )
        try:
            redrive_date = self._executions.redrive(offboarding_id, execution)
        except Exception:
            if account_id:
                self._registry.release_offboarding(str(account_id), offboarding_id, attempt)
            raise
        return OffboardingRetryAccepted(
            offboarding_id=offboarding_id,
            redrive_date=redrive_date,
            message="redriven: the workflow resumes at the step that failed",
            links=self.links(offboarding_id, account_id),
        )


def default_offboardings(settings: Settings) -> Offboardings:
    """The function's offboarding workflow (OFFBOARD_STATE_MACHINE_ARN), in its scope."""
    return Offboardings(
        aws.client("stepfunctions"),
        default_registry(settings),
        settings.required(settings.offboard_state_machine_arn, "offboard_state_machine_arn"),
        default_scope(settings),
    )

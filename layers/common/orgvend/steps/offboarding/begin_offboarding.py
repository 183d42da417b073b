"""BeginOffboarding: check the account may be offboarded, and take it, so no second offboarding runs at once.

The account's registry entry carries the ID of the offboarding that holds it
(``offboardingId``), written in the same transaction as the offboarding's own
item and conditional on nobody else holding it: two offboardings started at the
same moment cannot both pass. The API runs the same checks first, to answer
4xx before starting anything; this step is the guarantee, whatever started the
execution: the account must be in orgvend's scope, and the request must name it
(``confirmAccountName``), because detaching or closing cannot be undone.
"""

from typing import Any

from pydantic import ValidationError

from orgvend.doors import confirmation_refusal, not_in_registry, offboarding_refusal
from orgvend.errors import InvalidOffboardingRequest, OffboardingInProgress
from orgvend.models import (
    AccountRecord,
    ExecutionContext,
    Model,
    Offboarding,
    OffboardingRequest,
    describe_problems,
    validation_problems,
)
from orgvend.observability import logger, metrics
from orgvend.organizations import Scope
from orgvend.registry import Registry


class BeginOffboardingInput(Model):
    request: dict[str, Any]  # validated here, so that a bad one fails as InvalidOffboardingRequest
    execution: ExecutionContext


# What the offboarding keeps of the account's entry (for its hand-over and its report).
ACCOUNT_FIELDS = {"account_id", "account_name", "email", "client", "project", "role_name", "billing_mode"}


def parse_request(raw: dict[str, Any]) -> OffboardingRequest:
    try:
        return OffboardingRequest.model_validate(raw)
    except ValidationError as error:
        raise InvalidOffboardingRequest(describe_problems(validation_problems(error))) from None


def takeable_record(registry: Registry, account_id: str, offboarding_id: str) -> AccountRecord:
    """The account's registry entry, read now; raises why this offboarding may not take it."""
    record = registry.get_account(account_id)
    if record is None:
        raise not_in_registry(account_id)
    refusal = offboarding_refusal(account_id, record, offboarding_id)
    if refusal:
        raise refusal
    return record


def begin_offboarding(step_input: BeginOffboardingInput, registry: Registry, scope: Scope) -> Offboarding:
    request, execution = parse_request(step_input.request), step_input.execution
    # The API's order: the scope, an unknown account, who holds it, then the confirmation.
    scope.refuse_member_outside(request.account_id)
    if registry.get_account(request.account_id) is None:
        raise not_in_registry(request.account_id)
    record = takeable_record(registry, request.account_id, execution.name)
    refusal = confirmation_refusal(record, request.confirm_account_name)
    if refusal:
        raise refusal
    offboarding = Offboarding(
        offboarding_id=execution.name,
        execution_arn=execution.id,
        started_at=execution.start_time,
        mode=request.mode,
        **record.model_dump(include=ACCOUNT_FIELDS),
        status_before=record.status,
        requested_by=request.requested_by,
    )
    if not registry.begin_offboarding(offboarding):
        # Lost a race with another offboarding (or a change of status): say which from a fresh read.
        takeable_record(registry, request.account_id, execution.name)
        raise OffboardingInProgress(
            f"account {request.account_id} changed while the offboarding began; start it again"
        )
    metrics.add_metric(name="OffboardingsStarted", unit="Count", value=1)
    logger.info("Offboarding begun", extra={"accountId": record.account_id, "mode": request.mode})
    return offboarding

"""Offboardings: ``POST /accounts/{accountId}/offboard`` starts one; ``/offboardings`` follow and retry them."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from orgvend.api.dependencies import Caller, OffboardingsService
from orgvend.api.errors import answers
from orgvend.api.parameters import (
    AccountIdPath,
    ExecutionIdPath,
    ExecutionStatusFilter,
    IdempotencyKey,
    NextToken,
    PageSize,
)
from orgvend.models import OffboardingRequest
from orgvend.observability import logger, metrics
from orgvend.workflows.models import (
    OffboardingAccepted,
    OffboardingPage,
    OffboardingRetryAccepted,
    OffboardingView,
    OffboardRequest,
)

router = Router()


@router.post(
    "/accounts/<accountId>/offboard",
    status_code=202,
    summary="Hand the account to its client (detach) or close it",
    responses=answers(202, OffboardingAccepted, "Offboarding started", body=True),
)
def post_offboard(
    *,
    accountId: AccountIdPath,
    request: Annotated[OffboardRequest, Body()],
    offboardings: OffboardingsService,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> OffboardingAccepted:
    offboarding = OffboardingRequest(
        account_id=accountId,
        mode=request.mode,
        confirm_account_name=request.confirm_account_name,
        requested_by=caller,
    )
    accepted = offboardings.start(offboarding, idempotency_key)
    metrics.add_metric(name="OffboardingsRequested", unit="Count", value=1)
    logger.info(
        "Offboarding requested",
        extra={"offboardingId": accepted.offboarding_id, "accountId": accountId, "mode": request.mode},
    )
    return accepted


@router.get(
    "/offboardings",
    summary="Recent offboardings",
    responses=answers(200, OffboardingPage, "A page of offboardings"),
)
def get_offboardings(
    offboardings: OffboardingsService,
    status: ExecutionStatusFilter = None,
    limit: PageSize = 50,
    nextToken: NextToken = None,
) -> OffboardingPage:
    return offboardings.list(status, limit, nextToken)


@router.get(
    "/offboardings/<offboardingId>",
    summary="One offboarding, with its step-by-step timeline",
    responses=answers(200, OffboardingView, "The offboarding"),
)
def get_offboarding(offboardingId: ExecutionIdPath, offboardings: OffboardingsService) -> OffboardingView:
    return offboardings.describe(offboardingId)


@router.post(
    "/offboardings/<offboardingId>/retry",
    status_code=202,
    summary="Redrive a failed offboarding from the step that failed",
    responses=answers(
        202, OffboardingRetryAccepted, "Redriven: the workflow resumes at the step that failed"
    ),
)
def post_offboarding_retry(
    offboardingId: ExecutionIdPath, offboardings: OffboardingsService
) -> OffboardingRetryAccepted:
    return offboardings.retry(offboardingId)

"""Onboardings: ``POST /accounts`` and ``/accounts/adopt`` start one; ``/onboardings`` follow and retry them."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from orgvend.api.dependencies import AccountsService, Caller, Dependencies, OnboardingsService
from orgvend.api.errors import answers
from orgvend.api.parameters import ExecutionIdPath, ExecutionStatusFilter, IdempotencyKey, NextToken, PageSize
from orgvend.models import OnboardingRequest
from orgvend.observability import logger, metrics
from orgvend.refusals import Unprocessable
from orgvend.workflows.models import (
    AdoptRequest,
    OnboardingAccepted,
    OnboardingPage,
    OnboardingView,
    OnboardRequest,
    RetryAccepted,
)
from orgvend.workflows.onboardings import Onboardings, execution_name

router = Router()


def submit(
    request: OnboardingRequest,
    idempotency_key: str | None,
    onboardings: Onboardings,
    provided: Dependencies,
) -> OnboardingAccepted:
    """Start the onboarding: at most once per Idempotency-Key, whoever retries it."""
    if not idempotency_key:
        accepted = onboardings.submit(request, execution_name(None))
    else:
        try:
            # The request is what a retry must repeat; who sent it is not (temporary credentials rotate).
            body = request.model_copy(update={"requested_by": None}).to_json()
            accepted = OnboardingAccepted.model_validate(
                provided.start_onboarding_once(
                    submission={"key": idempotency_key, "request": body, "requestedBy": request.requested_by}
                )
            )
        except IdempotencyAlreadyInProgressError:
            # The same request is being started right now: it is the same onboarding.
            accepted = onboardings.start(request, execution_name(idempotency_key))
        except IdempotencyValidationError:
            raise Unprocessable(
                "IdempotencyKeyReused",
                "this Idempotency-Key was used for a different request",
                "Idempotency-Key",
            ) from None
    metrics.add_metric(name="OnboardingsStarted", unit="Count", value=1)
    # The log masks the email (orgvend.observability): a***@example.com.
    logger.info(
        "Onboarding requested",
        extra={
            "onboardingId": accepted.onboarding_id,
            "client": request.client,
            "project": request.project,
            "email": request.email,
        },
    )
    return accepted


@router.post(
    "/accounts",
    status_code=202,
    summary="Onboard a new account",
    responses=answers(202, OnboardingAccepted, "Onboarding started", body=True),
)
def post_account(
    *,
    request: Annotated[OnboardRequest, Body()],
    onboardings: OnboardingsService,
    provided: Dependencies,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> OnboardingAccepted:
    onboarding = OnboardingRequest(**request.model_dump(), requested_by=caller)
    return submit(onboarding, idempotency_key, onboardings, provided)


@router.post(
    "/accounts/adopt",
    status_code=202,
    summary="Register and baseline an existing member account",
    responses=answers(202, OnboardingAccepted, "Onboarding started", body=True),
)
def post_adopt(
    *,
    request: Annotated[AdoptRequest, Body()],
    accounts: AccountsService,
    onboardings: OnboardingsService,
    provided: Dependencies,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> OnboardingAccepted:
    email = accounts.adoptable_email(request.account_id)
    onboarding = OnboardingRequest(**request.model_dump(), email=email, requested_by=caller)
    return submit(onboarding, idempotency_key, onboardings, provided)


@router.get(
    "/onboardings",
    summary="Recent onboardings",
    responses=answers(200, OnboardingPage, "A page of onboardings"),
)
def get_onboardings(
    onboardings: OnboardingsService,
    status: ExecutionStatusFilter = None,
    limit: PageSize = 50,
    nextToken: NextToken = None,
) -> OnboardingPage:
    return onboardings.list(status, limit, nextToken)


@router.get(
    "/onboardings/<onboardingId>",
    summary="One onboarding, with its step-by-step timeline",
    responses=answers(200, OnboardingView, "The onboarding"),
)
def get_onboarding(onboardingId: ExecutionIdPath, onboardings: OnboardingsService) -> OnboardingView:
    return onboardings.describe(onboardingId)


@router.post(
    "/onboardings/<onboardingId>/retry",
    status_code=202,
    summary="Redrive a failed onboarding from the step that failed",
    responses=answers(202, RetryAccepted, "Redriven: the workflow resumes at the step that failed"),
)
def post_retry(onboardingId: ExecutionIdPath, onboardings: OnboardingsService) -> RetryAccepted:
    return onboardings.retry(onboardingId)

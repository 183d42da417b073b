"""StartRequestedOnboarding: an "Account Requested" event starts an onboarding, with the API's checks.

The event's detail is the workflow input. The onboarding is named after the
event's ID, so a duplicated delivery finds the same execution. A malformed or
duplicate request starts nothing and is reported (a metric and a message to the
operators), never dropped silently.
"""

from typing import Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import ValidationError

from orgvend.api.errors import ApiError
from orgvend.api.onboardings import Onboardings, execution_name
from orgvend.models import Model, OnboardingRequest, describe_problems, validation_problems
from orgvend.notifications import publish
from orgvend.observability import logger, metrics
from orgvend.settings import Settings

ACCOUNT_REQUESTED = "Account Requested"


class AccountRequestedEvent(EventBridgeModel):
    detail: dict[str, Any]


class RequestOutcome(Model):
    event_id: str
    outcome: Literal["started", "rejected"]
    onboarding_id: str | None = None
    reason: str | None = None


def start_requested_onboarding(
    event: AccountRequestedEvent, onboardings: Onboardings, sns: Any, settings: Settings
) -> RequestOutcome:
    onboarding_id = execution_name(f"event:{event.id}")
    try:
        request = OnboardingRequest.model_validate(event.detail)
        accepted = onboardings.submit(request, onboarding_id, settings.access_role_names)
    except ValidationError as error:
        return reject(event, describe_problems(validation_problems(error)), sns, settings)
    except ApiError as error:
        return reject(
            event, f"{error.field + ': ' if error.field else ''}{error.message} ({error.code})", sns, settings
        )
    metrics.add_metric(name="OnboardingsStarted", unit="Count", value=1)
    return RequestOutcome(event_id=event.id, outcome="started", onboarding_id=accepted.onboarding_id)


def reject(event: AccountRequestedEvent, reason: str, sns: Any, settings: Settings) -> RequestOutcome:
    metrics.add_metric(name="RequestsRejected", unit="Count", value=1)
    logger.warning("Account request rejected", extra={"eventId": event.id, "reason": reason})
    body = "\n".join(
        [
            f"An '{ACCOUNT_REQUESTED}' event from {event.source} was not started:",
            f"  {reason}",
            "",
            f"Event ID: {event.id}",
            "Nothing was created. Fix the request and put a new event.",
        ]
    )
    publish(
        sns, settings.operator_topic_arn, "request-rejected", "orgvend: an account request was rejected", body
    )
    return RequestOutcome(event_id=event.id, outcome="rejected", reason=reason)

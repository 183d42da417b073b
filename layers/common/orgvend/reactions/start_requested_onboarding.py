"""StartRequestedOnboarding: an "Account Requested" event starts an onboarding, with the API's checks.

The event's detail is the request for a new account. The onboarding is named after
the event's ID, so a duplicated delivery finds the same execution. A malformed or
duplicate request starts nothing and is reported (a metric and a message to the
operators), never dropped silently.

The event door is narrower than the API: the rule admits only events put by the
stack's own account (and this function checks ``account`` again), and an event may
only ask for a new account: no ``accountId`` to adopt, no ``ou`` to place into.
``requestedBy`` records the event's account and source.
"""

from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import ValidationError

from orgvend.models import AccountRequest, Model, OnboardingRequest, describe_problems, validation_problems
from orgvend.notifications import publish
from orgvend.observability import logger, metrics
from orgvend.refusals import ApiError
from orgvend.settings import Settings
from orgvend.workflows.onboardings import Onboardings, execution_name

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

ACCOUNT_REQUESTED = "Account Requested"
# What only an operator may ask for, through the API.
API_ONLY_FIELDS = ("accountId", "ou", "keepOu", "requestedBy")


class AccountRequestedEvent(EventBridgeModel):
    detail: dict[str, Any]


class RequestOutcome(Model):
    event_id: str
    outcome: Literal["started", "rejected"]
    onboarding_id: str | None = None
    reason: str | None = None


def start_requested_onboarding(
    event: AccountRequestedEvent,
    onboardings: Onboardings,
    sns: "SNSClient",
    settings: Settings,
    own_account_id: str,
) -> RequestOutcome:
    onboarding_id = execution_name(f"event:{event.id}")
    if event.account != own_account_id:
        return reject(
            event, f"account: events are accepted only from account {own_account_id}", sns, settings
        )
    refused = [field for field in API_ONLY_FIELDS if field in event.detail]
    if refused:
        return reject(
            event,
            f"{refused[0]}: an event may only ask for a new account; adopting an account or choosing its OU "
            "goes through the API (POST /accounts/adopt, POST /accounts)",
            sns,
            settings,
        )
    try:
        request = OnboardingRequest(
            **AccountRequest.model_validate(event.detail).model_dump(),
            requested_by=f"event:{event.account}:{event.source}",
        )
        accepted = onboardings.submit(request, onboarding_id)
    except ValidationError as error:
        return reject(event, describe_problems(validation_problems(error)), sns, settings)
    except ApiError as error:
        return reject(
            event, f"{error.field + ': ' if error.field else ''}{error.message} ({error.code})", sns, settings
        )
    metrics.add_metric(name="OnboardingsStarted", unit="Count", value=1)
    return RequestOutcome(event_id=event.id, outcome="started", onboarding_id=accepted.onboarding_id)


def reject(event: AccountRequestedEvent, reason: str, sns: "SNSClient", settings: Settings) -> RequestOutcome:
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

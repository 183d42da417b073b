"""Start, describe, list and retry onboardings: Step Functions executions of the onboarding workflow."""

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from orgvend import aws
from orgvend.doors import check_email_domain, check_role_allowed, check_scope, check_settings
from orgvend.errors import InvalidOnboardingRequest, InvalidSettingsProfile, OutOfScope
from orgvend.models import OnboardingRequest
from orgvend.organizations import Scope, default_scope
from orgvend.refusals import BadRequest, Conflict, Unprocessable, out_of_scope
from orgvend.registry import Registry, default_registry
from orgvend.settings import Settings
from orgvend.workflows.executions import Executions, Runs
from orgvend.workflows.models import (
    OnboardingAccepted,
    OnboardingPage,
    OnboardingSummary,
    OnboardingView,
    RetryAccepted,
)

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


def execution_name(idempotency_key: str | None) -> str:
    """The onboarding's ID: derived from the Idempotency-Key (so a retry finds the same execution), else random."""
    if idempotency_key:
        return "k-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:48]
    return str(uuid.uuid4())


class Onboardings(Runs[OnboardingView, OnboardingSummary]):
    """The onboarding workflow as the API sees it."""

    def __init__(
        self,
        stepfunctions: "SFNClient",
        registry: Registry,
        state_machine_arn: str,
        scope: Scope,
        settings: Settings,
    ) -> None:
        super().__init__(
            Executions(stepfunctions, state_machine_arn, "onboarding"), OnboardingView, OnboardingSummary
        )
        self._registry = registry
        self._scope = scope
        self._settings = settings

    def refuse_registered_email(self, email: str, onboarding_id: str | None, account_id: str | None) -> None:
        """Answer 409 early unless the owner is this very onboarding (a retried request), or the account
        to adopt itself (adopted again).

        The workflow's atomic email guard stays the real protection; this is a courtesy.
        """
        owner = self._registry.email_owner(email)
        if (
            owner
            and owner.get("onboardingId") != onboarding_id
            and not (account_id and owner.get("accountId") == account_id)
        ):
            where = (
                f"account {owner['accountId']}"
                if owner.get("accountId")
                else f"onboarding {owner['onboardingId']}"
            )
            raise Conflict("EmailAlreadyRegistered", f"this email is already registered to {where}", "email")

    def check(self, request: OnboardingRequest) -> None:
        """RecordRequest's checks, answered before anything starts: role, email domain, scope, settings."""
        try:
            check_role_allowed(request, self._settings.roles)
        except InvalidOnboardingRequest as error:
            raise BadRequest("InvalidRoleName", str(error).removeprefix("roleName: "), "roleName") from None
        try:
            check_email_domain(request, self._settings.allowed_email_domains)
        except InvalidOnboardingRequest as error:
            raise Unprocessable(
                "EmailDomainNotAllowed", str(error).removeprefix("email: "), "email"
            ) from None
        if request.account_id or request.ou:
            try:
                check_scope(request, self._scope)
            except OutOfScope as error:
                raise out_of_scope(error) from None
        try:
            check_settings(request, self._registry)
        except InvalidSettingsProfile as error:
            # The first field named: a problem's path in the request (settings.passwordPolicy.maxPasswordAge).
            raise Unprocessable("InvalidSettings", str(error), next(iter(error.problems))) from None

    def submit(self, request: OnboardingRequest, onboarding_id: str) -> OnboardingAccepted:
        """What every way in (HTTP, EventBridge) checks before starting: the workflow's checks, email not taken."""
        self.check(request)
        self.refuse_registered_email(request.email, onboarding_id, request.account_id)
        return self.start(request, onboarding_id)

    def start(self, request: OnboardingRequest, onboarding_id: str) -> OnboardingAccepted:
        self._executions.start(onboarding_id, request.to_json())
        return OnboardingAccepted(onboarding_id=onboarding_id, links=self.links(onboarding_id))

    def _record(self, run_id: str) -> dict[str, Any]:
        return self._registry.get_onboarding(run_id) or {}

    def _records(self, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        return self._registry.onboardings(run_ids)

    def list(self, status: str | None, limit: int, next_token: str | None) -> OnboardingPage:
        items, following = self.summaries(status, limit, next_token)
        return OnboardingPage(items=items, next_token=following)

    def retry(self, onboarding_id: str) -> RetryAccepted:
        execution = self._executions.refuse_unless_retryable(onboarding_id)
        return RetryAccepted(
            onboarding_id=onboarding_id,
            redrive_date=self._executions.redrive(onboarding_id, execution),
            message="redriven: the workflow resumes at the step that failed; no second account is created",
            links=self.links(onboarding_id),
        )


def default_onboardings(settings: Settings) -> Onboardings:
    """The function's onboarding workflow (ONBOARD_STATE_MACHINE_ARN), in its scope."""
    return Onboardings(
        aws.client("stepfunctions"),
        default_registry(settings),
        settings.required(settings.onboard_state_machine_arn, "onboard_state_machine_arn"),
        default_scope(settings),
        settings,
    )

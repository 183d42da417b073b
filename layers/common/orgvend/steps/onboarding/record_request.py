"""RecordRequest: validate the request, resolve its defaults, claim its email.

It is the workflow's own door: whatever started the execution (the API, an event,
``aws stepfunctions start-execution``), nothing is written before the request has
passed every check the API makes: fields, allowed role, allowed email domain,
orgvend's managed scope for an account to adopt or an OU to place into, the settings
profile (named, and each override) the account will be set up with, and its monthly budget
(``monthlyBudgetUsd``: more than 0, cents at most, at most orgvend's ceiling) and who gets its alerts.
"""

from typing import Any

from pydantic import ValidationError

from orgvend.doors import check_email_domain, check_role_allowed, check_scope, check_settings_requested
from orgvend.errors import InvalidOnboardingRequest
from orgvend.models import (
    ExecutionContext,
    Model,
    Onboarding,
    OnboardingRequest,
    describe_problems,
    validation_problems,
)
from orgvend.organizations import Scope
from orgvend.registry import Registry


class RecordRequestInput(Model):
    request: dict[str, Any]
    execution: ExecutionContext


def resolve_request(
    request: OnboardingRequest, execution: ExecutionContext, default_role_name: str
) -> Onboarding:
    return Onboarding(
        onboarding_id=execution.name,
        execution_arn=execution.id,
        started_at=execution.start_time,
        mode="adopt" if request.account_id else "create",
        client=request.client,
        project=request.project,
        email=request.email,
        account_name=request.account_name or f"{request.client}-{request.project}",
        role_name=request.role_name or default_role_name,
        tags={**request.tags, "client": request.client, "project": request.project},
        iam_user_access_to_billing=request.iam_user_access_to_billing,
        billing=request.billing,
        account_id=request.account_id,
        ou=request.ou,
        # Adoption keeps the account's OU unless the request says otherwise; a new account is always placed.
        keep_ou=bool(request.account_id) and request.keep_ou is not False and request.ou is None,
        access=request.access,
        settings_profile=request.settings_profile,
        settings=request.settings,
        requested_by=request.requested_by,
        monthly_budget_usd=request.monthly_budget_usd,
        budget_alert_email=request.budget_alert_email,
    )


def parse_request(raw: dict[str, Any]) -> OnboardingRequest:
    try:
        return OnboardingRequest.model_validate(raw)
    except ValidationError as error:
        raise InvalidOnboardingRequest(describe_problems(validation_problems(error))) from None


def record_request(
    step_input: RecordRequestInput,
    registry: Registry,
    scope: Scope,
    allowed_role_names: tuple[str, ...],
    allowed_email_domains: tuple[str, ...],
) -> Onboarding:
    request = parse_request(step_input.request)
    check_role_allowed(request, allowed_role_names)
    check_email_domain(request, allowed_email_domains)
    check_scope(request, scope)
    check_settings_requested(request, registry)
    onboarding = resolve_request(request, step_input.execution, allowed_role_names[0])
    registry.open_onboarding(onboarding)
    return onboarding

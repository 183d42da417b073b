"""CheckAccountCreation: one poll of DescribeCreateAccountStatus."""

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orgvend.errors import AccountCreationFailed, AccountCreationTimedOut, InvalidOnboardingRequest
from orgvend.models import AccountStatus, Creation, CreationState, Model, Onboarding
from orgvend.observability import logger, metrics
from orgvend.organizations import raise_for_organizations_error
from orgvend.registry import Registry
from orgvend.registry.accounts import pending_record
from orgvend.semaphore import Semaphore

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient

FAILURE_EXPLANATIONS = {
    "ACCOUNT_LIMIT_EXCEEDED": "the organization has reached its account quota; ask AWS Support to raise it",
    "EMAIL_ALREADY_EXISTS": "another AWS account already uses this email address; choose another one",
    "INVALID_ADDRESS": "the management account's address is not valid; fix it in the billing console",
    "INVALID_EMAIL": "the email address is not valid",
    "CONCURRENT_ACCOUNT_MODIFICATION": "another change to the account was in progress; start the onboarding again",
    "INTERNAL_FAILURE": "AWS had an internal failure; try again later",
    "GOVCLOUD_ACCOUNT_ALREADY_EXISTS": "a GovCloud account with this email already exists",
    "MISSING_BUSINESS_VALIDATION": "the management account has not passed business validation",
    "FAILED_BUSINESS_VALIDATION": "the management account failed business validation",
    "PENDING_BUSINESS_VALIDATION": "the management account's business validation is still pending",
    "INVALID_IDENTITY_FOR_BUSINESS_VALIDATION": "the identity given for business validation is invalid",
    "UNKNOWN_BUSINESS_VALIDATION": "business validation failed for an unknown reason",
    "MISSING_PAYMENT_INSTRUMENT": "the management account has no valid payment method",
    "INVALID_PAYMENT_INSTRUMENT": "the management account's payment method is not valid",
    "UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED": "tags could not be applied with the resource policy",
}


class CheckAccountCreationInput(Model):
    onboarding: Onboarding
    creation: Creation
    timeout_seconds: int


def find_account_created_since(
    organizations: "OrganizationsClient", email: str, since: datetime
) -> str | None:
    """The ID of a member account with ``email`` that joined by creation after ``since``."""
    for page in organizations.get_paginator("list_accounts").paginate():
        for account in page["Accounts"]:
            if (
                account["Email"].lower() == email.lower()
                and account.get("JoinedMethod") == "CREATED"
                and account["JoinedTimestamp"] >= since
            ):
                return str(account["Id"])
    return None


def check_account_creation(
    step_input: CheckAccountCreationInput,
    organizations: "OrganizationsClient",
    registry: Registry,
    slots: Semaphore,
    now: datetime,
) -> Creation:
    onboarding, creation = step_input.onboarding, step_input.creation
    if creation.request_id is None:
        # CreateAccount gives every creation it leaves in progress its request ID; a hand-made input may not.
        raise InvalidOnboardingRequest("creation.requestId is missing: there is no account creation to check")
    try:
        status = organizations.describe_create_account_status(CreateAccountRequestId=creation.request_id)[
            "CreateAccountStatus"
        ]
    except ClientError as error:
        raise_for_organizations_error(error, "DescribeCreateAccountStatus")
    state = CreationState(status["State"])
    polls = creation.polls + 1
    account_id = status.get("AccountId")
    recovered = False

    if state is CreationState.FAILED:
        reason = status.get("FailureReason", "UNKNOWN")
        if reason == "EMAIL_ALREADY_EXISTS":
            # A retried CreateAccount whose first call succeeded unseen fails this
            # way; the account it made is ours and must not be lost.
            account_id = find_account_created_since(organizations, onboarding.email, onboarding.started_at)
            recovered = account_id is not None
        if not recovered:
            slots.release(onboarding.onboarding_id)
            metrics.add_metric(name="AccountCreationsFailed", unit="Count", value=1)
            explanation = FAILURE_EXPLANATIONS.get(
                reason, "unknown failure reason; see the Organizations console"
            )
            raise AccountCreationFailed(f"CreateAccount failed: {reason}: {explanation}")
        state = CreationState.SUCCEEDED

    if state is CreationState.SUCCEEDED:
        registry.save_account(pending_record(onboarding, str(account_id), AccountStatus.CREATING))
        slots.release(onboarding.onboarding_id)  # the creation is no longer in progress
        metrics.add_metric(name="AccountsCreated", unit="Count", value=1)
        logger.info(
            "Account created", extra={"accountId": account_id, "polls": polls, "recovered": recovered}
        )
        return Creation(
            request_id=creation.request_id,
            state=state,
            account_id=account_id,
            polls=polls,
            recovered=recovered,
        )

    # From when CreateAccount was requested: time spent waiting for a slot does not count.
    requested = status.get("RequestedTimestamp")
    since = requested if isinstance(requested, datetime) else onboarding.started_at
    waited = (now - since).total_seconds()
    if waited > step_input.timeout_seconds:
        slots.release(onboarding.onboarding_id)
        raise AccountCreationTimedOut(
            f"CreateAccount request {creation.request_id} still IN_PROGRESS after {int(waited)} s "
            f"(timeout {step_input.timeout_seconds} s); check the Organizations console"
        )
    return Creation(request_id=creation.request_id, state=state, polls=polls)

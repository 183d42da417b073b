"""CreateAccount: ask Organizations for a new member account, once per onboarding."""

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orgvend.errors import EmailAlreadyRegistered, OrganizationsRejected
from orgvend.models import Creation, CreationState, Model, Onboarding
from orgvend.observability import logger, metrics
from orgvend.organizations import managed_tag, raise_for_organizations_error
from orgvend.registry import Registry
from orgvend.semaphore import Semaphore
from orgvend.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_organizations.type_defs import TagTypeDef


class CreateAccountInput(Model):
    onboarding: Onboarding


def create_account(
    step_input: CreateAccountInput,
    organizations: "OrganizationsClient",
    registry: Registry,
    slots: Semaphore,
    settings: Settings,
) -> Creation:
    onboarding = step_input.onboarding
    stored = registry.get_onboarding(onboarding.onboarding_id) or {}
    if stored.get("createRequestId"):
        # A retry or redrive of this step: the account was already requested.
        logger.info("CreateAccount already requested", extra={"requestId": stored["createRequestId"]})
        return Creation(request_id=stored["createRequestId"], state=CreationState.IN_PROGRESS)
    # AWS allows only a few creations in progress: wait for a slot rather than burn retries.
    if not slots.acquire(
        onboarding.onboarding_id,
        settings.required(settings.max_creations_in_progress, "max_creations_in_progress"),
        settings.creation_lease,
    ):
        metrics.add_metric(name="CreationSlotWaits", unit="Count", value=1)
        return Creation(state=CreationState.WAITING_FOR_SLOT)
    try:
        # The email is this onboarding's (a redrive after a failure that freed it claims it back).
        registry.reclaim_email(onboarding)
    except EmailAlreadyRegistered:
        slots.release(onboarding.onboarding_id)  # nothing is in progress
        raise
    tags: list[TagTypeDef] = [{"Key": key, "Value": value} for key, value in sorted(onboarding.tags.items())]
    try:
        status = organizations.create_account(
            Email=onboarding.email,
            AccountName=onboarding.account_name,
            RoleName=onboarding.role_name,
            IamUserAccessToBilling=onboarding.iam_user_access_to_billing,
            # managed-by: the tag IAM holds orgvend's account-changing grants to (orgvend.organizations); the
            # CreateAccount grant itself requires it (aws:RequestTag).
            Tags=[*tags, managed_tag()],
        )["CreateAccountStatus"]
    except ClientError as error:
        try:
            raise_for_organizations_error(error, "CreateAccount")
        except OrganizationsRejected:
            slots.release(onboarding.onboarding_id)  # nothing is in progress
            raise
    request_id = registry.remember_create_request(onboarding.onboarding_id, status["Id"])
    metrics.add_metric(name="AccountCreationsRequested", unit="Count", value=1)
    logger.info("CreateAccount requested", extra={"requestId": request_id})
    return Creation(request_id=request_id, state=CreationState.IN_PROGRESS)

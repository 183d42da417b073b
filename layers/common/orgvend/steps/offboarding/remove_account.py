"""RemoveAccount: Organizations RemoveAccountFromOrganization, with AWS's refusals made actionable.

AWS checks at removal what only the account itself can show (a payment method,
a verified phone, an accepted customer agreement, a support plan): each refusal
ends the offboarding with what to do, and the registry entry stays as it was.
An account that is already gone counts as removed (a retried step, or a
removal made outside orgvend).
"""

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orgvend.aws import error_code, error_reason
from orgvend.errors import AccountRemovalRefused
from orgvend.models import Model, Offboarding, Removal
from orgvend.observability import logger, metrics
from orgvend.organizations import raise_for_organizations_error

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient

# What the account's new owner (or the agency) must do, by Organizations' refusal reason.
STANDALONE_STEPS = (
    "its owner signs in as root (password reset on {email}) and completes the stand-alone sign-up: "
    "contact details, payment method, phone verification, customer agreement, support plan"
)
REFUSALS = {
    "MEMBER_ACCOUNT_PAYMENT_INSTRUMENT_REQUIRED": "the account has no payment method of its own; "
    + STANDALONE_STEPS,
    "ACCOUNT_CANNOT_LEAVE_WITHOUT_PHONE_VERIFICATION": "the account's phone is not verified; "
    + STANDALONE_STEPS,
    "ACCOUNT_CANNOT_LEAVE_WITHOUT_EULA": "the account has not accepted the AWS Customer Agreement; "
    + STANDALONE_STEPS,
    "ACCOUNT_CANNOT_LEAVE_ORGANIZATION": "the account lacks what a stand-alone account needs; "
    + STANDALONE_STEPS,
    "WAIT_PERIOD_ACTIVE": "the account was created less than 4 days ago; wait until it is 4 days old",
    "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG": "the account is a delegated administrator; deregister "
    "it (aws organizations deregister-delegated-administrator)",
    "MASTER_ACCOUNT_MISSING_CONTACT_INFO": "the management account has no contact information; add it in "
    "its Account settings",
    "ACCOUNT_CREATION_NOT_COMPLETE": "the account's creation has not finished yet",
}


class RemoveAccountInput(Model):
    offboarding: Offboarding


def remove_account(step_input: RemoveAccountInput, organizations: "OrganizationsClient") -> Removal:
    offboarding = step_input.offboarding
    account_id = offboarding.account_id
    try:
        organizations.remove_account_from_organization(AccountId=account_id)
    except ClientError as error:
        code, reason = error_code(error), error_reason(error)
        if code == "AccountNotFoundException":
            logger.info("Account already left the organization", extra={"accountId": account_id})
            return Removal(removed=False)
        if code == "ConstraintViolationException" and reason in REFUSALS:
            metrics.add_metric(name="AccountRemovalsRefused", unit="Count", value=1)
            raise AccountRemovalRefused(
                f"AWS refused to remove account {account_id} ({reason}): "
                + REFUSALS[reason].format(email=offboarding.email)
                + ". Then retry the offboarding; until then the account stays in the organization "
                "and registered as it was"
            ) from None
        if code == "MasterCannotLeaveOrganizationException":
            raise AccountRemovalRefused(
                f"account {account_id} is the management account, which cannot leave the organization"
            ) from None
        raise_for_organizations_error(error, "RemoveAccountFromOrganization")
    logger.info("Account removed from the organization", extra={"accountId": account_id})
    return Removal(removed=True)

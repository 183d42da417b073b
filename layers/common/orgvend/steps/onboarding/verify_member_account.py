"""VerifyMemberAccount: an account to adopt must be an active member inside orgvend's scope, never the
management account."""

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orgvend.aws import error_code
from orgvend.errors import AccountNotAdoptable
from orgvend.models import ADOPTABLE_STATUSES, AccountStatus, Creation, CreationState, Model, Onboarding
from orgvend.organizations import Scope, raise_for_organizations_error
from orgvend.registry import Registry
from orgvend.registry.accounts import pending_record

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient


class VerifyMemberAccountInput(Model):
    onboarding: Onboarding


def refuse_unmanaged_entry(registry: Registry, account_id: str, onboarding_id: str) -> None:
    """An account the registry knows is adopted only from an orgvend-managed state (or by its own onboarding)."""
    record = registry.get_account(account_id)
    if record and record.onboarding_id != onboarding_id and record.status not in ADOPTABLE_STATUSES:
        raise AccountNotAdoptable(
            f"account {account_id} is already registered as {record.status.value}; orgvend adopts only "
            f"unregistered accounts or accounts waiting for their access role"
        )


def verify_member_account(
    step_input: VerifyMemberAccountInput,
    organizations: "OrganizationsClient",
    registry: Registry,
    scope: Scope,
) -> Creation:
    onboarding = step_input.onboarding
    account_id = str(onboarding.account_id)
    try:
        if account_id == scope.management_account_id:
            raise AccountNotAdoptable(
                f"account {account_id} is the management account; orgvend never adopts it"
            )
        scope.require_account(account_id)
        account = organizations.describe_account(AccountId=account_id)["Account"]
    except ClientError as error:
        if error_code(error) == "AccountNotFoundException":
            raise AccountNotAdoptable(f"account {account_id} is not a member of this organization") from None
        raise_for_organizations_error(error, "DescribeAccount")
    if account.get("Status") != "ACTIVE":
        raise AccountNotAdoptable(f"account {account_id} is {account.get('Status')}, not ACTIVE")
    if account["Email"].lower() != onboarding.email.lower():
        raise AccountNotAdoptable(
            f"account {account_id} has a different email address from the one in the request"
        )
    refuse_unmanaged_entry(registry, account_id, onboarding.onboarding_id)
    registry.save_account(pending_record(onboarding, account_id, AccountStatus.CREATING))
    return Creation(state=CreationState.SUCCEEDED, account_id=account_id)

"""VerifyMemberAccount: an account to adopt must be an active member, never the management account."""

from typing import Any

from botocore.exceptions import ClientError

from orgvend.aws import error_code
from orgvend.errors import AccountNotAdoptable
from orgvend.models import AccountStatus, Creation, CreationState, Model, Onboarding
from orgvend.registry import Registry
from orgvend.steps.check_account_creation import pending_record
from orgvend.steps.create_account import raise_for_organizations_error


class VerifyMemberAccountInput(Model):
    onboarding: Onboarding


# Registry states in which orgvend may (again) take an account in hand.
ADOPTABLE_STATES = frozenset({AccountStatus.NEEDS_ROLE})


def refuse_unmanaged_entry(registry: Registry, account_id: str, onboarding_id: str) -> None:
    """An account the registry knows is adopted only from an orgvend-managed state (or by its own onboarding)."""
    record = registry.get_account(account_id)
    if record and record.onboarding_id != onboarding_id and record.status not in ADOPTABLE_STATES:
        raise AccountNotAdoptable(
            f"account {account_id} is already registered as {record.status.value}; orgvend adopts only "
            f"unregistered accounts or accounts waiting for their access role"
        )


def verify_member_account(
    step_input: VerifyMemberAccountInput, organizations: Any, registry: Registry
) -> Creation:
    onboarding = step_input.onboarding
    account_id = str(onboarding.account_id)
    try:
        management_account_id = organizations.describe_organization()["Organization"]["MasterAccountId"]
        if account_id == management_account_id:
            raise AccountNotAdoptable(
                f"account {account_id} is the management account; orgvend never adopts it"
            )
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

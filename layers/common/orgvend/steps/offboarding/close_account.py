"""CloseAccount: Organizations CloseAccount, within its quotas, and the registry entry CLOSING.

Two quotas apply: a few closures in progress at once (CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED:
the workflow waits and retries) and, per rolling 30 days, the greater of 250 or 20 % of
the member accounts, at most 1,000 (CLOSE_ACCOUNT_QUOTA_EXCEEDED: only time fixes it,
so the offboarding ends saying so). A retried step finds the account already
closing and goes on.
"""

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orgvend.aws import error_code, error_reason
from orgvend.errors import AccountClosureRefused, OrganizationsBusy
from orgvend.models import AccountStatus, Closure, ClosureState, Model, Offboarding
from orgvend.observability import logger, metrics
from orgvend.organizations import raise_for_organizations_error
from orgvend.registry import Registry

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient

QUOTA_EXCEEDED = (
    "AWS's account closure quota is used up: an organization may close the greater of 250 or 20% of its "
    "member accounts (at most 1,000) within a rolling 30 days. Retry the offboarding when older closures "
    "leave the 30-day window, or ask AWS Support to raise the quota; account {account_id} stays ACTIVE"
)


class CloseAccountInput(Model):
    offboarding: Offboarding


def close_account(
    step_input: CloseAccountInput, organizations: "OrganizationsClient", registry: Registry, now: datetime
) -> Closure:
    offboarding = step_input.offboarding
    account_id = offboarding.account_id
    try:
        if organizations.describe_organization()["Organization"]["MasterAccountId"] == account_id:
            raise AccountClosureRefused(
                f"account {account_id} is the management account; orgvend never closes it"
            )
        organizations.close_account(AccountId=account_id)
    except ClientError as error:
        code, reason = error_code(error), error_reason(error)
        if code == "AccountAlreadyClosedException":
            logger.info("Account already closing or closed", extra={"accountId": account_id})
        elif code == "ConstraintViolationException" and reason == "CLOSE_ACCOUNT_QUOTA_EXCEEDED":
            metrics.add_metric(name="AccountClosuresRefused", unit="Count", value=1)
            raise AccountClosureRefused(QUOTA_EXCEEDED.format(account_id=account_id)) from None
        elif code == "ConstraintViolationException" and reason == "CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED":
            metrics.add_metric(name="OrganizationsBusy", unit="Count", value=1)
            raise OrganizationsBusy(
                "CloseAccount: too many closures in progress; waiting for one to end"
            ) from None
        elif code == "ConstraintViolationException" and reason == "CANNOT_CLOSE_MANAGEMENT_ACCOUNT":
            raise AccountClosureRefused(f"account {account_id} is the management account") from None
        elif code == "AccountNotFoundException":
            logger.info("Account no longer in the organization", extra={"accountId": account_id})
            return Closure(state=ClosureState.GONE, requested_at=now)
        else:
            raise_for_organizations_error(error, "CloseAccount")
    record = registry.get_account(account_id)
    if record and record.status is not AccountStatus.CLOSING:
        registry.offboarded(
            account_id, offboarding.offboarding_id, status=AccountStatus.CLOSING, at=now, finished=False
        )
    logger.info("Account closure requested", extra={"accountId": account_id})
    return Closure(state=ClosureState.PENDING_CLOSURE, requested_at=now)

"""CheckDetachPreconditions: what AWS enforces before RemoveAccountFromOrganization, checked first.

Each unmet precondition is named in one error, with what to do about it, so an
operator fixes them all at once instead of meeting them one by one as AWS
refusals. (AWS checks more at removal time, such as the account's payment
method and phone verification, which only the account itself can see:
RemoveAccount reports those.)
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orgvend.aws import error_code
from orgvend.errors import DetachPreconditionsUnmet
from orgvend.models import Model, Offboarding
from orgvend.observability import logger
from orgvend.organizations import raise_for_organizations_error

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient

# AWS: an account created in the organization may leave it only 4 days after its creation (WAIT_PERIOD_ACTIVE).
CREATED_ACCOUNT_MINIMUM_AGE = timedelta(days=4)


class CheckDetachPreconditionsInput(Model):
    offboarding: Offboarding


class DetachPreconditions(Model):
    """All met; ``$.preconditions`` in the workflow."""

    member: bool
    joined_at: datetime | None = None
    joined_method: str | None = None


def delegated_services(organizations: "OrganizationsClient", account_id: str) -> list[str]:
    """The service principals the account is a delegated administrator for."""
    try:
        paginator = organizations.get_paginator("list_delegated_services_for_account")
        return [
            str(service["ServicePrincipal"])
            for page in paginator.paginate(AccountId=account_id)
            for service in page.get("DelegatedServices", [])
        ]
    except ClientError as error:
        if error_code(error) == "AccountNotRegisteredException":
            return []  # Organizations' way of saying "not a delegated administrator"
        raise


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} days {hours % 24} hours" if hours >= 24 else f"{hours} hours"


def check_detach_preconditions(
    step_input: CheckDetachPreconditionsInput, organizations: "OrganizationsClient", now: datetime
) -> DetachPreconditions:
    offboarding = step_input.offboarding
    account_id = offboarding.account_id
    unmet: list[str] = []
    try:
        management_account_id = organizations.describe_organization()["Organization"]["MasterAccountId"]
        if account_id == management_account_id:
            unmet.append("it is the organization's management account, which can never be removed from it")
        try:
            member = organizations.describe_account(AccountId=account_id)["Account"]
        except ClientError as error:
            if error_code(error) != "AccountNotFoundException":
                raise
            # Already gone (removed outside orgvend): RemoveAccount confirms and the registry follows.
            logger.info("Account already left the organization", extra={"accountId": account_id})
            return DetachPreconditions(member=False)
        if member.get("Status") != "ACTIVE":
            unmet.append(f"its status is {member.get('Status')}; only an ACTIVE account can be removed")
        joined_at: datetime = member["JoinedTimestamp"]
        age = now - joined_at
        if member.get("JoinedMethod") == "CREATED" and age < CREATED_ACCOUNT_MINIMUM_AGE:
            allowed_from = joined_at + CREATED_ACCOUNT_MINIMUM_AGE
            unmet.append(
                f"it was created {_age(age)} ago; AWS lets an account created in the organization leave "
                f"only 4 days after its creation, from {allowed_from:%Y-%m-%d %H:%M} UTC"
            )
        services = delegated_services(organizations, account_id)
        if services:
            unmet.append(
                f"it is a delegated administrator for {', '.join(sorted(services))}; deregister it first "
                f"(aws organizations deregister-delegated-administrator --account-id {account_id} "
                f"--service-principal <principal>)"
            )
    except ClientError as error:
        raise_for_organizations_error(error, "checking the detach preconditions")
    if unmet:
        listed = "; ".join(f"({number}) {problem}" for number, problem in enumerate(unmet, start=1))
        raise DetachPreconditionsUnmet(f"account {account_id} cannot be detached: {listed}")
    return DetachPreconditions(
        member=True, joined_at=joined_at, joined_method=str(member.get("JoinedMethod") or "") or None
    )

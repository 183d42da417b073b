"""ClaimAccount: an adopted account gets orgvend's managed-by tag (and its client and project tags).

Every grant that changes an account (move, tag, close, remove) is held by IAM to
accounts tagged ``managed-by=orgvend``. An account created by orgvend carries the
tag from its creation; one made outside orgvend is claimed here, once it is known
to be an active member inside the scope (VerifyMemberAccount). Tagging an account
that is not tagged yet is the one change no tag condition can hold, so it lives in
this step alone: its role may write only these three tag keys, and it checks the
scope again right before it writes. Tagging is idempotent: a retry changes nothing.
"""

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orgvend.models import Model, Onboarding
from orgvend.observability import logger
from orgvend.organizations import (
    MANAGED_TAG_KEY,
    MANAGED_TAG_VALUE,
    Scope,
    account_tags,
    raise_for_organizations_error,
)

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient


class ClaimAccountInput(Model):
    onboarding: Onboarding
    account_id: str


class Claim(Model):
    tags: dict[str, str]
    changed: bool


def claim_tags(onboarding: Onboarding) -> dict[str, str]:
    return {MANAGED_TAG_KEY: MANAGED_TAG_VALUE, "client": onboarding.client, "project": onboarding.project}


def claim_account(step_input: ClaimAccountInput, organizations: "OrganizationsClient", scope: Scope) -> Claim:
    account_id = step_input.account_id
    wanted = claim_tags(step_input.onboarding)
    try:
        scope.require_account(account_id)
        current = account_tags(organizations, account_id)
        missing = {key: value for key, value in wanted.items() if current.get(key) != value}
        if missing:
            # managed-by always goes with the others: the role may tag only with it in the request.
            missing[MANAGED_TAG_KEY] = MANAGED_TAG_VALUE
            organizations.tag_resource(
                ResourceId=account_id, Tags=[{"Key": key, "Value": value} for key, value in missing.items()]
            )
    except ClientError as error:
        raise_for_organizations_error(error, "ClaimAccount")
    logger.info("Account claimed", extra={"accountId": account_id, "changed": bool(missing)})
    return Claim(tags=wanted, changed=bool(missing))

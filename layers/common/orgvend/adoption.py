"""AdoptAccount: a member account in orgvend's scope that orgvend does not manage goes through the workflow
in adopt mode.

The workflow (from VerifyMemberAccount on) claims it, baselines it, registers it
and tells the operators; the account stays in its OU. The execution is named after
the account (and, for an account moved back into the scope, after the moment it was
marked out of scope), so however often an adoption is asked for, it runs once.
Callers have checked the scope; the workflow checks it again.
"""

import re
from typing import TYPE_CHECKING, Literal

from botocore.exceptions import ClientError

from orgvend import rules
from orgvend.access_role import DENIED, access_role_arn, assume_role_by_any, routes_to
from orgvend.aws import error_code
from orgvend.models import ADOPTABLE_STATUSES, AccountRecord, AccountStatus, Model, OnboardingRequest
from orgvend.organizations import account_tags
from orgvend.registry import Registry
from orgvend.workflows.onboardings import Onboardings

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_organizations.type_defs import AccountTypeDef
    from mypy_boto3_sts import STSClient

UNASSIGNED_CLIENT = "unassigned"


class Adoption(Model):
    account_id: str
    outcome: Literal["started", "registered", "owned-by-onboarding", "not-active", "needs-role"]
    onboarding_id: str | None = None


def slug(text: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:24].strip("-")
    return cleaned or "account"


def adoption_request(
    member: "AccountTypeDef", tags: dict[str, str], requested_by: str = "orgvend"
) -> OnboardingRequest:
    """Client and project from the account's tags when they are valid, else sensible placeholders."""
    client = tags.get("client", "")
    project = tags.get("project", "")
    name = str(member.get("Name", ""))
    other_tags = {
        key: value
        for key, value in tags.items()
        if rules.tag_key_problem(key) is None and rules.tag_value_problem(value) is None
    }
    return OnboardingRequest(
        client=client if rules.slug_problem(client) is None else UNASSIGNED_CLIENT,
        project=project if rules.slug_problem(project) is None else slug(name or member["Id"]),
        email=member["Email"],
        account_name=name if rules.account_name_problem(name) is None else None,
        account_id=member["Id"],
        keep_ou=True,
        tags=dict(list(other_tags.items())[: rules.MAX_TAGS_PER_ACCOUNT - len(rules.RESERVED_TAG_KEYS)]),
        requested_by=requested_by,
    )


def readoption_request(record: AccountRecord, requested_by: str) -> OnboardingRequest:
    """An account back in the scope is adopted again as the registry knew it."""
    other_tags = {
        key: value
        for key, value in record.tags.items()
        if rules.tag_key_problem(key) is None and rules.tag_value_problem(value) is None
    }
    return OnboardingRequest(
        client=record.client,
        project=record.project,
        email=record.email,
        account_name=record.account_name if rules.account_name_problem(record.account_name) is None else None,
        role_name=record.role_name,
        account_id=record.account_id,
        keep_ou=True,
        tags=dict(list(other_tags.items())[: rules.MAX_TAGS_PER_ACCOUNT - len(rules.RESERVED_TAG_KEYS)]),
        billing=record.billing_mode,
        requested_by=requested_by,
    )


def adoption_id(account_id: str, record: AccountRecord | None = None) -> str:
    """One adoption per account, and one more each time it comes back into the scope.

    An entry that an onboarding already registered (then out of the scope, perhaps waiting for its role
    since) is adopted under a name of its own: the moment it was marked, so that however often the
    adoption is asked for before it runs, it runs once, and never reuses the first adoption's name.
    """
    if record is not None and (record.status is AccountStatus.OUT_OF_SCOPE or record.onboarding_id):
        return f"adopt-{account_id}-{int(record.updated_at.timestamp())}"
    return f"adopt-{account_id}"


def access_role_exists(
    sts: "STSClient", account_id: str, role_name: str, through: "STSClient | None" = None
) -> bool:
    """Whether orgvend can assume the access role in ``account_id`` (``through``: as ``assume_access_role``)."""
    partition = sts.get_caller_identity()["Arn"].split(":")[1]
    try:
        assume_role_by_any(
            routes_to(sts, through),
            access_role_arn(partition, account_id, role_name),
            "orgvend-role-check",
        )
    except ClientError as error:
        if error_code(error) in DENIED:
            return False
        raise
    return True


def adopt_account(
    member: "AccountTypeDef",
    organizations: "OrganizationsClient",
    registry: Registry,
    onboardings: Onboardings,
    requested_by: str,
) -> Adoption:
    """Start adopting ``member`` (an item of ListAccounts[ForParent] / DescribeAccount, inside the scope)
    unless orgvend already manages it."""
    account_id = str(member["Id"])
    if member.get("Status") != "ACTIVE":
        return Adoption(account_id=account_id, outcome="not-active")
    record = registry.get_account(account_id)
    if record and record.status not in ADOPTABLE_STATUSES:
        return Adoption(account_id=account_id, outcome="registered")
    onboarding_id = adoption_id(account_id, record)
    owner = registry.email_owner(member["Email"])
    if owner and owner.get("onboardingId") != onboarding_id and owner.get("accountId") != account_id:
        # An onboarding of orgvend's own holds this address: it will register the account.
        return Adoption(
            account_id=account_id, outcome="owned-by-onboarding", onboarding_id=owner.get("onboardingId")
        )
    if record is not None and record.status is AccountStatus.OUT_OF_SCOPE:
        request = readoption_request(record, requested_by)
    else:
        request = adoption_request(member, account_tags(organizations, account_id), requested_by)
    accepted = onboardings.start(request, onboarding_id)
    return Adoption(account_id=account_id, outcome="started", onboarding_id=accepted.onboarding_id)

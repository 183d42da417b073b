"""SyncAccount: make an account's registry entry match Organizations (OU, tags, client/project, status).

Reads the truth from Organizations instead of trusting an event's payload, so
events that come late, twice or out of order all end in the same state.
"""

from typing import Any

from botocore.exceptions import ClientError

from orgvend import rules
from orgvend.aws import error_code
from orgvend.models import AccountRecord, AccountStatus
from orgvend.registry import Registry, now

# Organizations' account status → the registry's, for accounts orgvend knows.
CLOSURE_STATUSES = {"PENDING_CLOSURE": AccountStatus.CLOSING, "SUSPENDED": AccountStatus.CLOSED}
FINAL_STATUSES = frozenset({AccountStatus.CLOSED, AccountStatus.DETACHED})


def member_tags(organizations: Any, account_id: str) -> dict[str, str]:
    paginator = organizations.get_paginator("list_tags_for_resource")
    return {
        tag["Key"]: tag["Value"] for page in paginator.paginate(ResourceId=account_id) for tag in page["Tags"]
    }


def status_after_leaving(record: AccountRecord) -> AccountStatus:
    """An account that is gone from the organization: closed if it was closing, else handed over."""
    return (
        AccountStatus.CLOSED
        if record.status in (AccountStatus.CLOSING, AccountStatus.CLOSED)
        else AccountStatus.DETACHED
    )


def sync_account(record: AccountRecord, organizations: Any, registry: Registry) -> list[str]:
    """Update ``record`` from Organizations; returns the names of the fields that changed."""
    changes: dict[str, Any] = {}
    try:
        member = organizations.describe_account(AccountId=record.account_id)["Account"]
    except ClientError as error:
        if error_code(error) != "AccountNotFoundException":
            raise
        member = None
    if member is None:
        changes["status"] = status_after_leaving(record)
    else:
        status = CLOSURE_STATUSES.get(str(member.get("Status")))
        if status:
            changes["status"] = status
        parents = organizations.list_parents(ChildId=record.account_id)["Parents"]
        if parents:
            changes["ou_id"] = parents[0]["Id"]
        tags = member_tags(organizations, record.account_id)
        changes["tags"] = tags
        for field in ("client", "project"):
            # The client and project tags move the account in the registry (when they are valid slugs).
            if tags.get(field) and rules.slug_problem(tags[field]) is None:
                changes[field] = tags[field]
    changed = [field for field, value in changes.items() if getattr(record, field) != value]
    if changed:
        registry.update_account(record.model_copy(update={**changes, "updated_at": now()}))
    return changed

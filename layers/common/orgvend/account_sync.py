"""SyncAccount: make an account's registry entry match Organizations (OU, tags, client/project, status).

Reads the truth from Organizations instead of trusting an event's payload, so
events that come late, twice or out of order all end in the same state. The
entry is changed through ``Registry.update_account``: read again at the moment of
the write, so a lock, a root confirmation or a status written meanwhile survives.
"""

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orgvend import rules
from orgvend.aws import error_code
from orgvend.models import AccountRecord, AccountStatus
from orgvend.organizations import account_tags
from orgvend.registry import Registry

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_organizations.type_defs import AccountTypeDef

# Organizations' account status → the registry's, for accounts orgvend knows.
CLOSURE_STATUSES = {"PENDING_CLOSURE": AccountStatus.CLOSING, "SUSPENDED": AccountStatus.CLOSED}
FINAL_STATUSES = frozenset({AccountStatus.CLOSED, AccountStatus.DETACHED})
# Entries the onboarding workflow still owns: reactions leave them to it (a new account is at the
# root, outside the scope, until PlaceAccount moves it in).
IN_FLIGHT = frozenset({AccountStatus.CREATING})


def status_after_leaving(record: AccountRecord) -> AccountStatus:
    """An account that is gone from the organization: closed if it was closing, else handed over."""
    return (
        AccountStatus.CLOSED
        if record.status in (AccountStatus.CLOSING, AccountStatus.CLOSED)
        else AccountStatus.DETACHED
    )


def gone(record: AccountRecord) -> AccountRecord | None:
    """The entry of an account that left the organization (None: already final, or in flight)."""
    if record.status in FINAL_STATUSES or record.status in IN_FLIGHT:
        return None
    return record.changed(status=status_after_leaving(record))


def out_of_scope(record: AccountRecord) -> AccountRecord | None:
    """The entry of a member moved out of orgvend's scope: kept, marked, nothing more done to it."""
    if (
        record.status in FINAL_STATUSES
        or record.status in IN_FLIGHT
        or record.status is AccountStatus.OUT_OF_SCOPE
    ):
        return None
    return record.changed(status=AccountStatus.OUT_OF_SCOPE)


def member_changes(member: "AccountTypeDef", parent_id: str | None, tags: dict[str, str]) -> dict[str, Any]:
    """What Organizations says of an account in the scope, as registry fields."""
    changes: dict[str, Any] = {"tags": tags}
    status = CLOSURE_STATUSES.get(str(member.get("Status")))
    if status:
        changes["status"] = status
    if parent_id:
        changes["ou_id"] = parent_id
    for field in ("client", "project"):
        # The client and project tags move the account in the registry (when they are valid slugs).
        if tags.get(field) and rules.slug_problem(tags[field]) is None:
            changes[field] = tags[field]
    return changes


def sync_account(
    record: AccountRecord, organizations: "OrganizationsClient", registry: Registry, parent_id: str | None
) -> list[str]:
    """Update the entry of an account in the scope from Organizations; the names of the fields that changed.

    ``parent_id``: the account's OU as the scope check found it (None: it is not a member any more).
    """
    member = None
    if parent_id is not None:
        try:
            member = organizations.describe_account(AccountId=record.account_id)["Account"]
        except ClientError as error:
            if error_code(error) != "AccountNotFoundException":
                raise
    if member is None:
        written = registry.update_account(record.account_id, gone)
        return ["status"] if written and written.status != record.status else []
    changes = member_changes(member, parent_id, account_tags(organizations, record.account_id))
    changed: list[str] = []

    def apply(current: AccountRecord) -> AccountRecord | None:
        changed[:] = [field for field, value in changes.items() if getattr(current, field) != value]
        if not changed:
            return None
        return current.changed(**changes)

    registry.update_account(record.account_id, apply)
    return changed

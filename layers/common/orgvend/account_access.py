"""People's access kept true for a registered account, by the reactions (FollowOrganization after a
client or project change, ReconcileRegistry on its schedule).

The workflow's steps call orgvend.access directly; the reactions share this: keep the account's
assignments what the access rules say for the client and project the registry entry has now (an
assignment removed by hand is made again, the old client's are removed when the client changed),
record the result on the entry, and never raise for Identity Center's failures (a reaction's retry
would not see the change again; the next reconciliation does it).
"""

from dataclasses import dataclass

from orgvend.access.assignments import AccessSetup, keep_access, unexpected_assignments
from orgvend.access.identity_center import IdentityCenter
from orgvend.errors import AccessAssignmentFailed, AccessNotReady, IdentityCenterBusy
from orgvend.models import OFFBOARDABLE_STATUSES, AccountAccess, AccountRecord
from orgvend.observability import logger, metrics
from orgvend.registry import Registry

ACCESS_ERRORS = (AccessAssignmentFailed, AccessNotReady, IdentityCenterBusy)


@dataclass(frozen=True)
class AccessUpkeep:
    """Identity Center and the stack's access setup, for the reactions (both or neither configured)."""

    center: IdentityCenter
    setup: AccessSetup


@dataclass(frozen=True)
class KeptAccess:
    """What keeping one account's access did: the access now (None when it failed), or why it failed."""

    access: AccountAccess | None
    failure: str | None = None

    @property
    def created(self) -> int:
        return self.access.created if self.access else 0

    @property
    def removed(self) -> int:
        return self.access.removed if self.access else 0

    def describe(self) -> str:
        """For a reaction's detail: what changed, or why nothing could."""
        if self.access is None:
            return f"access not kept ({self.failure}); the reconciliation tries again"
        parts = [f"access: {self.created} created, {self.removed} removed"]
        if self.access.missing_groups:
            parts.append(f"missing groups {', '.join(self.access.missing_groups)}")
        return "; ".join(parts)


def _differs(recorded: AccountAccess | None, access: AccountAccess) -> bool:
    if recorded is None:
        return True
    return (
        access.created > 0
        or access.removed > 0
        or recorded.assignments != access.assignments
        or recorded.missing_groups != access.missing_groups
        or recorded.configured != access.configured
        or recorded.portal_url != access.portal_url
    )


def keep_entry_access(upkeep: AccessUpkeep, registry: Registry, record: AccountRecord) -> KeptAccess:
    """Keep the account's assignments what the rules say for its entry's client and project; record it."""
    try:
        access = keep_access(
            upkeep.center,
            upkeep.setup,
            account_id=record.account_id,
            client=record.client,
            project=record.project,
            requested=[],
            recorded=record.access,
        )
    except ACCESS_ERRORS as error:
        metrics.add_metric(name="AccessKeepingFailed", unit="Count", value=1)
        logger.warning(
            "People's access could not be kept",
            extra={"accountId": record.account_id, "error": type(error).__name__, "reason": str(error)},
        )
        return KeptAccess(access=None, failure=f"{type(error).__name__}: {error}")
    if _differs(record.access, access):
        registry.update_account(record.account_id, lambda current: current.changed(access=access))
    if access.created or access.removed:
        metrics.add_metric(name="AccessAssignmentsCreated", unit="Count", value=access.created)
        metrics.add_metric(name="AccessAssignmentsRemoved", unit="Count", value=access.removed)
        logger.info(
            "People's access kept",
            extra={
                "accountId": record.account_id,
                "assignmentsCreated": access.created,
                "assignmentsRemoved": access.removed,
            },
        )
    return KeptAccess(access=access)


def entry_unexpected_access(upkeep: AccessUpkeep, record: AccountRecord) -> list[str]:
    """Assignments on orgvend's permission sets that orgvend did not make: reported, never removed."""
    try:
        return unexpected_assignments(upkeep.center, record.account_id, record.access)
    except ACCESS_ERRORS as error:
        logger.warning(
            "Unexpected assignments could not be listed",
            extra={"accountId": record.account_id, "error": type(error).__name__, "reason": str(error)},
        )
        return []


def access_upkeep(center: IdentityCenter | None, setup: AccessSetup | None) -> AccessUpkeep | None:
    if center is None or setup is None:
        return None
    return AccessUpkeep(center=center, setup=setup)


def restore_offboarded_access(upkeep: AccessUpkeep, registry: Registry, account_id: str) -> KeptAccess | None:
    """A failed offboarding whose account stays (a refused removal or closure): the assignments RemoveAccess
    took away are made again, so a refused offboarding keeps people's access. None: nothing to restore."""
    record = registry.get_account(account_id)
    if (
        record is None
        or record.status not in OFFBOARDABLE_STATUSES
        or record.access is None
        or not record.access.offboarded
    ):
        return None
    taken = record.access.offboarded
    kept = keep_entry_access(
        upkeep,
        registry,
        record.changed(access=record.access.model_copy(update={"assignments": taken, "offboarded": []})),
    )
    if kept.access is not None:
        logger.info(
            "People's access restored after a failed offboarding",
            extra={"accountId": account_id, "restored": kept.created},
        )
    return kept

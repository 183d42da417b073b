"""RemoveAccess: every assignment orgvend made in IAM Identity Center goes before the account leaves.

For a detach, after the preconditions are checked (a refused detach keeps people's access); for a
close, before CloseAccount. Exactly what the registry entry records (``access.assignments``, what
AssignAccess and the reactions made) is removed, those still there; an assignment orgvend did not
make is left alone. The entry then records no assignment and what was removed (``access.offboarded``),
which the operators' message lists. A retry or a redrive finds nothing recorded and removes nothing
twice; it reports what the first run removed. Without an Identity Center instance, nothing is called.
"""

from orgvend.access.assignments import remove_access
from orgvend.access.identity_center import IdentityCenter
from orgvend.models import AccessAssignment, AccessRemoval, AccountAccess, AccountRecord, Model, Offboarding
from orgvend.observability import logger, metrics
from orgvend.registry import Registry


class RemoveAccessInput(Model):
    offboarding: Offboarding


def _emptied(recorded: AccountAccess, removed: list[AccessAssignment]) -> AccountAccess:
    return recorded.model_copy(
        update={"assignments": [], "created": 0, "removed": len(removed), "offboarded": removed}
    )


def remove_account_access(
    step_input: RemoveAccessInput, center: IdentityCenter | None, registry: Registry
) -> AccessRemoval:
    if center is None:
        return AccessRemoval(configured=False)
    account_id = step_input.offboarding.account_id
    record = registry.get_account(account_id)
    recorded = record.access if record else None
    if recorded is None or not recorded.assignments:
        # Nothing made, or a retry after the removal was recorded: report what that run removed.
        return AccessRemoval(configured=True, removed=recorded.offboarded if recorded else [])
    removed = remove_access(center, account_id, recorded)

    def record_removal(current: AccountRecord) -> AccountRecord:
        return current.changed(access=_emptied(current.access or recorded, removed))

    registry.update_account(account_id, record_removal)
    metrics.add_metric(name="AccessAssignmentsRemoved", unit="Count", value=len(removed))
    logger.info(
        "People's access removed before the account leaves",
        extra={"accountId": account_id, "removed": [f"{a.group} ({a.permission_set})" for a in removed]},
    )
    return AccessRemoval(configured=True, removed=removed)

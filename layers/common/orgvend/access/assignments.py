"""Make an account's assignments in IAM Identity Center what the access rules say, and no more than orgvend made.

One function, ``keep_access``, serves every moment: an onboarding (nothing recorded yet), a redrive
or a second run (everything found, nothing created twice), a client or project change (the old
client's assignments orgvend made are removed, the new ones made), and the reconciliation (an
assignment removed by hand is made again). Assignments orgvend did not make are never removed:
``unexpected_assignments`` reports them.
"""

from dataclasses import dataclass

from orgvend import rules
from orgvend.access.identity_center import Assignment, IdentityCenter, identity_center_errors
from orgvend.access.rules import REQUESTED, AccessRule, desired_assignments
from orgvend.errors import AccessAssignmentFailed
from orgvend.models import AccessAssignment, AccessRequest, AccountAccess


@dataclass(frozen=True)
class AccessSetup:
    """What the stack configures for people's access (None of it when it names no instance)."""

    rules: tuple[AccessRule, ...]
    create_missing_groups: bool
    portal_url: str
    sso_region: str


NOT_CONFIGURED = AccountAccess(configured=False)


def kept_permission_sets(center: IdentityCenter) -> dict[str, str]:
    """The permission sets orgvend keeps, ARN by name; AccessAssignmentFailed if one is missing."""
    found = center.permission_sets(wanted=rules.KEPT_PERMISSION_SETS)
    missing = [name for name in rules.KEPT_PERMISSION_SETS if name not in found]
    if missing:
        raise AccessAssignmentFailed(
            f"the permission sets {', '.join(missing)} are not in the Identity Center instance "
            "(the stack's AccessPermissionSets resource keeps them: deploy it, or run KeepPermissionSets)"
        )
    return {name: found[name] for name in rules.KEPT_PERMISSION_SETS}


def label(assignment: AccessAssignment) -> str:
    return f"{assignment.group} ({assignment.permission_set})"


def keep_access(
    center: IdentityCenter,
    setup: AccessSetup,
    *,
    account_id: str,
    client: str,
    project: str,
    requested: list[AccessRequest],
    recorded: AccountAccess | None,
) -> AccountAccess:
    """Create what the rules (and the request) want and the account lacks; remove what orgvend made that
    they no longer want. Idempotent: a second call with the same inputs creates and removes nothing."""
    permission_sets = kept_permission_sets(center)
    made_before = list(recorded.assignments) if recorded else []
    # A request's own assignments stay with the account: they are in the record after the first run.
    requested_before = [
        AccessRequest(group=made.group, permission_set=made.permission_set)
        for made in made_before
        if made.rule == REQUESTED
    ]
    desired = desired_assignments(setup.rules, client, project, [*requested, *requested_before])

    wanted: list[AccessAssignment] = []
    missing_groups: list[str] = []
    for want in desired:
        group_id = center.group_id(want.group)
        if group_id is None and setup.create_missing_groups:
            group_id = center.create_group(want.group)
        if group_id is None:
            if want.group not in missing_groups:
                missing_groups.append(want.group)
            continue
        wanted.append(
            AccessAssignment(
                group=want.group,
                group_id=group_id,
                permission_set=want.permission_set,
                permission_set_arn=permission_sets[want.permission_set],
                rule=want.rule,
            )
        )

    present: dict[str, set[Assignment]] = {}

    def existing(permission_set_arn: str) -> set[Assignment]:
        if permission_set_arn not in present:
            present[permission_set_arn] = center.assignments(account_id, permission_set_arn)
        return present[permission_set_arn]

    created = 0
    for assignment in wanted:
        target = Assignment(account_id, assignment.permission_set_arn, assignment.group_id)
        if target not in existing(assignment.permission_set_arn):
            center.assign(target, label(assignment))
            present[assignment.permission_set_arn].add(target)
            created += 1

    wanted_keys = {assignment.key for assignment in wanted}
    removed = 0
    for made in made_before:
        if made.key in wanted_keys:
            continue
        target = Assignment(account_id, made.permission_set_arn, made.group_id)
        if target in existing(made.permission_set_arn):
            center.unassign(target, label(made))
            present[made.permission_set_arn].discard(target)
            removed += 1

    return AccountAccess(
        configured=True,
        portal_url=setup.portal_url,
        sso_region=setup.sso_region,
        assignments=wanted,
        missing_groups=missing_groups,
        created=created,
        removed=removed,
    )


def remove_access(
    center: IdentityCenter, account_id: str, recorded: AccountAccess | None
) -> list[AccessAssignment]:
    """Remove every assignment orgvend made on the account (those still there); what was removed."""
    removed: list[AccessAssignment] = []
    present: dict[str, set[Assignment]] = {}
    for made in recorded.assignments if recorded else []:
        if made.permission_set_arn not in present:
            present[made.permission_set_arn] = center.assignments(account_id, made.permission_set_arn)
        target = Assignment(account_id, made.permission_set_arn, made.group_id)
        if target in present[made.permission_set_arn]:
            center.unassign(target, label(made))
            present[made.permission_set_arn].discard(target)
            removed.append(made)
    return removed


def unexpected_assignments(
    center: IdentityCenter, account_id: str, recorded: AccountAccess | None
) -> list[str]:
    """Groups assigned on orgvend's permission sets that orgvend did not assign: reported, never removed.

    Each as ``<group name> (<permission set>)``.
    """
    made = {assignment.key for assignment in recorded.assignments} if recorded else set()
    found: list[str] = []
    for name, arn in kept_permission_sets(center).items():
        for assignment in sorted(center.assignments(account_id, arn), key=lambda each: each.group_id):
            if (assignment.group_id, arn) in made:
                continue
            with identity_center_errors(f"describing group {assignment.group_id}"):
                group = center.identity_store.describe_group(
                    IdentityStoreId=center.identity_store_id, GroupId=assignment.group_id
                )
            found.append(f"{group.get('DisplayName') or assignment.group_id} ({name})")
    return found

"""AssignAccess: the account's people get in through IAM Identity Center, as the access rules say.

After the baseline (the AdministratorMinusBilling permission set's boundary condition names the
baseline policy, which must be in the account first). The rules (stack parameter AccessRules) and
the request's own ``access`` resolve to groups of the Identity Store and the permission sets orgvend
keeps; each missing assignment is created and waited for (orgvend.access.identity_center), and
what the account has is recorded on its registry entry, so an offboarding removes exactly that.
A redrive, a retry or a second run finds the assignments and creates none twice. A group the
Identity Store lacks is reported (``missingGroups``, the operators' message) without failing the
onboarding. Without an Identity Center instance in the stack, nothing is called.
"""

from orgvend.access.assignments import NOT_CONFIGURED, AccessSetup, keep_access
from orgvend.access.identity_center import IdentityCenter
from orgvend.models import AccountAccess, Model, Onboarding
from orgvend.observability import logger, metrics
from orgvend.registry import Registry


class AssignAccessInput(Model):
    onboarding: Onboarding
    account_id: str


def assign_access(
    step_input: AssignAccessInput,
    center: IdentityCenter | None,
    setup: AccessSetup | None,
    registry: Registry,
) -> AccountAccess:
    if center is None or setup is None:
        return NOT_CONFIGURED
    onboarding, account_id = step_input.onboarding, step_input.account_id
    existing = registry.get_account(account_id)
    access = keep_access(
        center,
        setup,
        account_id=account_id,
        client=onboarding.client,
        project=onboarding.project,
        requested=onboarding.access,
        recorded=existing.access if existing else None,
    )
    if existing is not None:
        # Recorded now, not only at RegisterAccount: an offboarding of an account whose onboarding
        # failed later still finds what to remove.
        registry.update_account(account_id, lambda current: current.changed(access=access))
    metrics.add_metric(name="AccessAssignmentsCreated", unit="Count", value=access.created)
    if access.missing_groups:
        metrics.add_metric(name="AccessGroupsMissing", unit="Count", value=len(access.missing_groups))
        logger.warning(
            "Access rules name groups the Identity Store does not have",
            extra={"accountId": account_id, "missingGroups": access.missing_groups},
        )
    return access

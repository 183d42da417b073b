"""RegisterAccount: the account's registry entry becomes ACTIVE, with everything an operator needs."""

from typing import TYPE_CHECKING

from orgvend.clock import now
from orgvend.models import (
    AccountAccess,
    AccountRecord,
    AccountStatus,
    Baseline,
    BillingSetup,
    BudgetSetup,
    Model,
    Onboarding,
    OnboardingStatus,
    Placement,
)
from orgvend.observability import metrics
from orgvend.registry import Registry
from orgvend.registry.accounts import pending_record
from orgvend.root_access import root_credentials_management

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient


class RegisterAccountInput(Model):
    onboarding: Onboarding
    account_id: str
    placement: Placement
    baseline: Baseline
    billing: BillingSetup | None = None
    access: AccountAccess | None = None
    budget: BudgetSetup | None = None


def register_account(
    step_input: RegisterAccountInput, registry: Registry, iam: "IAMClient | None" = None
) -> AccountRecord:
    """``iam`` (management account) tells whether root access is managed centrally; None: unknown."""
    onboarding = step_input.onboarding
    existing = registry.get_account(step_input.account_id)
    billing = step_input.billing.mode if step_input.billing else onboarding.billing
    record = pending_record(onboarding, step_input.account_id, AccountStatus.ACTIVE).model_copy(
        update={
            "ou_id": step_input.placement.ou_id,
            "baseline_policy_arn": step_input.baseline.policy_arn,
            "created_at": existing.created_at if existing else now(),
            "billing_mode": billing,
            "root_credentials_management": root_credentials_management(iam),
            # An owner's confirmation survives a re-registration of the same account.
            "root_secured_at": existing.root_secured_at if existing else None,
            "root_secured_by": existing.root_secured_by if existing else None,
            # What AssignAccess made (a run started before AssignAccess existed: what was recorded).
            "access": step_input.access or (existing.access if existing else None),
            # What ApplySettings recorded on the entry (the profile, its version, when).
            "settings": existing.settings if existing else None,
            # What CreateBudget set (none: what the entry records is kept, Registry.save_account).
            "monthly_budget_usd": step_input.budget.monthly_budget_usd if step_input.budget else None,
            "budget_alert_email": onboarding.budget_alert_email,
        }
    )
    registry.save_account(record, onboarding_status=OnboardingStatus.SUCCEEDED)
    duration = (record.updated_at - onboarding.started_at).total_seconds()
    metrics.add_metric(name="OnboardingsSucceeded", unit="Count", value=1)
    metrics.add_metric(name="OnboardingDuration", unit="Seconds", value=duration)
    return record

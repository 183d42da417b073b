"""RegisterAccount: the account's registry entry becomes ACTIVE, with everything an operator needs."""

from datetime import UTC, datetime

from orgvend.models import (
    AccountRecord,
    AccountStatus,
    Baseline,
    Model,
    Onboarding,
    OnboardingStatus,
    Placement,
)
from orgvend.observability import metrics
from orgvend.registry import Registry
from orgvend.steps.check_account_creation import pending_record


class RegisterAccountInput(Model):
    onboarding: Onboarding
    account_id: str
    placement: Placement
    baseline: Baseline


def register_account(step_input: RegisterAccountInput, registry: Registry) -> AccountRecord:
    onboarding = step_input.onboarding
    existing = registry.get_account(step_input.account_id)
    record = pending_record(onboarding, step_input.account_id, AccountStatus.ACTIVE).model_copy(
        update={
            "ou_id": step_input.placement.ou_id,
            "baseline_policy_arn": step_input.baseline.policy_arn,
            "created_at": existing.created_at if existing else datetime.now(UTC),
        }
    )
    registry.save_account(record, onboarding_status=OnboardingStatus.SUCCEEDED)
    duration = (record.updated_at - onboarding.started_at).total_seconds()
    metrics.add_metric(name="OnboardingsSucceeded", unit="Count", value=1)
    metrics.add_metric(name="OnboardingDuration", unit="Seconds", value=duration)
    return record

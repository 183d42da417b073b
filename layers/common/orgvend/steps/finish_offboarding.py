"""FinishOffboarding: the registry entry becomes DETACHED or CLOSED, is kept, and the account is let go."""

from datetime import datetime

from orgvend.models import AccountRecord, AccountStatus, Model, Offboarding
from orgvend.observability import logger, metrics
from orgvend.registry import Registry

OUTCOMES = {"detach": AccountStatus.DETACHED, "close": AccountStatus.CLOSED}


class FinishOffboardingInput(Model):
    offboarding: Offboarding


def finish_offboarding(
    step_input: FinishOffboardingInput, registry: Registry, now: datetime
) -> AccountRecord:
    offboarding = step_input.offboarding
    record = registry.get_account(offboarding.account_id)
    if record is None:
        raise LookupError(
            f"account {offboarding.account_id} vanished from the registry during its offboarding"
        )
    status = OUTCOMES[offboarding.mode]
    finished = record.model_copy(
        update={
            "status": status,
            "offboarded_at": record.offboarded_at or now,
            "offboarding_id": None,
            "updated_at": now,
        }
    )
    registry.offboarded(finished, offboarding.offboarding_id, finished=True)
    metrics.add_metric(
        name="AccountsDetached" if status is AccountStatus.DETACHED else "AccountsClosed",
        unit="Count",
        value=1,
    )
    logger.info("Offboarding finished", extra={"accountId": record.account_id, "status": status.value})
    return finished

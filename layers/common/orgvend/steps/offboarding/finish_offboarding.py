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
    status = OUTCOMES[offboarding.mode]
    finished = registry.offboarded(
        offboarding.account_id, offboarding.offboarding_id, status=status, at=now, finished=True
    )
    metrics.add_metric(
        name="AccountsDetached" if status is AccountStatus.DETACHED else "AccountsClosed",
        unit="Count",
        value=1,
    )
    logger.info("Offboarding finished", extra={"accountId": finished.account_id, "status": status.value})
    return finished

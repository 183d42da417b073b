"""WaitForCreationSlot: join the line for a creation slot with the workflow's task token.

The workflow then sleeps (``.waitForTaskToken``) until a release wakes it, or until its
timeout sends it to read the semaphore itself (orgvend/semaphore.py explains why both).
"""

from orgvend.models import Model, Onboarding
from orgvend.observability import logger, metrics
from orgvend.semaphore import Semaphore, iso_timestamp


class WaitForCreationSlotInput(Model):
    onboarding: Onboarding
    task_token: str


class PlaceInLine(Model):
    """What the step did (Step Functions ignores it: the task ends when the token is used)."""

    slot_free: bool


def wait_for_creation_slot(step_input: WaitForCreationSlotInput, slots: Semaphore) -> PlaceInLine:
    onboarding = step_input.onboarding
    # The request's start orders the line: first asked, first served, and a waiter that joins
    # again after a timeout keeps its place.
    slot_free = slots.join_line(
        onboarding.onboarding_id, iso_timestamp(onboarding.started_at), step_input.task_token
    )
    metrics.add_metric(name="CreationSlotQueued", unit="Count", value=1)
    logger.info("Waiting in line for a creation slot", extra={"slotFree": slot_free})
    return PlaceInLine(slot_free=slot_free)

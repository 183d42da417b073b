"""Step WaitForCreationSlot of statemachines/onboard_account.asl.json (a ``.waitForTaskToken`` task)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend.observability import step_handler
from orgvend.semaphore import default_creation_slots
from orgvend.steps.queue_for_creation_slot import (
    PlaceInLine,
    QueueForCreationSlotInput,
    queue_for_creation_slot,
)


@step_handler(QueueForCreationSlotInput)
def handler(event: QueueForCreationSlotInput, context: LambdaContext) -> PlaceInLine:
    return queue_for_creation_slot(event, default_creation_slots())

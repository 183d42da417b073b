"""Step WaitForCreationSlot of statemachines/onboard_account.asl.json (a ``.waitForTaskToken`` task)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend.observability import step_handler
from orgvend.semaphore import default_creation_slots
from orgvend.settings import Settings
from orgvend.steps.onboarding.wait_for_creation_slot import (
    PlaceInLine,
    WaitForCreationSlotInput,
    wait_for_creation_slot,
)

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(WaitForCreationSlotInput)
def handler(event: WaitForCreationSlotInput, context: LambdaContext) -> PlaceInLine:
    return wait_for_creation_slot(event, default_creation_slots(SETTINGS))

"""Step SetBillingPreferences of statemachines/onboard_account.asl.json."""

from functools import partial

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.models import BillingSetup
from orgvend.observability import step_handler
from orgvend.steps.onboarding.set_billing_preferences import (
    SetBillingPreferencesInput,
    set_billing_preferences,
)


@step_handler(SetBillingPreferencesInput)
def handler(event: SetBillingPreferencesInput, context: LambdaContext) -> BillingSetup:
    # The Billing client is made only for a direct account: consolidated calls nothing.
    return set_billing_preferences(event, partial(aws.client, "billing"))

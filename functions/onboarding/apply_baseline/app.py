"""Step ApplyBaseline of statemachines/onboard_account.asl.json."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.models import Baseline
from orgvend.observability import step_handler
from orgvend.settings import Settings
from orgvend.steps.onboarding.apply_baseline import ApplyBaselineInput, apply_baseline

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


@step_handler(ApplyBaselineInput)
def handler(event: ApplyBaselineInput, context: LambdaContext) -> Baseline:
    return apply_baseline(
        event, aws.client("sts"), aws.client("organizations"), SETTINGS, through=aws.management_role_sts()
    )

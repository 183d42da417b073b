"""EventBridge target: Organizations events (CloudTrail) keep the registry true."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.access import access_setup, identity_center
from orgvend.account_access import access_upkeep
from orgvend.observability import logger, step_handler
from orgvend.organization_events import OrganizationsEvent
from orgvend.organizations import default_scope
from orgvend.reactions.follow_organization import OrganizationFollower
from orgvend.registry import default_registry
from orgvend.semaphore import default_creation_slots
from orgvend.settings import Settings
from orgvend.workflows.onboardings import default_onboardings

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()
SETUP = access_setup(SETTINGS)


@step_handler(OrganizationsEvent, correlation_id_path="id")
def handler(event: OrganizationsEvent, context: LambdaContext) -> dict[str, Any]:
    follower = OrganizationFollower(
        organizations=aws.client("organizations"),
        sts=aws.client("sts"),
        through=aws.management_role_sts(),
        sns=aws.client("sns"),
        registry=default_registry(SETTINGS),
        onboardings=default_onboardings(SETTINGS),
        creation_slots=default_creation_slots(SETTINGS),
        settings=SETTINGS,
        scope=default_scope(SETTINGS),
        access=access_upkeep(identity_center(SETTINGS), SETUP),
    )
    reaction = follower.react(event.detail)
    logger.info("Organizations event handled", extra=reaction.to_json())
    return reaction.to_json()

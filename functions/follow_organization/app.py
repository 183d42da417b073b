"""EventBridge target: Organizations events (CloudTrail) keep the registry true."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import aws
from orgvend.api.onboardings import default_onboardings
from orgvend.observability import logger, step_handler
from orgvend.organization_events import OrganizationsEvent
from orgvend.reactions.follow_organization import OrganizationFollower
from orgvend.registry import default_registry
from orgvend.scope import default_scope
from orgvend.semaphore import default_creation_slots
from orgvend.settings import Settings


@step_handler(OrganizationsEvent, correlation_id_path="id")
def handler(event: OrganizationsEvent, context: LambdaContext) -> dict[str, Any]:
    follower = OrganizationFollower(
        organizations=aws.client("organizations"),
        sts=aws.client("sts"),
        sns=aws.client("sns"),
        registry=default_registry(),
        onboardings=default_onboardings(),
        creation_slots=default_creation_slots(),
        settings=Settings.from_environment(),
        scope=default_scope(),
    )
    reaction = follower.react(event.detail)
    logger.info("Organizations event handled", extra=reaction.to_json())
    return reaction.to_json()

"""What the routes need, injected with Powertools' ``Depends`` (event_handler 3.37).

A route declares what it uses by type (``accounts: AccountsService``); Powertools resolves each
``Annotated[T, Depends(provider)]`` parameter once per request, and leaves them out of the OpenAPI
document. The providers build the domain objects from one ``ApiDependencies``: the API function
builds it once at cold start from its ``Settings`` and hands it to the resolver with each event
(``provide_to``, into the resolver's per-request context, where Powertools documents that
dependencies read shared state from). So the routers read no environment and keep no state of their
own, and a test builds its own ``ApiDependencies`` (or overrides one provider with the resolver's
``dependency_overrides``).
"""

from collections.abc import Callable
from functools import cached_property
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from orgvend import aws
from orgvend.access import portal_url
from orgvend.budgets import budget_target
from orgvend.costs.report import CostReports
from orgvend.models import OnboardingRequest
from orgvend.organizations import default_scope
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.workflows.accounts import Accounts
from orgvend.workflows.budgets import Budgets
from orgvend.workflows.offboardings import Offboardings, default_offboardings
from orgvend.workflows.onboardings import Onboardings, default_onboardings, execution_name
from orgvend.workflows.settings_profiles import SettingsProfileCatalog
from orgvend.workflows.settings_runs import SettingsRuns, default_settings_runs

_CONTEXT_KEY = "orgvend.api.dependencies"
# How long an Idempotency-Key keeps its answer.
IDEMPOTENCY_SECONDS = 24 * 3600
# The records' key prefix: fixed, so that moving the code does not forget the keys already given.
IDEMPOTENCY_KEY_PREFIX = "orgvend-api.start_once"


class ApiDependencies:
    """The API function's collaborators, from its settings; AWS clients are made when first used."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Read now: a function without IDEMPOTENCY_TABLE_NAME fails its cold start, naming it.
        self.idempotency_table_name = settings.required(
            settings.idempotency_table_name, "idempotency_table_name"
        )
        self.idempotency_config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="request",
            expires_after_seconds=IDEMPOTENCY_SECONDS,
        )

    def provide_to(self, app: APIGatewayRestResolver) -> None:
        """Make these the dependencies of ``app``'s next request (its context is cleared after each)."""
        app.append_context(**{_CONTEXT_KEY: self})

    def accounts(self) -> Accounts:
        return Accounts(
            default_registry(self.settings), aws.client("organizations"), default_scope(self.settings)
        )

    def onboardings(self) -> Onboardings:
        return default_onboardings(self.settings)

    def offboardings(self) -> Offboardings:
        return default_offboardings(self.settings)

    def settings_profiles(self) -> SettingsProfileCatalog:
        return SettingsProfileCatalog(default_registry(self.settings))

    def settings_runs(self) -> SettingsRuns:
        return default_settings_runs(self.settings)

    def cost_reports(self) -> CostReports:
        return CostReports(
            aws.client("ce"),
            aws.client("budgets"),
            default_registry(self.settings),
            self.management_account_id(),
        )

    def budgets(self) -> Budgets:
        stack_default = self.settings.required(
            self.settings.default_monthly_budget_usd, "default_monthly_budget_usd"
        )
        return Budgets(default_registry(self.settings), lambda: budget_target(self.settings), stack_default)

    def management_account_id(self) -> str:
        """The organization's management account (where the API runs, or behind the hub's management role)."""
        return aws.management_account_id()

    def access_portal_url(self) -> str | None:
        """The AWS access portal people sign in to; None when the stack names no Identity Center instance."""
        # As orgvend.access.access_setup: no instance, no access assigned, whatever else the stack names.
        return portal_url(self.settings) if self.settings.identity_center_instance_arn else None

    def identity_center_region(self) -> str | None:
        # The template gives the variable a Region even without an instance: empty means none.
        return self.settings.identity_center_region or None

    @cached_property
    def start_onboarding_once(self) -> Callable[..., dict[str, Any]]:
        """Submit the onboarding ``submission`` asks for, once per Idempotency-Key (Powertools Idempotency
        on DynamoDB): the first call with a key starts it, later ones (sequential or concurrent) get the
        same answer. The execution name is derived from the key too, so even a request racing past the
        idempotency record finds the same execution. Built on first use: its DynamoDB client with it."""

        def start_once(submission: dict[str, Any]) -> dict[str, Any]:
            request = OnboardingRequest.model_validate(
                {**submission["request"], "requestedBy": submission["requestedBy"]}
            )
            return self.onboardings().submit(request, execution_name(submission["key"])).to_json()

        persistence = DynamoDBPersistenceLayer(
            table_name=self.idempotency_table_name, boto3_client=aws.client("dynamodb")
        )
        once: Callable[..., dict[str, Any]] = idempotent_function(
            start_once,
            data_keyword_argument="submission",
            persistence_store=persistence,
            config=self.idempotency_config,
            key_prefix=IDEMPOTENCY_KEY_PREFIX,
        )
        return once


def dependencies(request: Request) -> ApiDependencies:
    found = request.context.get(_CONTEXT_KEY)
    if not isinstance(found, ApiDependencies):
        raise LookupError("the API function gave the request no dependencies (ApiDependencies.provide_to)")
    return found


Dependencies = Annotated[ApiDependencies, Depends(dependencies)]


def accounts(provided: Dependencies) -> Accounts:
    return provided.accounts()


def onboardings(provided: Dependencies) -> Onboardings:
    return provided.onboardings()


def offboardings(provided: Dependencies) -> Offboardings:
    return provided.offboardings()


def settings_profiles(provided: Dependencies) -> SettingsProfileCatalog:
    return provided.settings_profiles()


def settings_runs(provided: Dependencies) -> SettingsRuns:
    return provided.settings_runs()


def cost_reports(provided: Dependencies) -> CostReports:
    return provided.cost_reports()


def budgets(provided: Dependencies) -> Budgets:
    return provided.budgets()


def caller_identity(request: Request) -> str:
    """Who calls (SigV4): the IAM identity API Gateway verified, else the access key it saw."""
    event = request.resolved_event
    if not isinstance(event, APIGatewayProxyEvent):
        return "unknown"
    identity = event.request_context.identity
    return identity.user_arn or identity.access_key or identity.caller or "unknown"


AccountsService = Annotated[Accounts, Depends(accounts)]
OnboardingsService = Annotated[Onboardings, Depends(onboardings)]
OffboardingsService = Annotated[Offboardings, Depends(offboardings)]
SettingsProfilesService = Annotated[SettingsProfileCatalog, Depends(settings_profiles)]
SettingsRunsService = Annotated[SettingsRuns, Depends(settings_runs)]
CostReportsService = Annotated[CostReports, Depends(cost_reports)]
BudgetsService = Annotated[Budgets, Depends(budgets)]
Caller = Annotated[str, Depends(caller_identity)]

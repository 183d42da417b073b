"""The HTTP API (API Gateway REST, AWS_IAM on every method): the app and its wiring.

Each resource's routes are a Powertools Router in ``orgvend.api``; the error contract is
``orgvend.api.errors``; what the routes use is built once here, from the settings (``orgvend.api.dependencies``).
"""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import __version__
from orgvend.api import (
    accounts,
    clients,
    costs,
    errors,
    offboardings,
    onboardings,
    settings_profiles,
    settings_runs,
    switch_roles,
)
from orgvend.api.dependencies import ApiDependencies
from orgvend.observability import observed_handler
from orgvend.settings import Settings
from orgvend.workflows.models import Health

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()
DEPENDENCIES = ApiDependencies(SETTINGS)

# debug=False: even with POWERTOOLS_DEV set, an unexpected error is never answered with its traceback.
app = APIGatewayRestResolver(enable_validation=True, debug=False, json_body_deserializer=errors.read_json)
app.include_router(onboardings.router)
app.include_router(accounts.router)
app.include_router(offboardings.router)
app.include_router(switch_roles.router)
app.include_router(settings_profiles.router)
app.include_router(settings_runs.router)
app.include_router(costs.router)
app.include_router(clients.router)
errors.install(app)


@app.get(
    "/health",
    summary="Liveness",
    responses={200: {"description": "Alive", "content": {"application/json": {"model": Health}}}},
)
def get_health() -> Health:
    return Health(version=__version__)


@app.get("/openapi.json", summary="This API's OpenAPI 3 document", include_in_schema=False)
def get_openapi() -> Response[str]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=app.get_openapi_json_schema(
            title="orgvend",
            version=__version__,
            description="Account vending for AWS Organizations. Every method requires AWS_IAM (SigV4) auth.",
        ),
    )


@observed_handler(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    DEPENDENCIES.idempotency_config.register_lambda_context(context)
    DEPENDENCIES.provide_to(app)
    return app.resolve(event, context)

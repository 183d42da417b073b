"""The HTTP API (API Gateway REST, AWS_IAM on every method): one Powertools resolver, one domain call per route."""

import json
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from orgvend import __version__, aws
from orgvend.errors import OutOfScope
from orgvend.exports import ExportFormat, ExportOptions
from orgvend.models import AccountStatus, OffboardingRequest, OnboardingRequest, problems_of
from orgvend.observability import logger, metrics, observed_handler
from orgvend.organizations import default_scope
from orgvend.refusals import MAX_FIELD, ApiError, out_of_scope, public_text
from orgvend.registry import default_registry
from orgvend.settings import Settings
from orgvend.workflows.accounts import Accounts
from orgvend.workflows.models import (
    RUN_STATUSES,
    AccountPage,
    AccountView,
    AdoptRequest,
    ErrorBody,
    ErrorDetail,
    ErrorInfo,
    Health,
    OffboardingAccepted,
    OffboardingPage,
    OffboardingRetryAccepted,
    OffboardingView,
    OffboardRequest,
    OnboardingAccepted,
    OnboardingPage,
    OnboardingView,
    OnboardRequest,
    RetryAccepted,
)
from orgvend.workflows.offboardings import default_offboardings
from orgvend.workflows.onboardings import EXECUTION_NAME_PATTERN, default_onboardings, execution_name

# Read once, at cold start: a missing or malformed variable fails here, naming it.
SETTINGS = Settings()


def read_json(text: str) -> Any:
    """The body as JSON; a body Python cannot read (nested too deeply, a number of thousands of
    digits) is a JSON error like any other, answered 400 rather than crashing the function."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as error:
        raise json.JSONDecodeError(f"unreadable JSON ({type(error).__name__})", text, 0) from None


# debug=False: even with POWERTOOLS_DEV set, an unexpected error is never answered with its traceback.
app = APIGatewayRestResolver(enable_validation=True, debug=False, json_body_deserializer=read_json)
ERRORS: dict[int, OpenAPIResponse] = {
    status: {"description": text, "content": {"application/json": {"model": ErrorBody}}}
    for status, text in (
        (400, "Bad request"),
        (404, "Not found"),
        (409, "Conflict"),
        (422, "Invalid request"),
    )
}


BODY_ERRORS: dict[int, OpenAPIResponse] = {
    415: {
        "description": "The body is not application/json",
        "content": {"application/json": {"model": ErrorBody}},
    }
}


def answers(status: int, model: type, description: str, *, body: bool = False) -> dict[int, OpenAPIResponse]:
    """The OpenAPI responses of a route: its success and every error it can answer."""
    return {
        status: {"description": description, "content": {"application/json": {"model": model}}},
        **ERRORS,
        **(BODY_ERRORS if body else {}),
    }


PageSize = Annotated[int, Query(ge=1, le=100, description="Items per page")]
RunStatus = Annotated[str | None, Query(pattern="^(" + "|".join(RUN_STATUSES) + ")$")]
NextToken = Annotated[str | None, Query(max_length=4096, description="From the previous page")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Makes retries safe: the same key returns the same onboarding (never a second account) or offboarding.",
    ),
]

# Powertools Idempotency: the first request with a key starts the onboarding; later ones
# (sequential or concurrent) get the same answer. The execution name is derived from the key
# too, so even a request racing past the idempotency record finds the same execution.
_idempotency_config = IdempotencyConfig(
    event_key_jmespath="key", payload_validation_jmespath="request", expires_after_seconds=24 * 3600
)


def accounts() -> Accounts:
    return Accounts(default_registry(SETTINGS), aws.client("organizations"), default_scope(SETTINGS))


def start_once(submission: dict[str, Any]) -> dict[str, Any]:
    request = OnboardingRequest.model_validate(
        {**submission["request"], "requestedBy": submission["requestedBy"]}
    )
    return default_onboardings(SETTINGS).submit(request, execution_name(submission["key"])).to_json()


@cache
def start_once_per_key() -> Callable[..., dict[str, Any]]:
    """``start_once`` behind Powertools Idempotency, built on first use (its DynamoDB client then, not at import).

    The record's key names ``start_once``, as it did when it was decorated at import.
    """
    persistence = DynamoDBPersistenceLayer(
        table_name=SETTINGS.required(SETTINGS.idempotency_table_name, "idempotency_table_name"),
        boto3_client=aws.client("dynamodb"),
    )
    started: Callable[..., dict[str, Any]] = idempotent_function(
        start_once,
        data_keyword_argument="submission",
        persistence_store=persistence,
        config=_idempotency_config,
    )
    return started


def submit(request: OnboardingRequest, idempotency_key: str | None) -> OnboardingAccepted:
    if not idempotency_key:
        accepted = default_onboardings(SETTINGS).submit(request, execution_name(None))
    else:
        try:
            # The request is what a retry must repeat; who sent it is not (temporary credentials rotate).
            body = request.model_copy(update={"requested_by": None}).to_json()
            accepted = OnboardingAccepted.model_validate(
                start_once_per_key()(
                    submission={"key": idempotency_key, "request": body, "requestedBy": request.requested_by}
                )
            )
        except IdempotencyAlreadyInProgressError:
            # The same request is being started right now: it is the same onboarding.
            accepted = default_onboardings(SETTINGS).start(request, execution_name(idempotency_key))
        except IdempotencyValidationError:
            raise ApiError(
                422,
                "IdempotencyKeyReused",
                "this Idempotency-Key was used for a different request",
                "Idempotency-Key",
            ) from None
    metrics.add_metric(name="OnboardingsStarted", unit="Count", value=1)
    # The log masks the email (orgvend.observability): a***@example.com.
    logger.info(
        "Onboarding requested",
        extra={
            "onboardingId": accepted.onboarding_id,
            "client": request.client,
            "project": request.project,
            "email": request.email,
        },
    )
    return accepted


@app.post(
    "/accounts",
    status_code=202,
    summary="Onboard a new account",
    responses=answers(202, OnboardingAccepted, "Onboarding started", body=True),
)
def post_account(
    request: Annotated[OnboardRequest, Body()], idempotency_key: IdempotencyKey = None
) -> OnboardingAccepted:
    return submit(OnboardingRequest(**request.model_dump(), requested_by=caller_identity()), idempotency_key)


@app.post(
    "/accounts/adopt",
    status_code=202,
    summary="Register and baseline an existing member account",
    responses=answers(202, OnboardingAccepted, "Onboarding started", body=True),
)
def post_adopt(
    request: Annotated[AdoptRequest, Body()], idempotency_key: IdempotencyKey = None
) -> OnboardingAccepted:
    email = accounts().adoptable_email(request.account_id)
    onboarding = OnboardingRequest(**request.model_dump(), email=email, requested_by=caller_identity())
    return submit(onboarding, idempotency_key)


@app.get(
    "/accounts",
    summary="List accounts (Query, never Scan)",
    responses=answers(200, AccountPage, "A page of accounts"),
)
def get_accounts(
    client: Annotated[str | None, Query(pattern=r"^[a-z0-9-]{1,24}$")] = None,
    project: Annotated[str | None, Query(pattern=r"^[a-z0-9-]{1,24}$")] = None,
    status: Annotated[AccountStatus | None, Query()] = None,
    limit: PageSize = 50,
    nextToken: NextToken = None,
) -> AccountPage:
    return accounts().page(client, project, status.value if status else None, limit, nextToken)


@app.get("/accounts/<accountId>", summary="One account", responses=answers(200, AccountView, "The account"))
def get_account(accountId: Annotated[str, Path(pattern=r"^[0-9]{12}$")]) -> AccountView:
    return accounts().get(accountId)


def caller_identity() -> str:
    """Who calls (SigV4): the IAM identity API Gateway verified, else the access key it saw."""
    identity = app.current_event.request_context.identity
    return identity.user_arn or identity.access_key or identity.caller or "unknown"


@app.post(
    "/accounts/<accountId>/root-secured",
    summary="Record that the account's root password was reset and MFA enabled",
    responses=answers(200, AccountView, "The account, with who confirmed it and when"),
)
def post_root_secured(accountId: Annotated[str, Path(pattern=r"^[0-9]{12}$")]) -> AccountView:
    return accounts().confirm_root_secured(accountId, caller_identity())


@app.get(
    "/onboardings",
    summary="Recent onboardings",
    responses=answers(200, OnboardingPage, "A page of onboardings"),
)
def get_onboardings(
    status: RunStatus = None,
    limit: PageSize = 50,
    nextToken: NextToken = None,
) -> OnboardingPage:
    return default_onboardings(SETTINGS).list(status, limit, nextToken)


@app.get(
    "/onboardings/<onboardingId>",
    summary="One onboarding, with its step-by-step timeline",
    responses=answers(200, OnboardingView, "The onboarding"),
)
def get_onboarding(onboardingId: Annotated[str, Path(pattern=EXECUTION_NAME_PATTERN)]) -> OnboardingView:
    return default_onboardings(SETTINGS).describe(onboardingId)


@app.post(
    "/onboardings/<onboardingId>/retry",
    status_code=202,
    summary="Redrive a failed onboarding from the step that failed",
    responses=answers(202, RetryAccepted, "Redriven: the workflow resumes at the step that failed"),
)
def post_retry(onboardingId: Annotated[str, Path(pattern=EXECUTION_NAME_PATTERN)]) -> RetryAccepted:
    return default_onboardings(SETTINGS).retry(onboardingId)


@app.post(
    "/accounts/<accountId>/offboard",
    status_code=202,
    summary="Hand the account to its client (detach) or close it",
    responses=answers(202, OffboardingAccepted, "Offboarding started", body=True),
)
def post_offboard(
    accountId: Annotated[str, Path(pattern=r"^[0-9]{12}$")],
    request: Annotated[OffboardRequest, Body()],
    idempotency_key: IdempotencyKey = None,
) -> OffboardingAccepted:
    offboarding = OffboardingRequest(
        account_id=accountId,
        mode=request.mode,
        confirm_account_name=request.confirm_account_name,
        requested_by=caller_identity(),
    )
    accepted = default_offboardings(SETTINGS).start(offboarding, idempotency_key)
    metrics.add_metric(name="OffboardingsRequested", unit="Count", value=1)
    logger.info(
        "Offboarding requested",
        extra={"offboardingId": accepted.offboarding_id, "accountId": accountId, "mode": request.mode},
    )
    return accepted


@app.get(
    "/offboardings",
    summary="Recent offboardings",
    responses=answers(200, OffboardingPage, "A page of offboardings"),
)
def get_offboardings(
    status: RunStatus = None,
    limit: PageSize = 50,
    nextToken: NextToken = None,
) -> OffboardingPage:
    return default_offboardings(SETTINGS).list(status, limit, nextToken)


@app.get(
    "/offboardings/<offboardingId>",
    summary="One offboarding, with its step-by-step timeline",
    responses=answers(200, OffboardingView, "The offboarding"),
)
def get_offboarding(offboardingId: Annotated[str, Path(pattern=EXECUTION_NAME_PATTERN)]) -> OffboardingView:
    return default_offboardings(SETTINGS).describe(offboardingId)


@app.post(
    "/offboardings/<offboardingId>/retry",
    status_code=202,
    summary="Redrive a failed offboarding from the step that failed",
    responses=answers(
        202, OffboardingRetryAccepted, "Redriven: the workflow resumes at the step that failed"
    ),
)
def post_offboarding_retry(
    offboardingId: Annotated[str, Path(pattern=EXECUTION_NAME_PATTERN)],
) -> OffboardingRetryAccepted:
    return default_offboardings(SETTINGS).retry(offboardingId)


SWITCH_ROLE_MEDIA_TYPES = ("text/plain", "text/html", "text/csv", "application/json")


@app.get(
    "/switch-roles",
    summary="Switch-role access for every account: ~/.aws/config, the extension's INI, bookmarks, a page, CSV, JSON",
    responses={
        200: {
            "description": "The export, as a file to save",
            "content": {
                media: {"schema": {"type": "object" if media == "application/json" else "string"}}
                for media in SWITCH_ROLE_MEDIA_TYPES
            },
        },
        **ERRORS,
    },
)
def get_switch_roles(
    format: Annotated[ExportFormat, Query()] = ExportFormat.AWS_CONFIG,
    client: Annotated[str | None, Query(pattern=r"^[a-z0-9-]{1,24}$")] = None,
    project: Annotated[str | None, Query(pattern=r"^[a-z0-9-]{1,24}$")] = None,
    sourceProfile: Annotated[str, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = "default",
    region: Annotated[str, Query(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")] = "us-east-1",
) -> Response[str]:
    management_account_id = aws.client("sts").get_caller_identity()["Account"]
    options = ExportOptions(
        source_profile=sourceProfile, region=region, management_account_id=management_account_id
    )
    export = accounts().export(format, client, project, options)
    return Response(
        status_code=200,
        content_type=export.media_type,
        body=export.content,
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


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


MAX_ERROR_DETAILS = 20


def error_response(status: int, info: ErrorInfo) -> Response[str]:
    """Every error answer: what it says is public (``public_text``), and the JSON is ASCII with
    ``<``, ``>`` and ``&`` escaped, so that no echo of the input is ever markup or a hidden character."""
    public = ErrorInfo(
        code=info.code,
        message=public_text(info.message),
        field=public_text(info.field, MAX_FIELD) if info.field else None,
        details=[
            ErrorDetail(field=public_text(detail.field, MAX_FIELD), message=public_text(detail.message))
            for detail in info.details[:MAX_ERROR_DETAILS]
        ],
    )
    body = json.dumps(
        ErrorBody(error=public).model_dump(mode="json", by_alias=True, exclude_none=True),
        ensure_ascii=True,
        separators=(",", ":"),
    )
    for character, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        body = body.replace(character, escaped)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(ApiError)
def handle_api_error(error: ApiError) -> Response[str]:
    return error_response(error.status, ErrorInfo(code=error.code, message=error.message, field=error.field))


@app.exception_handler(OutOfScope)
def handle_out_of_scope(error: OutOfScope) -> Response[str]:
    public = out_of_scope(error)
    return error_response(
        public.status, ErrorInfo(code=public.code, message=public.message, field=public.field)
    )


@app.exception_handler(UnicodeDecodeError)
def handle_undecodable_body(_: UnicodeDecodeError) -> Response[str]:
    return error_response(
        400, ErrorInfo(code="InvalidJson", message="the body is not UTF-8 JSON", field="body")
    )


@app.exception_handler(RequestValidationError)
def handle_validation_error(error: RequestValidationError) -> Response[str]:
    if not body_is_json(app.current_event.body):
        return error_response(
            400, ErrorInfo(code="InvalidJson", message="the body is not a JSON object", field="body")
        )
    details = [ErrorDetail(**problem) for problem in problems_of(error.errors(), skip=1)]
    first = details[0] if details else ErrorDetail(field="body", message="invalid request")
    return error_response(
        422,
        ErrorInfo(
            code="ValidationError",
            message=f"{first.field}: {first.message}",
            field=first.field,
            details=details,
        ),
    )


@app.exception_handler(RequestUnsupportedContentType)
def handle_unsupported_content_type(_: RequestUnsupportedContentType) -> Response[str]:
    return error_response(
        415,
        ErrorInfo(
            code="UnsupportedMediaType", message="the body must be application/json", field="content-type"
        ),
    )


@app.exception_handler(ValueError)
def handle_unreadable_multipart_body(error: ValueError) -> Response[str]:
    """Powertools reads a multipart/form-data body itself, and raises ValueError when it cannot."""
    content_type = app.current_event.headers.get("content-type") or ""
    if not content_type.lower().startswith("multipart/"):
        raise error  # not the body: a fault of the function, as without this handler
    return error_response(
        400, ErrorInfo(code="InvalidJson", message="the body is not a JSON object", field="body")
    )


def body_is_json(body: str | None) -> bool:
    if body is None:
        return True
    try:
        return isinstance(read_json(body), dict)
    except ValueError:
        return False


@app.not_found
def handle_not_found(_: Exception) -> Response[str]:
    return error_response(
        404,
        ErrorInfo(
            code="NotFound", message=f"no route for {app.current_event.http_method} {app.current_event.path}"
        ),
    )


@observed_handler(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _idempotency_config.register_lambda_context(context)
    return app.resolve(event, context)

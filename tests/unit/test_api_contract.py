"""orgvend.api's error contract and dependencies on a resolver of their own (no AWS): which exception
becomes which status and body, and what a route is given."""

import json
from typing import Annotated, Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import DependencyResolutionError
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from orgvend.api import errors
from orgvend.api.dependencies import ApiDependencies, Caller, Dependencies, dependencies
from orgvend.api.parameters import AccountIdPath
from orgvend.errors import OutOfScope
from orgvend.models import Model
from orgvend.refusals import ARN_WITHHELD, BadRequest, Conflict, NotFound, Unprocessable
from orgvend.settings import Settings

CONTEXT = LambdaContext()  # no route here reads the Lambda context
ROLE_ARN = "arn:aws:iam::123456789012:role/orgvend-ApiFunctionRole-1AB2"
RAISED: dict[str, Exception] = {
    "not-found": NotFound("account 210987654321", "accountId"),
    "conflict": Conflict("OffboardingInProgress", "one offboarding at a time", "accountId"),
    "bad-request": BadRequest("InvalidNextToken", "nextToken is not one this API returned", "nextToken"),
    "unprocessable": Unprocessable(
        "EmailDomainNotAllowed", "the domain evil.example is not allowed", "email"
    ),
    "out-of-scope": OutOfScope("account 210987654321", "it is in ou-root-security", "accountId"),
    "leaky": Conflict("NotRetryable", f"{ROLE_ARN} says no to ops@example.com <b>&</b>", "x\u202e"),
    "fault": RuntimeError("a bug"),
    "value-error": ValueError("a bug that is a ValueError"),
}


class Thing(Model):
    name: Annotated[str, Field(min_length=1)]
    size: int


def resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True, debug=False, json_body_deserializer=errors.read_json)
    router = Router()

    @router.get("/raise/<kind>")
    def raise_(kind: str) -> dict[str, Any]:
        raise RAISED[kind]

    @router.post("/things")
    def post_thing(thing: Annotated[Thing, Body()]) -> dict[str, Any]:
        return thing.to_json()

    @router.get("/accounts/<accountId>")
    def get_account(accountId: AccountIdPath, caller: Caller, provided: Dependencies) -> dict[str, Any]:
        return {"accountId": accountId, "caller": caller, "table": provided.idempotency_table_name}

    app.include_router(router)
    errors.install(app)
    return app


def event(
    method: str,
    path: str,
    body: str | None = None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    **identity: str,
) -> dict[str, Any]:
    headers = {"content-type": content_type, **(headers or {})}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": "r-1",
            "stage": "Prod",
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/Prod{path}",
            "accountId": "123456789012",
            "apiId": "local",
            "identity": {"sourceIp": "127.0.0.1", **identity},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def answer(app: APIGatewayRestResolver, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = app.resolve(request, CONTEXT)
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [
        ("not-found", 404, {"code": "NotFound", "message": "account 210987654321 was not found", "field": "accountId"}),
        ("conflict", 409, {"code": "OffboardingInProgress", "message": "one offboarding at a time", "field": "accountId"}),
        ("bad-request", 400, {"code": "InvalidNextToken", "message": "nextToken is not one this API returned", "field": "nextToken"}),
        ("unprocessable", 422, {"code": "EmailDomainNotAllowed", "message": "the domain evil.example is not allowed", "field": "email"}),
        (
            "out-of-scope",
            422,
            {
                "code": "OutOfScope",
                "message": "account 210987654321 is outside orgvend's managed scope: it is in ou-root-security",
                "field": "accountId",
            },
        ),
    ],
)  # fmt: skip
def test_a_refusal_is_answered_with_its_status_code_and_field(
    kind: str, status: int, error: dict[str, Any]
) -> None:
    assert answer(resolver(), event("GET", f"/raise/{kind}")) == (status, {"error": {**error, "details": []}})


def test_an_answer_withholds_arns_masks_emails_and_escapes_markup() -> None:
    response = resolver().resolve(event("GET", "/raise/leaky"), CONTEXT)
    body = response["body"]
    assert response["statusCode"] == 409
    assert "<" not in body and ">" not in body and "&" not in body and body.isascii()
    error = json.loads(body)["error"]
    assert error["message"] == f"{ARN_WITHHELD} says no to o***@example.com <b>&</b>"
    assert error["field"] == "x\\u202e"


@pytest.mark.parametrize("kind", ["fault", "value-error"])
def test_a_fault_of_the_function_is_not_answered(kind: str) -> None:
    """API Gateway answers 502; the function's error is never turned into a client's 4xx."""
    with pytest.raises(type(RAISED[kind])):
        resolver().resolve(event("GET", f"/raise/{kind}"), CONTEXT)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ('{"name": ', "application/json", 400, "InvalidJson"),
        ("[1, 2]", "application/json", 400, "InvalidJson"),
        ("[" * 100_000, "application/json", 400, "InvalidJson"),
        ('{"name": "x", "size": 1}', "text/plain", 415, "UnsupportedMediaType"),
        ("--b\r\nnot a part", "multipart/form-data; boundary=b", 400, "InvalidJson"),
    ],
)
# Powertools warns that API Gateway would base64-encode a multipart body: this one is broken on purpose.
@pytest.mark.filterwarnings("ignore:Received multipart/form-data without base64:UserWarning")
def test_a_body_that_is_not_a_json_object_is_refused(
    body: str, content_type: str, status: int, code: str
) -> None:
    answered, error = answer(resolver(), event("POST", "/things", body, content_type))
    assert (answered, error["error"]["code"]) == (status, code)


def test_a_body_that_breaks_the_model_names_each_field() -> None:
    status, body = answer(resolver(), event("POST", "/things", '{"name": "", "size": "big", "extra": 1}'))
    error = body["error"]
    assert status == 422 and error["code"] == "ValidationError"
    assert {detail["field"] for detail in error["details"]} == {"name", "size", "extra"}
    assert error["field"] == error["details"][0]["field"]
    assert error["message"].startswith(f"{error['field']}: ")


def test_the_details_are_capped() -> None:
    many = json.dumps({"name": "x", "size": 1, **{f"extra{number}": number for number in range(40)}})
    status, body = answer(resolver(), event("POST", "/things", many))
    assert status == 422 and len(body["error"]["details"]) == errors.MAX_ERROR_DETAILS


def test_a_path_without_a_route_is_404_naming_it() -> None:
    assert answer(resolver(), event("DELETE", "/nowhere")) == (
        404,
        {"error": {"code": "NotFound", "message": "no route for DELETE /nowhere", "details": []}},
    )


def test_a_malformed_path_parameter_is_422_naming_it() -> None:
    status, body = answer(resolver(), event("GET", "/accounts/12345"))
    assert status == 422 and body["error"]["field"] == "accountId"


@pytest.fixture
def api_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in {
        "REGISTRY_TABLE_NAME": "registry",
        "OPERATOR_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:operators",
        "EVENT_BUS_NAME": "default",
        "EVENT_SOURCE": "orgvend",
        "CLIENTS_PARENT_OU_ID": "ou-abcd-12345678",
        "ALLOWED_EMAIL_DOMAINS": "example.com",
        "IDEMPOTENCY_TABLE_NAME": "idempotency",
    }.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_a_route_gets_the_dependencies_given_to_its_resolver_and_the_caller(api_settings: Settings) -> None:
    first, second = resolver(), resolver()
    ApiDependencies(api_settings).provide_to(first)
    ApiDependencies(api_settings.model_copy(update={"idempotency_table_name": "other"})).provide_to(second)

    caller = "arn:aws:iam::123456789012:user/alice"
    assert answer(second, event("GET", "/accounts/210987654321", userArn=caller)) == (
        200,
        {"accountId": "210987654321", "caller": caller, "table": "other"},
    )
    assert (
        answer(first, event("GET", "/accounts/210987654321", accessKey="AKIAEXAMPLE"))[1]["table"]
        == "idempotency"
    )


def test_the_dependencies_are_for_one_request_only(api_settings: Settings) -> None:
    app = resolver()
    ApiDependencies(api_settings).provide_to(app)
    assert answer(app, event("GET", "/accounts/210987654321"))[0] == 200
    # The resolver's context is cleared after each request: a fault of the function (API Gateway's 502).
    with pytest.raises(DependencyResolutionError, match="no dependencies"):
        app.resolve(event("GET", "/accounts/210987654321"), CONTEXT)


def test_a_test_may_override_one_dependency(api_settings: Settings) -> None:
    app = resolver()
    app.dependency_overrides[dependencies] = lambda: ApiDependencies(
        api_settings.model_copy(update={"idempotency_table_name": "overridden"})
    )
    assert answer(app, event("GET", "/accounts/210987654321"))[1]["table"] == "overridden"


def test_an_api_function_without_its_idempotency_table_fails_at_cold_start(api_settings: Settings) -> None:
    with pytest.raises(LookupError, match="IDEMPOTENCY_TABLE_NAME"):
        ApiDependencies(api_settings.model_copy(update={"idempotency_table_name": None}))

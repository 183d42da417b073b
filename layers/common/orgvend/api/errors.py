"""The API's error contract, in one place: which exception becomes which status and body.

Every error answer is ``{"error": {"code", "message", "field", "details"}}`` (``ErrorBody``):

- a refusal (``orgvend.refusals``: 400, 404 ``NotFound``, 409 ``Conflict``, 422 ``Unprocessable``) is answered
  with its own status, code and field;
- ``OutOfScope`` (an account or OU outside orgvend's managed scope) is 422 ``OutOfScope``;
- a request that breaks the OpenAPI models is 422 ``ValidationError`` naming the first field, with every
  problem in ``details``; a body that is not a JSON object (or not UTF-8) is 400 ``InvalidJson``;
- a body that is not ``application/json`` is 415 ``UnsupportedMediaType``;
- a path no route serves is 404 ``NotFound``.

Anything else is a fault of the function: it is not answered here (API Gateway answers 502), and never
with a traceback. ``install`` registers all of this on the resolver, once.
"""

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from orgvend.errors import OutOfScope
from orgvend.models import problems_of
from orgvend.refusals import MAX_FIELD, ApiError, out_of_scope, public_text
from orgvend.workflows.models import ErrorBody, ErrorDetail, ErrorInfo

MAX_ERROR_DETAILS = 20
# The OpenAPI responses every route may answer besides its own, and those of a route with a body.
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


def read_json(text: str) -> Any:
    """The body as JSON; a body Python cannot read (nested too deeply, a number of thousands of
    digits) is a JSON error like any other, answered 400 rather than crashing the function."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as error:
        raise json.JSONDecodeError(f"unreadable JSON ({type(error).__name__})", text, 0) from None


def body_is_json(body: str | None) -> bool:
    if body is None:
        return True
    try:
        return isinstance(read_json(body), dict)
    except ValueError:
        return False


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


def refusal_response(refusal: ApiError) -> Response[str]:
    return error_response(
        refusal.status, ErrorInfo(code=refusal.code, message=refusal.message, field=refusal.field)
    )


def not_json_response() -> Response[str]:
    return error_response(
        400, ErrorInfo(code="InvalidJson", message="the body is not a JSON object", field="body")
    )


def install(app: APIGatewayRestResolver) -> None:
    """Answer every error of ``app`` by the contract above."""

    @app.exception_handler(ApiError)
    def handle_refusal(error: ApiError) -> Response[str]:
        return refusal_response(error)

    @app.exception_handler(OutOfScope)
    def handle_out_of_scope(error: OutOfScope) -> Response[str]:
        return refusal_response(out_of_scope(error))

    @app.exception_handler(UnicodeDecodeError)
    def handle_undecodable_body(_: UnicodeDecodeError) -> Response[str]:
        return error_response(
            400, ErrorInfo(code="InvalidJson", message="the body is not UTF-8 JSON", field="body")
        )

    @app.exception_handler(RequestValidationError)
    def handle_validation_error(error: RequestValidationError) -> Response[str]:
        if not body_is_json(app.current_event.body):
            return not_json_response()
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
                code="UnsupportedMediaType",
                message="the body must be application/json",
                field="content-type",
            ),
        )

    @app.exception_handler(ValueError)
    def handle_unreadable_multipart_body(error: ValueError) -> Response[str]:
        """Powertools reads a multipart/form-data body itself, and raises ValueError when it cannot."""
        content_type = app.current_event.headers.get("content-type") or ""
        if not content_type.lower().startswith("multipart/"):
            raise error  # not the body: a fault of the function, as without this handler
        return not_json_response()

    @app.not_found
    def handle_not_found(_: Exception) -> Response[str]:
        event = app.current_event
        return error_response(
            404, ErrorInfo(code="NotFound", message=f"no route for {event.http_method} {event.path}")
        )

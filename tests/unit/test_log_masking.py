"""No log line holds an email address: orgvend's Logger masks them (a***@example.com) everywhere.

Every record goes through ``orgvend.observability.logger``'s formatter; the output
is read where the Lambda runtime reads it, the handler's stream (stdout).
"""

import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from orgvend.errors import EmailAlreadyRegistered
from orgvend.models import Model
from orgvend.observability import (
    logger,
    mask_email_text,
    mask_emails,
    masking_errors,
    step_handler,
)

from .support import as_json, lambda_context, load_handler

EMAIL = "aws+acme-web@example.com"
MASKED = "a***@example.com"
OTHER = "Jane.Doe@Sub.Example.co.uk"
OTHER_MASKED = "J***@Sub.Example.co.uk"


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """What orgvend's logger writes during the test, one parsed JSON object a line."""
    stream = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)  # Powertools logs to a stream (stdout)
    previous = handler.setStream(stream)
    logger.clear_state()

    def lines() -> list[dict[str, Any]]:
        text = stream.getvalue()
        assert EMAIL not in text and OTHER not in text, text
        assert EMAIL.lower() not in text.lower() and OTHER.lower() not in text.lower(), text
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    yield lines
    handler.setStream(previous)
    logger.clear_state()


def raw(lines: list[dict[str, Any]]) -> str:
    return json.dumps(lines, ensure_ascii=False)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (EMAIL, MASKED),
        (OTHER, OTHER_MASKED),
        (f"to {EMAIL}, cc {OTHER}.", f"to {MASKED}, cc {OTHER_MASKED}."),
        ("mailto:ops@example.com?subject=x", "mailto:o***@example.com?subject=x"),
        ("email='ops@example.com'", "email='o***@example.com'"),
        ("email=ops@example.com", "email=o***@example.com"),
        ("<ops@example.com>", "<o***@example.com>"),
        ("aws%2Bacme%40example.com", "a***%40example.com"),  # URL-encoded (a query string)
        ("\u0430ws@\u0435xample.com", "\u0430***@\u0435xample.com"),  # Cyrillic homoglyphs
        ("o@x.io", "o***@x.io"),
        (MASKED, MASKED),  # masking twice changes nothing
    ],
)
def test_email_shaped_text_is_masked_keeping_the_first_character_and_the_domain(
    text: str, masked: str
) -> None:
    assert mask_email_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "onboarding 1f0e8c7a-0c1d-4a5e-9b7f-3a2d1c0b9e8f",
        "arn:aws:iam::210987654321:role/OrganizationAccountAccessRole",
        "2026-01-02T03:04:05.000+00:00",
        "user@localhost",  # no domain with a dot: not an address Organizations accepts
        "tag key may contain only letters, digits, spaces and _.:/=+-@",
        "",
    ],
)
def test_text_that_is_no_email_address_is_left_alone(text: str) -> None:
    assert mask_email_text(text) == text


def test_masking_stays_linear_on_megabytes_of_text() -> None:
    started = time.perf_counter()
    for text in ("a" * 2_000_000 + "@", "a" * 1_000_000 + "@" + "b" * 1_000_000, "a@b" * 500_000):
        mask_email_text(text)
    assert time.perf_counter() - started < 5


def test_nested_values_keys_and_objects_are_masked() -> None:
    value = {EMAIL: [OTHER, (EMAIL, {"deep": EMAIL})], "n": 1, "ok": True, "none": None}
    assert mask_emails(value) == {
        MASKED: [OTHER_MASKED, [MASKED, {"deep": MASKED}]],
        "n": 1,
        "ok": True,
        "none": None,
    }
    assert mask_emails(ValueError(EMAIL), default=str) == MASKED


def test_the_message_and_every_extra_field_are_masked(log_lines) -> None:
    class Request(BaseModel):
        email: str

    logger.info(
        f"Onboarding requested for {EMAIL}",
        extra={
            "email": EMAIL,
            "request": {"email": EMAIL, "owners": [OTHER, {"cc": EMAIL}], OTHER: "as a key"},
            "model": Request(email=EMAIL),  # written with json_default (str) by Powertools
            "error": ValueError(f"{EMAIL} refused"),
            "count": 3,
        },
    )
    logger.info("Formatted %s and %s", EMAIL, OTHER)
    logger.info(json.dumps({"json": EMAIL}))  # a JSON string is logged as the object it holds
    logger.warning({"dict message": EMAIL})

    first, formatted, as_json_text, as_dict = log_lines()
    assert first["message"] == f"Onboarding requested for {MASKED}"
    assert first["email"] == MASKED
    assert first["request"] == {
        "email": MASKED,
        "owners": [OTHER_MASKED, {"cc": MASKED}],
        OTHER_MASKED: "as a key",
    }
    assert MASKED in first["model"] and first["error"] == f"{MASKED} refused" and first["count"] == 3
    assert formatted["message"] == f"Formatted {MASKED} and {OTHER_MASKED}"
    assert as_json_text["message"] == {"json": MASKED}
    assert as_dict["message"] == {"dict message": MASKED} and as_dict["level"] == "WARNING"


def test_appended_keys_and_the_correlation_id_are_masked(log_lines) -> None:
    logger.append_keys(requester=OTHER)
    logger.set_correlation_id(f"request-from-{EMAIL}")
    logger.info("with keys")
    logger.debug(f"debug {EMAIL}")  # below INFO: not written at all

    [line] = log_lines()
    assert line["requester"] == OTHER_MASKED
    assert line["correlation_id"] == "r***@example.com"  # "request-from-aws+acme-web" is one local part


def test_exception_text_and_stack_trace_are_masked(log_lines) -> None:
    try:
        try:
            raise KeyError(f"no owner for {OTHER}")
        except KeyError as cause:
            raise EmailAlreadyRegistered(f"email {EMAIL} is already registered") from cause
    except EmailAlreadyRegistered:
        logger.exception("Registration failed")

    [line] = log_lines()
    assert line["level"] == "ERROR" and line["exception_name"] == "EmailAlreadyRegistered"
    assert f"email {MASKED} is already registered" in line["exception"]
    assert f"no owner for {OTHER_MASKED}" in line["exception"]  # the chained cause, too
    assert line["stack_trace"]["value"] == f"email {MASKED} is already registered"
    assert line["stack_trace"]["frames"]


def test_inject_lambda_context_fields_and_log_event_go_through_the_masking(log_lines, template) -> None:
    event = {"detail": {"email": EMAIL, "owner": OTHER}, "id": f"event-{EMAIL}"}

    @logger.inject_lambda_context(log_event=True, correlation_id_path="detail.email", clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> str:
        logger.info("Handling", extra={"detail": event["detail"]})
        return event["detail"]["email"]

    context = lambda_context(template, "RecordRequestFunction")
    assert handler(event, context) == EMAIL  # the handler itself sees the real address

    logged_event, handling = log_lines()
    assert logged_event["message"] == {
        "detail": {"email": MASKED, "owner": OTHER_MASKED},
        "id": "e***@example.com",
    }
    for line in (logged_event, handling):
        assert line["correlation_id"] == MASKED
        assert line["function_name"] == context.function_name
        assert line["function_request_id"] == context.aws_request_id
        assert "cold_start" in line
    assert handling["detail"] == {"email": MASKED, "owner": OTHER_MASKED}


def test_an_exception_escaping_a_handler_keeps_its_type_and_loses_the_address(log_lines, template) -> None:
    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> None:
        raise EmailAlreadyRegistered(f"email {event['email']} is already registered to account 210987654321")

    with pytest.raises(EmailAlreadyRegistered) as raised:
        handler({"email": EMAIL}, lambda_context(template, "RecordRequestFunction"))
    # What the Lambda runtime writes to the log, and what Step Functions gets as the cause.
    assert str(raised.value) == f"email {MASKED} is already registered to account 210987654321"
    assert type(raised.value) is EmailAlreadyRegistered
    assert EMAIL not in repr(raised.value)
    log_lines()


def test_an_exception_whose_text_is_not_its_args_is_replaced_by_one_of_the_same_name() -> None:
    class Opaque(Exception):
        def __str__(self) -> str:
            return f"cannot reach {EMAIL}"

    @masking_errors
    def fail() -> None:
        raise Opaque

    with pytest.raises(Exception) as raised:
        fail()
    assert type(raised.value).__name__ == "Opaque" and str(raised.value) == f"cannot reach {MASKED}"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_an_exception_without_an_address_is_left_untouched() -> None:
    error = EmailAlreadyRegistered("email is already registered to account 210987654321")

    @masking_errors
    def fail() -> None:
        raise error

    with pytest.raises(EmailAlreadyRegistered) as raised:
        fail()
    assert raised.value is error


def test_a_step_handler_masks_what_it_raises_and_logs(log_lines, template) -> None:
    class Input(Model):
        onboarding_id: str
        email: str

    @step_handler(Input)
    def step(event: Input, context: Any) -> Model:
        logger.info("Checking", extra={"email": event.email})
        raise EmailAlreadyRegistered(f"email {event.email} is already registered")

    with pytest.raises(EmailAlreadyRegistered, match=r"^email a\*\*\*@example\.com is already registered$"):
        step({"email": EMAIL, "onboardingId": "onb-1"}, lambda_context(template, "RecordRequestFunction"))
    [line] = log_lines()
    assert line["email"] == MASKED and line["correlation_id"] == "onb-1"


def test_record_request_refusing_a_claimed_email_names_it_masked(
    log_lines, template, organization, set_function_environment, table_name, execution_arn
) -> None:
    """The real RecordRequest handler: the error Step Functions records as the cause is masked."""
    set_function_environment("RecordRequestFunction")
    handler = load_handler(template, "RecordRequestFunction")

    def event(name: str) -> dict[str, Any]:
        return as_json(
            {
                "request": {"client": "acme", "project": "web", "email": EMAIL},
                "execution": {
                    "id": execution_arn(name),
                    "name": name,
                    "startTime": "2026-01-02T03:04:05.000Z",
                },
            }
        )

    handler(event("onb-a"), lambda_context(template, "RecordRequestFunction"))
    with pytest.raises(EmailAlreadyRegistered) as raised:
        handler(event("onb-b"), lambda_context(template, "RecordRequestFunction"))
    assert str(raised.value).startswith(f"email {MASKED} is already registered") and "onb-a" in str(
        raised.value
    )
    log_lines()

"""Client mistakes as exceptions, each with its HTTP status, and what an answer may say.

The API answers them (orgvend.api.errors: the body, and the status of every other exception);
the event door reports them to the operators. Both raise and read these, so they live here, not in
the API package.
"""

import json
import re
import unicodedata

from orgvend.errors import OutOfScope
from orgvend.models import WorkflowError, readable_failure
from orgvend.observability import mask_email_text


class ApiError(Exception):
    """An error the caller can act on: HTTP status, a stable code, a message, the offending field."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class NotFound(ApiError):
    def __init__(self, what: str, field: str | None = None) -> None:
        super().__init__(404, "NotFound", f"{what} was not found", field)


class Conflict(ApiError):
    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(409, code, message, field)


class BadRequest(ApiError):
    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(400, code, message, field)


class Unprocessable(ApiError):
    """Well-formed, but orgvend will not do it: outside its scope, a domain not allowed, not adoptable..."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(422, code, message, field)


def out_of_scope(error: OutOfScope) -> Unprocessable:
    """422 OutOfScope: the account or OU named, and why it is outside orgvend's scope."""
    return Unprocessable("OutOfScope", str(error), error.field)


# What an answer of the API may say about an error: never a stack trace, an ARN (of
# orgvend's roles, functions or state machine), an email address, invisible or control
# characters (RTL overrides, zero-width joiners, NUL) or an unbounded echo of the input.
MAX_TEXT = 500
MAX_FIELD = 200
ARN_WITHHELD = "[ARN withheld]"
_STACK_TRACE = re.compile(r'Traceback \(most recent call last\)|\s*File "|"?stackTrace"?\s*:')
_ARN = re.compile(r"\barn:aws[a-z-]*:[^\s\"'`,;()\[\]{}<>]*[^\s\"'`,;()\[\]{}<>.]")
_LAMBDA_ERROR_MESSAGE = re.compile(r'"errorMessage"\s*:\s*("(?:[^"\\]|\\.)*")')
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _visible(character: str) -> str:
    if unicodedata.category(character) not in _HIDDEN:
        return character
    code = ord(character)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def public_text(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` fit for an API answer: cut before any stack trace, ARNs withheld, emails masked,
    hidden characters spelled out as ``\\uXXXX``, at most ``limit`` characters."""
    found = _STACK_TRACE.search(text)
    if found:
        text = text[: found.start()].rstrip(" ,;:{[\"'\n")
    text = "".join(_visible(character) for character in _ARN.sub(ARN_WITHHELD, text))
    text = mask_email_text(text)  # after spelling out: "a\u200d@example.com" is an address too
    return text if len(text) <= limit else text[: limit - 1] + "…"


def public_cause(cause: str | None) -> str | None:
    """The readable part of a failed step's or execution's cause (a Lambda error's errorMessage)."""
    if not cause:
        return None
    message = WorkflowError(error="", cause=cause).message
    if message == readable_failure(cause) and (found := _LAMBDA_ERROR_MESSAGE.search(cause)):
        # A Lambda error whose JSON was cut (Step Functions truncates causes at 32 KiB).
        message = json.loads(found.group(1))
    return public_text(message) or None

"""Powertools Logger, Tracer and Metrics, and the one decorator every step handler wears.

Powertools reads its service name and metrics namespace from the environment
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE`` in template.yaml).

No log line holds an email address: the Logger's formatter masks anything shaped
like one (``aws+acme@example.com`` becomes ``a***@example.com``) in every field of
every record, recursively: the message, extra keys, ``correlation_id``, the Lambda
context keys of ``inject_lambda_context``, an event logged by ``log_event``, the
exception text and its stack trace. An exception that escapes a handler is logged
by the Lambda runtime itself, outside Powertools, so ``inject_lambda_context`` also
masks the message of the exception it lets through (its type, which Step Functions
matches, is kept).
"""

import functools
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from orgvend.models import Model

if TYPE_CHECKING:
    from aws_lambda_powertools.logging.types import LogRecord

# The characters RFC 5322 allows in a local part but "=" and "'" (which delimit values in
# text such as key='value'), and "%" for URL-encoded addresses.
_LOCAL = r"[\w.!#$%&*+/?^`{|}~-]"
# Starts only where a run of local-part characters starts, so that the search stays
# linear on long strings; "%40" is an URL-encoded "@".
EMAIL_PATTERN = re.compile(rf"(?<!{_LOCAL})(?P<local>{_LOCAL}+)(?P<at>@|%40)(?P<domain>[\w-]+(?:\.[\w-]+)+)")


def _masked(match: re.Match[str]) -> str:
    return f"{match['local'][0]}***{match['at']}{match['domain']}"


def mask_email_text(text: str) -> str:
    """``text`` with each email address masked: the first character and the domain stay."""
    if "@" not in text and "%40" not in text:
        return text
    return EMAIL_PATTERN.sub(_masked, text)


def mask_emails(value: Any, default: Callable[[Any], Any] | None = None) -> Any:
    """``value`` with every email address masked, in strings, keys and nested dicts and lists.

    With ``default``, any other object is first turned into JSON by it (as the log
    formatter's serialiser would) and masked too; without, it is kept as it is.
    """
    if isinstance(value, str):
        return mask_email_text(value)
    if isinstance(value, Mapping):
        return {mask_emails(key, default): mask_emails(item, default) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_emails(item, default) for item in value]
    if value is None or isinstance(value, bool | int | float) or default is None:
        return value
    return mask_emails(default(value), default)


class EmailMaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with every email address of the record masked before it is written."""

    def serialize(self, log: "LogRecord") -> str:
        masked: LogRecord = mask_emails(log, default=self.json_default)
        return super().serialize(masked)


def _error_without_emails(error: Exception) -> Exception:
    """``error`` with the email addresses of its message masked; a stand-in of the same name if need be."""
    text = str(error)
    masked = mask_email_text(text)
    if masked == text:
        return error
    error.args = tuple(mask_emails(argument) for argument in error.args)
    if str(error) == masked:
        return error
    # Its message does not come from its args (pydantic's ValidationError): an exception of
    # the same name (what Step Functions matches as errorType) with the masked message.
    stand_in: type[Exception] = type(
        type(error).__name__, (Exception,), {"__module__": type(error).__module__}
    )
    return stand_in(masked)


def masking_errors[**P, R](function: Callable[P, R]) -> Callable[P, R]:
    """The exceptions ``function`` raises leave it with their email addresses masked."""

    @functools.wraps(function)
    def masked(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except Exception as error:
            cleaned = _error_without_emails(error)
            if cleaned is error:
                raise
            raise cleaned.with_traceback(error.__traceback__) from None

    return masked


Handler = TypeVar("Handler", bound=Callable[..., Any])


class MaskingLogger(Logger):
    """Powertools' Logger writing through ``EmailMaskingFormatter``.

    Its ``inject_lambda_context`` also masks the message of an exception that escapes
    the handler, which the Lambda runtime writes to the same log stream.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(logger_formatter=EmailMaskingFormatter(), **options)

    # Logger's own overloads: with a handler, the handler wrapped; without, a decorator.
    @overload
    def inject_lambda_context(
        self,
        lambda_handler: Handler,
        log_event: bool | None = None,
        correlation_id_path: str | None = None,
        clear_state: bool | None = False,
        flush_buffer_on_uncaught_error: bool = False,
    ) -> Handler: ...

    @overload
    def inject_lambda_context(
        self,
        lambda_handler: None = None,
        log_event: bool | None = None,
        correlation_id_path: str | None = None,
        clear_state: bool | None = False,
        flush_buffer_on_uncaught_error: bool = False,
    ) -> Callable[[Handler], Handler]: ...

    def inject_lambda_context(
        self,
        lambda_handler: Handler | None = None,
        log_event: bool | None = None,
        correlation_id_path: str | None = None,
        clear_state: bool | None = False,
        flush_buffer_on_uncaught_error: bool = False,
    ) -> Handler | Callable[[Handler], Handler]:
        if lambda_handler is None:
            return functools.partial(
                self.inject_lambda_context,
                log_event=log_event,
                correlation_id_path=correlation_id_path,
                clear_state=clear_state,
                flush_buffer_on_uncaught_error=flush_buffer_on_uncaught_error,
            )
        return super().inject_lambda_context(
            masking_errors(lambda_handler),
            log_event=log_event,
            correlation_id_path=correlation_id_path,
            clear_state=clear_state,
            flush_buffer_on_uncaught_error=flush_buffer_on_uncaught_error,
        )


logger = MaskingLogger()
# Tracing: Active. Only botocore (every AWS call) is patched: the default (the X-Ray SDK's patch_all,
# which leaves httplib alone) adds nothing else in the layer but sqlite3, which orgvend never uses,
# imported and patched at about 12 ms of every cold start.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()

# Every workflow step's input carries the onboarding or offboarding (or, for the first step,
# the execution): its ID is the correlation ID of all the onboarding's log lines.
CORRELATION_ID_PATH = "onboarding.onboardingId || offboarding.offboardingId || execution.name || onboardingId"

InputModel = TypeVar("InputModel", bound=BaseModel)
type StepFunction[InputModel: BaseModel] = Callable[[InputModel, LambdaContext], Model | dict[str, Any]]
LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def observed_handler[H: Callable[..., Any]](*, correlation_id_path: str | None = None) -> Callable[[H], H]:
    """Powertools' logging (masked, with the correlation ID), tracing and metrics around a Lambda handler.

    The handler keeps its type: Powertools types its tracer's and metrics' decorators as returning
    ``Callable[..., Any]``, though they keep the handler's signature.
    """

    def decorate(handler: H) -> H:
        measured = tracer.capture_lambda_handler(metrics.log_metrics(handler), capture_response=False)
        return logger.inject_lambda_context(
            cast(H, measured), correlation_id_path=correlation_id_path, clear_state=True
        )

    return decorate


def step_handler[M: BaseModel](
    model: type[M], *, correlation_id_path: str = CORRELATION_ID_PATH
) -> Callable[[StepFunction[M]], LambdaHandler]:
    """Make ``function(parsed_input, context) -> Model`` a Lambda handler with logging, tracing and metrics.

    Every function wears it: the workflow's steps (their input carries the onboarding)
    and the event targets (with the event's own ``correlation_id_path``).
    """

    def decorate(function: StepFunction[M]) -> LambdaHandler:
        @observed_handler(correlation_id_path=correlation_id_path)
        @functools.wraps(function)
        @masking_errors  # innermost: the tracer records the masked error too
        def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            # pydantic itself: Powertools' parse() runs this same validation through a TypeAdapter,
            # and importing it (the parser package, pydantic.networks) cost each step 20 ms at cold start.
            result = function(model.model_validate(event), context)
            return result.to_json() if isinstance(result, Model) else result

        return handler

    return decorate

"""Fault injection for tests and benchmarks, through public hooks only.

- botocore's event system, on the session orgvend's functions make their clients
  from (``orgvend.aws.session()``): errors answered instead of calls, throttled
  HTTP responses that botocore's retry mode sees as real ones, crashes.
- The embedded Organizations' own knobs (``OrganizationsBehaviour``): creation
  latency, scripted creation states, the limit of creations in progress.
No product code is edited or patched.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from orgvend import aws

# How each protocol spells a throttling error on the wire.
_JSON_THROTTLE = b'{"__type": "ThrottlingException", "message": "Rate exceeded (injected)"}'
_QUERY_THROTTLE = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
    b"<Message>Rate exceeded (injected)</Message></Error><RequestId>injected</RequestId></ErrorResponse>"
)


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


class FaultInjector:
    """Hooks on orgvend's botocore session; ``clear()`` removes them all."""

    def __init__(self) -> None:
        self._hooks: list[tuple[str, Callable[..., Any]]] = []
        self._lock = threading.RLock()  # a `when` may itself take it
        self.throttled: Counter[str] = Counter()
        # before-call sees the serialised request; keep the API parameters for ``when``.
        self._register("before-parameter-build", self._remember_parameters)

    @staticmethod
    def _remember_parameters(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["api_params"] = dict(params)

    def _register(self, event_name: str, hook: Callable[..., Any]) -> None:
        aws.session().events.register(event_name, hook)
        self._hooks.append((event_name, hook))
        aws.reset()

    def fail(
        self,
        event_name: str,
        code: str,
        *,
        times: int,
        when: Callable[[dict[str, Any]], bool] = lambda params: True,
        status: int = 400,
        extra: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """The next ``times`` calls matching ``when`` answer error ``code``; returns the calls it failed."""
        failed: list[dict[str, Any]] = []

        def hook(context: dict[str, Any], **_: Any) -> Any:
            params = context.get("api_params", {})
            with self._lock:
                if len(failed) >= times or not when(params):
                    return None
                failed.append(params)
            response = AWSResponse("https://fault.invalid", status, HTTPHeaders(), None)
            return response, {
                "Error": {"Code": code, "Message": f"injected {code}"},
                "ResponseMetadata": {"HTTPStatusCode": status},
                **(extra or {}),
            }

        self._register(event_name, hook)
        return failed

    def deny_for(
        self,
        event_name: str,
        code: str,
        seconds: float,
        *,
        key: Callable[[dict[str, Any]], str],
        when: Callable[[dict[str, Any]], bool] = lambda params: True,
    ) -> list[dict[str, Any]]:
        """Calls fail with ``code`` for ``seconds`` after the first call with the same ``key``.

        With ``key`` the role ARN, this is a fresh account's AccessDenied on assume-role.
        """
        first_seen: dict[str, float] = {}

        def denied(params: dict[str, Any]) -> bool:
            if not when(params):
                return False
            with self._lock:
                start = first_seen.setdefault(key(params), time.monotonic())
            return time.monotonic() - start < seconds

        return self.fail(event_name, code, times=10**9, status=403, when=denied)

    def throttle_each_operation_once(self, services: tuple[str, ...]) -> Counter[str]:
        """The first call of every operation of these services gets a throttling HTTP response.

        Injected at ``before-send``, so botocore parses it and its retry mode retries
        it, exactly as a real 400 from AWS.
        """
        seen: set[str] = set()

        def hook(request: Any, **_: Any) -> AWSResponse | None:
            service, operation = request.context.get("service"), request.context.get("operation")
            if service not in services:
                return None
            key = f"{service}.{operation}"
            with self._lock:
                if key in seen:
                    return None
                seen.add(key)
                self.throttled[key] += 1
            body = _QUERY_THROTTLE if service in ("sts", "iam", "sns") else _JSON_THROTTLE
            content_type = "text/xml" if body is _QUERY_THROTTLE else "application/x-amz-json-1.1"
            return AWSResponse(
                request.url, 400, HTTPHeaders.from_dict({"Content-Type": content_type}), _RawBody(body)
            )

        def tag(model: Any, context: dict[str, Any], **_: Any) -> None:
            context["service"] = model.service_model.service_name
            context["operation"] = model.name

        self._register("before-parameter-build", tag)
        self._register("before-send", hook)
        return self.throttled

    def crash_once(
        self, event_name: str, when: Callable[[dict[str, Any]], bool] = lambda params: True
    ) -> list[int]:
        """The first matching call raises an unexpected exception: the Lambda function crashes once."""
        crashed: list[int] = []

        def hook(context: dict[str, Any], **_: Any) -> None:
            with self._lock:
                if crashed or not when(context.get("api_params", {})):
                    return
                crashed.append(1)
            raise RuntimeError("injected crash")

        self._register(event_name, hook)
        return crashed

    def clear(self) -> None:
        for event_name, hook in self._hooks:
            aws.session().events.unregister(event_name, hook)
        self._hooks.clear()
        aws.reset()

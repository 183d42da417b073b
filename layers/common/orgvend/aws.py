"""boto3 clients for the functions, built once per process.

One botocore session carries every client, so a test or benchmark can inject
faults through botocore's public event system (``session().events.register``)
and then call ``reset()`` to have the next clients pick the hooks up.
"""

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode: exponential backoff with jitter for throttling and
# transient errors inside one invocation; the state machine retries beyond that.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    user_agent_appid="orgvend",
    connect_timeout=5,
    read_timeout=30,
)

_session = boto3.session.Session()


def session() -> boto3.session.Session:
    return _session


@cache
def client(service_name: str) -> Any:
    return _session.client(service_name, config=CLIENT_CONFIG)  # type: ignore[call-overload]


def client_with_credentials(service_name: str, credentials: dict[str, Any]) -> Any:
    """A client acting with temporary credentials (an assumed role in a member account)."""
    return _session.client(  # type: ignore[call-overload]
        service_name,
        config=CLIENT_CONFIG,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def reset() -> None:
    """Forget cached clients (after registering event hooks, or changing the environment)."""
    client.cache_clear()


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def error_reason(error: Exception) -> str:
    """Organizations' ConstraintViolationException carries its reason beside the code."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Reason") or response.get("Error", {}).get("Reason", ""))

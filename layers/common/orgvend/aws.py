"""boto3 clients for the functions, built once per process (per set of credentials).

One botocore session carries every client, so a test or benchmark can inject
faults through botocore's public event system (``session().events.register``)
and then call ``reset()`` to have the next clients pick the hooks up.

Lambda gives a function its execution role's credentials in the environment. The
clients are kept per set of those credentials: in Lambda they never change for a
process, and the embedded AWS (``make run``) runs every function of the stack in
one process, each under its own role, as Lambda runs them in sandboxes of their own.
"""

import os
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


def _environment_credentials() -> tuple[str, str, str] | None:
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        return None  # a profile, SSO, instance metadata: botocore's own chain finds them
    return key, secret, os.environ.get("AWS_SESSION_TOKEN", "")


@cache
def _client(service_name: str, credentials: tuple[str, str, str] | None) -> Any:
    if credentials is None:
        return _session.client(service_name, config=CLIENT_CONFIG)  # type: ignore[call-overload]
    key, secret, token = credentials
    return _session.client(  # type: ignore[call-overload]
        service_name,
        config=CLIENT_CONFIG,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token or None,
    )


def client(service_name: str) -> Any:
    return _client(service_name, _environment_credentials())


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
    _client.cache_clear()


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def error_reason(error: Exception) -> str:
    """Organizations' ConstraintViolationException carries its reason beside the code."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Reason") or response.get("Error", {}).get("Reason", ""))

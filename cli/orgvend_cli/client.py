"""The orgvend HTTP API as the CLI calls it: SigV4-signed requests (botocore) sent with urllib3.

Every request is signed for ``execute-api`` with the caller's usual AWS credentials.
Only the local API (``make run``) may be called unsigned, when no credentials exist.
Retries are few and safe: connection errors, throttling and 502-504 answers are retried
for GETs and for POSTs that carry an Idempotency-Key (the API answers the same
onboarding for the same key), never for other POSTs.
"""

import json
import re
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import metadata
from typing import Any, TextIO
from urllib.parse import urlencode, urlsplit

import botocore.session
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ProfileNotFound

SERVICE = "execute-api"
DEFAULT_REGION = "us-east-1"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# https://<api-id>.execute-api.<region>.amazonaws.com[.cn]/<stage>
EXECUTE_API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "or run aws configure (or pass --profile)"
)


def version() -> str:
    try:
        return metadata.version("orgvend")
    except metadata.PackageNotFoundError:
        return "0"


def signing_region(explicit: str | None, host: str, configured: str | None) -> str:
    """--region, else the region in an execute-api URL, else the AWS config/env, else us-east-1."""
    if explicit:
        return explicit
    found = EXECUTE_API_HOST.match(host)
    if found:
        return found.group(1)
    return configured or DEFAULT_REGION


class CliError(Exception):
    """A failure the CLI reports in one message and exits on (2 unless said otherwise)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class ApiError(CliError):
    """The API answered an error: ``{"error": {"code", "message", "field", "details"}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        details: list[dict[str, Any]] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, 1 if 400 <= status < 500 else 2)
        self.status = status
        self.code = code
        self.field = field
        self.details = details or []
        self.hint = hint
        self.body: dict[str, Any] | None = None


@dataclass
class Connection:
    """Where the API is and how to sign for it."""

    api_url: str
    profile: str | None = None
    region: str | None = None
    timeout: float = 30.0
    connect_timeout: float = 5.0
    attempts: int = 3
    backoff: float = 0.25
    debug: bool = False
    stderr: TextIO = field(default_factory=lambda: sys.stderr)


def is_local(host: str | None) -> bool:
    return host in LOCAL_HOSTS


def profile_not_found(error: ProfileNotFound, profile: str | None) -> CliError:
    name = error.kwargs.get("profile", profile)
    source = "" if profile else " (from AWS_PROFILE)"
    return CliError(
        f"AWS profile {name!r}{source} not found: check ~/.aws/config or run aws configure --profile {name}"
    )


class ApiClient:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.api_url = connection.api_url.rstrip("/")
        parts = urlsplit(self.api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CliError(
                f"invalid API URL {connection.api_url!r}: expected http(s)://host[:port][/stage] "
                "(pass --api-url or set ORGVEND_API_URL)"
            )
        self.host = parts.hostname
        self.local = is_local(self.host)
        self._session: botocore.session.Session | None = None
        self._credentials: Credentials | None = None
        self._region: str | None = None
        self._pool: urllib3.PoolManager | None = None

    # -- credentials and region --------------------------------------------------------------

    def _botocore_session(self) -> botocore.session.Session:
        if self._session is None:
            self._session = botocore.session.Session(profile=self.connection.profile)
        return self._session

    def _load(self) -> None:
        """Credentials and region, once, before the first request (so nothing is sent without them)."""
        if self._pool is not None:
            return
        try:
            session = self._botocore_session()
            if self.local:
                # The local API needs no signature: never wait on the instance metadata service for it.
                resolver = session.get_component("credential_provider")
                for name in ("iam-role", "container-role"):
                    resolver.remove(name)
            credentials = session.get_credentials()
            self._region = self._pick_region(session)
            ca_bundle = session.get_config_variable("ca_bundle")
        except ProfileNotFound as error:
            raise profile_not_found(error, self.connection.profile) from None
        except BotoCoreError as error:
            raise CliError(f"cannot load AWS credentials: {error}") from None
        if credentials is None and not self.local:
            raise CliError(NO_CREDENTIALS)
        self._credentials = credentials
        self._pool = self._make_pool(ca_bundle)

    def _pick_region(self, session: botocore.session.Session) -> str:
        return signing_region(self.connection.region, self.host, session.get_config_variable("region"))

    @property
    def region(self) -> str:
        self._load()
        return self._region or DEFAULT_REGION

    def _make_pool(self, ca_bundle: str | None) -> urllib3.PoolManager:
        timeout = urllib3.Timeout(connect=self.connection.connect_timeout, read=self.connection.timeout)
        options: dict[str, Any] = {"timeout": timeout, "retries": False}
        if ca_bundle:
            options["ca_certs"] = ca_bundle
        scheme = urlsplit(self.api_url).scheme
        proxy = urllib.request.getproxies().get(scheme)
        if proxy and not self.local and not urllib.request.proxy_bypass(self.host):
            return urllib3.ProxyManager(proxy, **options)
        return urllib3.PoolManager(**options)

    def _headers(
        self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]
    ) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
        if self._credentials is not None:
            try:
                frozen = self._credentials.get_frozen_credentials()
            except BotoCoreError as error:
                raise CliError(f"cannot refresh AWS credentials: {error} (for SSO: aws sso login)") from None
            SigV4Auth(frozen, SERVICE, self.region).add_auth(request)
        prepared = request.prepare()
        return {name: str(value) for name, value in prepared.headers.items()}

    # -- requests ------------------------------------------------------------------------

    def get(self, path: str, query: Mapping[str, str | int | None] | None = None) -> Any:
        return self.request("GET", path, query=query)

    def get_text(self, path: str, query: Mapping[str, str | int | None] | None = None) -> str:
        """A GET whose success body is a document (an export), not JSON."""
        return str(self.request("GET", path, query=query, text=True))

    def post(self, path: str, body: Any = None, idempotency_key: str | None = None) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.request("POST", path, body=body, headers=headers)

    def url(self, path: str, query: Mapping[str, str | int | None] | None = None) -> str:
        pairs = {name: str(value) for name, value in (query or {}).items() if value is not None}
        return self.api_url + path + (f"?{urlencode(sorted(pairs.items()))}" if pairs else "")

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | int | None] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        text: bool = False,
    ) -> Any:
        self._load()
        url = self.url(path, query)
        data = None if body is None else json.dumps(body).encode()
        base = {"Accept": "application/json", "User-Agent": f"orgvend-cli/{version()}", **(headers or {})}
        if data is not None:
            base["Content-Type"] = "application/json"
        retryable = method in SAFE_METHODS or any(name.lower() == "idempotency-key" for name in base)
        attempts = self.connection.attempts if retryable else 1
        for attempt in range(1, attempts + 1):
            signed = self._headers(method, url, data, base)  # re-signed: a fresh X-Amz-Date each time
            started = time.monotonic()
            self._log(f"> {method} {url}" + (f" (attempt {attempt})" if attempt > 1 else ""))
            try:
                response = self._send(method, url, data, signed)
            except urllib3.exceptions.HTTPError as error:
                self._log(f"< {type(error).__name__}: {error}")
                if attempt < attempts:
                    self._pause(attempt)
                    continue
                raise self._unreachable(error) from None
            self._log(f"< {response.status} ({time.monotonic() - started:.2f} s)")
            if response.status in RETRY_STATUSES and attempt < attempts:
                self._pause(attempt, response.headers.get("Retry-After"))
                continue
            if text and 200 <= response.status < 300:
                return (response.data or b"").decode()
            return self._answer(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> Any:
        assert self._pool is not None
        return self._pool.request(method, url, body=data, headers=headers, redirect=False)

    def _pause(self, attempt: int, retry_after: str | None = None) -> None:
        delay = self.connection.backoff * 2 ** (attempt - 1)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), 10.0))
        time.sleep(delay)

    def _log(self, line: str) -> None:
        if self.connection.debug:
            print(line, file=self.connection.stderr)

    def _unreachable(self, error: urllib3.exceptions.HTTPError) -> CliError:
        # urllib3 says "HTTPConnection(host=..., port=...): Failed to establish a new connection: <why>".
        reason = re.sub(r"^.*Failed to establish a new connection: ", "", str(error))
        if isinstance(error, urllib3.exceptions.ReadTimeoutError):
            return CliError(
                f"the orgvend API at {self.api_url} did not answer within {self.connection.timeout:g} s"
            )
        if self.local:
            hint = "is `make run` running? or pass --api-url"
        else:
            hint = "check --api-url / ORGVEND_API_URL and your network"
        return CliError(f"cannot reach the orgvend API at {self.api_url}: {reason} ({hint})")

    def _answer(self, response: Any) -> Any:
        raw: bytes = response.data or b""
        try:
            payload = json.loads(raw) if raw.strip() else None
        except ValueError:
            payload = None
        if 200 <= response.status < 300:
            if payload is None and raw.strip():
                raise CliError(
                    f"the API at {self.api_url} answered {response.status} with a body that is not JSON"
                )
            return payload
        raise self._error(response, payload, raw)

    def _error(self, response: Any, payload: Any, raw: bytes) -> ApiError:
        status = int(response.status)
        info = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(info, dict) and "code" in info:
            error = ApiError(
                status,
                str(info["code"]),
                str(info.get("message", "")),
                field=info.get("field"),
                details=[d for d in info.get("details") or [] if isinstance(d, dict)],
            )
            error.body = payload
            return error
        # Not the API's own error: API Gateway's ({"message": ...} and x-amzn-ErrorType) or a proxy's.
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = f"HTTP {status}"
        gateway_type = str(response.headers.get("x-amzn-ErrorType", "")).split(":")[0]
        message = ""
        if isinstance(payload, dict):
            message = str(payload.get("message") or payload.get("Message") or "")
        if not message:
            message = raw.decode(errors="replace").strip()[:300] or phrase
        code = gateway_type or phrase.replace(" ", "")
        return ApiError(status, code, message, hint=self._gateway_hint(status, code, message))

    def _gateway_hint(self, status: int, code: str, message: str) -> str | None:
        text = f"{code} {message}".lower()
        if "missing authentication token" in text or "missingauthenticationtoken" in text:
            return (
                "API Gateway does not know this path, or the request was not signed: "
                "check --api-url (it ends with the stage, e.g. .../v1) and your AWS credentials"
            )
        if "signature" in text:
            return f"the signature was refused: is {self.region} the API's region? (pass --region)"
        if "security token" in text or "expired" in text:
            return "your AWS credentials are invalid or expired: refresh them (aws sso login / aws configure)"
        if status == 403:
            return "your AWS identity may not call this API: it needs execute-api:Invoke on it"
        if status == 429:
            return "the API is throttling requests: try again in a moment"
        return None

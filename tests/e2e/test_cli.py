"""The operators' command line `orgvend` against the embedded API (and a fake one for the wire details).

Commands run in-process through ``orgvend_cli.main.main`` (with their own output
streams: the handlers of the embedded AWS print to this process's stdout), and as the
installed ``orgvend`` command where credentials matter: the embedded AWS swaps
``os.environ`` while a function runs, so environment-dependent cases get a process
of their own.
"""

import csv
import io
import json
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from orgvend_cli.client import NO_CREDENTIALS, signing_region
from orgvend_cli.main import main

from .conftest import FaultInjector, Harness, free_port, request_for

pytestmark = pytest.mark.e2e

ORGVEND = Path(sys.executable).with_name("orgvend")
ONBOARDING_ID = re.compile(r"\bk-[0-9a-f]{48}\b")
REMOTE_URL = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1"


@dataclass
class Run:
    code: int
    out: str
    err: str


def cli(*args: str) -> Run:
    """``orgvend ARGS`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return Run(code, out.getvalue(), err.getvalue())


def installed(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
    """``orgvend ARGS`` as the installed console script, in a process of its own."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("ORGVEND_")}
    for name, value in (env or {}).items():
        if value:
            environment[name] = value
        else:  # unset, not empty: botocore reads an empty AWS_PROFILE as a profile named ""
            environment.pop(name, None)
    done = subprocess.run(
        [str(ORGVEND), *args], capture_output=True, text=True, env=environment, timeout=timeout, check=False
    )
    return Run(done.returncode, done.stdout, done.stderr)


def without_credentials(**extra: str) -> dict[str, str]:
    """An environment where botocore finds no AWS credentials at all ("" unsets a variable)."""
    return {
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SESSION_TOKEN": "",
        "AWS_PROFILE": "",
        "AWS_DEFAULT_PROFILE": "",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
        "AWS_WEB_IDENTITY_TOKEN_FILE": "",
        **extra,
    }


def with_credentials(**extra: str) -> dict[str, str]:
    return without_credentials(
        AWS_ACCESS_KEY_ID="AKIDCLITEST",
        AWS_SECRET_ACCESS_KEY="cli-test-secret",
        AWS_SESSION_TOKEN="cli-test-token",
        **extra,
    )


def api_post(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = urllib3.request(
        "POST", url + path, body=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status == 202, response.data
    return dict(json.loads(response.data))


def execution_arn(embedded: Harness, onboarding_id: str) -> str:
    prefix, _, name = embedded.outputs["OnboardAccountStateMachineArn"].rpartition(":stateMachine:")
    return f"{prefix}:execution:{name}:{onboarding_id}"


def fail_at_place_account(embedded: Harness, unique: str, faults: FaultInjector) -> dict[str, str]:
    """Onboard through the API while MoveAccount is denied: FAILED at PlaceAccount, account marked FAILED."""
    request = request_for(unique)
    faults.fail("before-call.organizations.MoveAccount", "AccessDeniedException", times=10)
    onboarding_id = api_post(embedded.outputs["ApiUrl"], "/accounts", request)["onboardingId"]
    execution = embedded.wait(execution_arn(embedded, onboarding_id))
    assert execution["status"] == "FAILED", execution
    account_id = embedded.eventually(
        lambda: (embedded.onboarding_item(onboarding_id) or {}).get("accountId"), what="account recorded"
    )
    embedded.eventually(
        lambda: (embedded.account_item(account_id) or {}).get("status") == "FAILED",
        what="account marked FAILED",
    )
    faults.clear()
    return {"onboardingId": onboarding_id, "accountId": account_id, **request}


@pytest.fixture(scope="module")
def api(embedded: Harness) -> str:
    return embedded.outputs["ApiUrl"]


@pytest.fixture(scope="module")
def succeeded(api: str) -> tuple[Run, dict[str, str]]:
    """`orgvend onboard --wait` as the installed command: one onboarding that succeeded."""
    request = request_for(uuid.uuid4().hex[:8])
    run = installed(
        "--api-url",
        api,
        "onboard",
        "--client",
        request["client"],
        "--project",
        request["project"],
        "--email",
        request["email"],
        "--tag",
        "cost-center=42",
        "--wait",
        "--interval",
        "0.2",
        env=without_credentials(),  # the local API takes unsigned requests
    )
    return run, request


@pytest.fixture(scope="module")
def failed(embedded: Harness) -> Iterator[dict[str, str]]:
    injector = FaultInjector()
    try:
        yield fail_at_place_account(embedded, uuid.uuid4().hex[:8], injector)
    finally:
        injector.clear()


def succeeded_ids(succeeded: tuple[Run, dict[str, str]]) -> tuple[str, str]:
    run, _ = succeeded
    assert run.code == 0, run
    [onboarding_id] = set(ONBOARDING_ID.findall(run.out))
    [account_id] = set(re.findall(r"account (\d{12}) is ready", run.out))
    return onboarding_id, account_id


# -- onboard and status ------------------------------------------------------------------


def test_onboard_wait_follows_each_step_and_prints_the_account(
    embedded: Harness, succeeded: tuple[Run, dict[str, str]]
) -> None:
    run, request = succeeded
    assert run.code == 0, run.err
    onboarding_id, account_id = succeeded_ids(succeeded)
    assert f"Onboarding {onboarding_id} started." in run.out
    for step in ("RecordRequest", "CreateAccount", "PlaceAccount", "ApplyBaseline", "RegisterAccount"):
        assert re.search(rf"^  {step}\s+SUCCEEDED", run.out, re.MULTILINE), step
    assert re.search(rf"^Account\s+{account_id} \({request['client']}-web\)$", run.out, re.MULTILINE)
    assert re.search(r"^STEP\s+TYPE\s+STATUS\s+DURATION\s+ATTEMPTS\s+RETRIES\s+ERROR$", run.out, re.MULTILINE)
    # What the CLI said is what happened.
    assert embedded.onboarding_item(onboarding_id)["accountId"] == account_id
    assert embedded.account_item(account_id)["status"] == "ACTIVE"


def test_status_of_a_succeeded_onboarding(api: str, succeeded: tuple[Run, dict[str, str]]) -> None:
    onboarding_id, account_id = succeeded_ids(succeeded)

    run = cli("--api-url", api, "status", onboarding_id)
    assert run.code == 0, run.err
    assert re.search(r"^Status\s+SUCCEEDED$", run.out, re.MULTILINE)
    assert account_id in run.out

    as_json = cli("--api-url", api, "--format", "json", "status", onboarding_id)
    view = json.loads(as_json.out)
    assert as_json.code == 0 and view["status"] == "SUCCEEDED" and view["accountId"] == account_id
    assert [step["name"] for step in view["timeline"]][:2] == ["Configure", "RecordRequest"]

    as_csv = cli("--api-url", api, "status", onboarding_id, "--format", "csv")  # options after the command
    rows = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert as_csv.code == 0 and {row["name"]: row["status"] for row in rows}["PlaceAccount"] == "SUCCEEDED"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_status_watch_on_a_terminal_redraws_the_view(api: str, succeeded: tuple[Run, dict[str, str]]) -> None:
    onboarding_id, account_id = succeeded_ids(succeeded)
    terminal = Terminal()

    code = main(["--api-url", api, "status", onboarding_id, "--watch"], stdout=terminal, stderr=io.StringIO())

    assert code == 0
    screen = terminal.getvalue()
    assert screen.startswith("\x1b[H\x1b[2J")  # home, clear: the view is redrawn, not appended to
    assert re.search(r"^Status\s+SUCCEEDED$", screen, re.MULTILINE)
    assert screen.rstrip().endswith(f"account {account_id} is ready.")


def test_status_of_a_failed_onboarding_shows_the_failing_step_and_exits_1(
    api: str, failed: dict[str, str]
) -> None:
    run = cli("--api-url", api, "status", failed["onboardingId"])

    assert run.code == 1, run
    assert re.search(r"^Status\s+FAILED$", run.out, re.MULTILINE)
    assert re.search(r"^Error\s+OrganizationsRejected", run.out, re.MULTILINE)
    assert re.search(
        r"^PlaceAccount\s+Task\s+FAILED\s+\S+ s\s+\d+\s+\d+\s+OrganizationsRejected: ", run.out, re.MULTILINE
    )
    assert "PlaceAccount failed: OrganizationsRejected" in run.out
    assert re.search(rf"^Account\s+{failed['accountId']} ", run.out, re.MULTILINE)


def test_status_watch_of_a_failed_onboarding_exits_1_and_says_how_to_resume(
    api: str, failed: dict[str, str]
) -> None:
    run = cli("--api-url", api, "status", failed["onboardingId"], "--watch", "--interval", "0.2")

    assert run.code == 1, run
    assert re.search(r"^  PlaceAccount\s+FAILED\s.*OrganizationsRejected", run.out, re.MULTILINE)
    assert f"Onboarding {failed['onboardingId']} FAILED at PlaceAccount: OrganizationsRejected" in run.out
    assert f"retry {failed['onboardingId']} --wait" in run.out

    as_json = cli("--api-url", api, "--format", "json", "status", failed["onboardingId"], "--watch")
    assert as_json.code == 1 and json.loads(as_json.out)["error"] == "OrganizationsRejected"


def test_onboardings_status_failed_lists_the_failed_one(api: str, failed: dict[str, str]) -> None:
    run = cli("--api-url", api, "onboardings", "--status", "FAILED", "--all")
    assert run.code == 0, run.err
    [line] = [line for line in run.out.splitlines() if failed["onboardingId"] in line]
    assert line.split()[1:5] == ["FAILED", failed["client"], "web", failed["accountId"]]
    assert "SUCCEEDED" not in run.out

    as_json = json.loads(cli("--api-url", api, "onboardings", "--status", "FAILED", "--format", "json").out)
    assert failed["onboardingId"] in [item["onboardingId"] for item in as_json["items"]]
    assert {item["status"] for item in as_json["items"]} == {"FAILED"}


def test_onboardings_all_follows_next_token(
    api: str, succeeded: tuple[Run, dict[str, str]], failed: dict[str, str]
) -> None:
    succeeded_ids(succeeded)
    one = json.loads(cli("--api-url", api, "--format", "json", "onboardings", "--limit", "1").out)
    assert len(one["items"]) == 1 and one["nextToken"]

    every = json.loads(cli("--api-url", api, "--format", "json", "onboardings", "--limit", "1", "--all").out)
    ids = [item["onboardingId"] for item in every["items"]]
    assert len(ids) >= 2 and len(ids) == len(set(ids)) and every["nextToken"] is None
    assert failed["onboardingId"] in ids

    table = cli("--api-url", api, "onboardings", "--limit", "1")
    assert "--next-token" in table.err and len(table.out.splitlines()) == 2


# -- accounts ------------------------------------------------------------------------------


def test_accounts_of_a_client_as_json_csv_and_table(api: str, succeeded: tuple[Run, dict[str, str]]) -> None:
    _, request = succeeded
    _, account_id = succeeded_ids(succeeded)
    client = request["client"]

    as_json = cli("--api-url", api, "accounts", "--client", client, "--format", "json")
    assert as_json.code == 0, as_json.err
    [account] = json.loads(as_json.out)["items"]
    assert account["accountId"] == account_id and account["status"] == "ACTIVE"
    assert account["tags"]["cost-center"] == "42"

    as_csv = cli(
        "--api-url", api, "--format", "csv", "accounts", "--client", client, "--project", "web", "--all"
    )
    assert as_csv.code == 0, as_csv.err
    [row] = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert row["accountId"] == account_id and row["client"] == client and row["email"] == request["email"]
    assert row["status"] == "ACTIVE" and "cost-center=42" in row["tags"].split(";")

    table = cli("--api-url", api, "accounts", "--client", client, "--status", "ACTIVE")
    header, line = table.out.splitlines()
    assert header.split()[:3] == ["ACCOUNT", "ID", "NAME"]
    assert line.split()[:5] == [account_id, f"{client}-web", client, "web", "ACTIVE"]

    nothing = cli("--api-url", api, "accounts", "--client", client, "--status", "FAILED")
    assert nothing.code == 0 and nothing.out.strip() == "no accounts match"


def test_account_shows_one_account(api: str, succeeded: tuple[Run, dict[str, str]]) -> None:
    _, request = succeeded
    onboarding_id, account_id = succeeded_ids(succeeded)

    run = cli("--api-url", api, "account", account_id)
    assert run.code == 0, run.err
    assert re.search(rf"^Account\s+{account_id}$", run.out, re.MULTILINE)
    assert re.search(r"^Status\s+ACTIVE$", run.out, re.MULTILINE)
    assert re.search(rf"^Onboarding\s+{onboarding_id}$", run.out, re.MULTILINE)
    assert re.search(r"^Switch role\s+https://signin\.aws\.amazon\.com/switchrole\?", run.out, re.MULTILINE)

    as_json = json.loads(cli("--api-url", api, "--format", "json", "account", account_id).out)
    assert as_json["accountId"] == account_id and as_json["email"] == request["email"]


def test_account_errors_print_code_message_and_field(api: str) -> None:
    missing = cli("--api-url", api, "account", "000000000000")
    assert missing.code == 1 and missing.out == ""
    assert "error: NotFound (HTTP 404): account 000000000000 was not found" in missing.err
    assert "field: accountId" in missing.err

    project_alone = cli("--api-url", api, "accounts", "--project", "web")
    assert project_alone.code == 1
    assert "MissingFilter" in project_alone.err and "field: project" in project_alone.err


# -- onboard errors and retry ------------------------------------------------------------------


def test_onboard_refused_by_the_api_exits_1_with_the_field(api: str, unique: str) -> None:
    run = cli("--api-url", api, "onboard", "--client", f"c{unique}", "--project", "web", "--email", "nope")
    assert run.code == 1
    assert "error: ValidationError (HTTP 422): email:" in run.err and "field: email" in run.err


def test_onboard_without_wait_prints_the_id_and_how_to_follow_it(
    embedded: Harness, api: str, unique: str
) -> None:
    request = request_for(unique)
    key = f"cli-test-{unique}"
    arguments = ["--api-url", api, "onboard", "--client", request["client"], "--project", "web"]
    arguments += ["--email", request["email"], "--idempotency-key", key]

    run = cli(*arguments)
    assert run.code == 0, run.err
    [onboarding_id] = ONBOARDING_ID.findall(run.out.splitlines()[0])
    assert f"orgvend --api-url {api} status {onboarding_id} --watch" in run.out

    # The same key again is the same onboarding (what makes the CLI's own retries safe).
    again = cli(*arguments, "--format", "json")
    assert again.code == 0, again.err
    assert json.loads(again.out)["onboardingId"] == onboarding_id
    assert embedded.wait(execution_arn(embedded, onboarding_id))["status"] == "SUCCEEDED"


def test_adopt_registers_an_existing_member_account(embedded: Harness, api: str, unique: str) -> None:
    email = f"aws+{unique}@example.com"
    _, account_id = embedded.create_member(email, f"legacy-{unique}")  # made outside orgvend, in its scope

    run = cli(
        "--api-url", api, "adopt", account_id, "--client", f"c{unique}", "--project", "legacy", "--wait"
    )

    assert run.code == 0, run
    assert f"account {account_id} is ready" in run.out
    assert "VerifyMemberAccount" in run.out and "CreateAccount " not in run.out
    assert embedded.account_item(account_id)["client"] == f"c{unique}"


def test_retry_of_a_succeeded_onboarding_is_refused(api: str, succeeded: tuple[Run, dict[str, str]]) -> None:
    onboarding_id, _ = succeeded_ids(succeeded)
    run = cli("--api-url", api, "retry", onboarding_id)
    assert run.code == 1
    assert "error: NotRetryable (HTTP 409)" in run.err and "SUCCEEDED" in run.err


def test_retry_resumes_a_failed_onboarding(
    embedded: Harness, api: str, unique: str, faults: FaultInjector
) -> None:
    failure = fail_at_place_account(embedded, unique, faults)

    run = cli("--api-url", api, "retry", failure["onboardingId"], "--wait", "--interval", "0.2")

    assert run.code == 0, run
    assert "no second account is created" in run.out
    assert f"account {failure['accountId']} is ready" in run.out
    assert re.search(r"^Retried\s+1$", run.out, re.MULTILINE)
    assert embedded.account_item(failure["accountId"])["status"] == "ACTIVE"


# -- connection, credentials and the wire -------------------------------------------------


def test_unreachable_api_exits_2_and_says_what_to_do() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    run = cli("--api-url", url, "onboardings")
    assert run.code == 2 and run.out == ""
    assert f"cannot reach the orgvend API at {url}:" in run.err
    assert "(is `make run` running? or pass --api-url)" in run.err


def test_api_url_comes_from_the_environment() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    run = installed("health", env={**without_credentials(), "ORGVEND_API_URL": url})
    assert run.code == 2 and f"cannot reach the orgvend API at {url}:" in run.err


def test_remote_api_without_credentials_says_how_to_get_them() -> None:
    run = installed("--api-url", REMOTE_URL, "accounts", env=without_credentials())
    assert run.code == 2, run
    assert run.err.strip() == (f"error: {NO_CREDENTIALS}")

    unknown_profile = installed(
        "--api-url", REMOTE_URL, "--profile", "nobody", "accounts", env=without_credentials()
    )
    assert unknown_profile.code == 2 and "AWS profile 'nobody' not found" in unknown_profile.err


def test_the_signing_region_comes_from_the_option_the_url_or_the_config() -> None:
    host = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
    assert signing_region("ap-south-1", host, "us-west-2") == "ap-south-1"
    assert signing_region(None, host, "us-west-2") == "eu-west-1"
    assert signing_region(None, "a1b2.execute-api.cn-north-1.amazonaws.com.cn", None) == "cn-north-1"
    assert signing_region(None, "api.example.com", "us-west-2") == "us-west-2"
    assert signing_region(None, "api.example.com", None) == "us-east-1"


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("onboard", "--client", "x").code == 2
    assert cli("onboard", "--client", "x", "--project", "y", "--email", "e", "--tag", "novalue").code == 2
    assert cli("onboardings", "--limit", "500").code == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err
    assert cli("--help").code == 0
    assert "onboard" in capsys.readouterr().out


@dataclass
class FakeApi:
    """A local HTTP server that records each request and answers from a script."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    replies: list[tuple[int, Any]] = field(default_factory=list)


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    fake = FakeApi(url="")

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fake.requests.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            )
            status, payload = (
                fake.replies.pop(0) if fake.replies else (200, {"status": "ok", "version": "fake"})
            )
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = answer

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def expected_signature(fake: FakeApi, request: dict[str, Any], region: str) -> str:
    """What API Gateway computes for the request as it arrived (botocore's own SigV4, same date)."""
    signed_names = re.search(r"SignedHeaders=([^,]+)", request["headers"]["Authorization"]).group(1)
    headers = {
        name: value for name, value in request["headers"].items() if name.lower() in signed_names.split(";")
    }
    origin = fake.url.removesuffix("/v1")
    received = AWSRequest(request["method"], origin + request["path"], data=request["body"], headers=headers)
    received.context["timestamp"] = request["headers"]["X-Amz-Date"]
    signer = SigV4Auth(Credentials("AKIDCLITEST", "cli-test-secret", "cli-test-token"), "execute-api", region)
    canonical = signer.canonical_request(received)
    return str(signer.signature(signer.string_to_sign(received, canonical), received))


def test_requests_are_signed_with_sigv4_for_execute_api(fake_api: FakeApi) -> None:
    fake_api.replies.append((200, {"items": [], "nextToken": None}))

    run = installed(
        "--api-url",
        fake_api.url,
        "accounts",
        "--client",
        "acme",
        env=with_credentials(AWS_DEFAULT_REGION="eu-west-1"),
    )

    assert run.code == 0, run
    [request] = fake_api.requests
    assert request["method"] == "GET" and request["path"] == "/v1/accounts?client=acme"
    headers = request["headers"]
    authorization = headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDCLITEST/")
    assert re.search(r"Credential=AKIDCLITEST/\d{8}/eu-west-1/execute-api/aws4_request,", authorization)
    assert "SignedHeaders=" in authorization and "host" in authorization and "x-amz-date" in authorization
    assert re.search(r"Signature=[0-9a-f]{64}$", authorization)
    assert headers["X-Amz-Security-Token"] == "cli-test-token"
    assert re.fullmatch(r"\d{8}T\d{6}Z", headers["X-Amz-Date"])
    assert authorization.endswith(f"Signature={expected_signature(fake_api, request, 'eu-west-1')}")


def test_region_option_and_post_body_are_signed(fake_api: FakeApi) -> None:
    fake_api.replies.append(
        (202, {"onboardingId": "k-1", "status": "RUNNING", "links": {"self": "/onboardings/k-1"}})
    )

    run = installed(
        "--api-url",
        fake_api.url,
        "--region",
        "ap-southeast-2",
        "onboard",
        "--client",
        "acme",
        "--project",
        "web",
        "--email",
        "aws+acme@example.com",
        "--tag",
        "team=platform",
        "--role-name",
        "OrgAdmin",
        env=with_credentials(),
    )

    assert run.code == 0, run
    [request] = fake_api.requests
    headers = request["headers"]
    assert "/ap-southeast-2/execute-api/aws4_request" in headers["Authorization"]
    assert headers["Authorization"].endswith(
        f"Signature={expected_signature(fake_api, request, 'ap-southeast-2')}"
    )
    assert "idempotency-key" in re.search(r"SignedHeaders=([^,]+)", headers["Authorization"]).group(1)
    assert uuid.UUID(headers["Idempotency-Key"]).version == 4
    assert json.loads(request["body"]) == {
        "client": "acme",
        "project": "web",
        "email": "aws+acme@example.com",
        "roleName": "OrgAdmin",
        "tags": {"team": "platform"},
    }


def test_a_post_with_an_idempotency_key_is_retried_with_the_same_key(fake_api: FakeApi) -> None:
    fake_api.replies += [
        (503, {"message": "Service Unavailable"}),
        (502, {"message": "Internal server error"}),
        (202, {"onboardingId": "k-2", "status": "RUNNING", "links": {"self": "/onboardings/k-2"}}),
    ]

    run = cli(
        "--api-url",
        fake_api.url,
        "onboard",
        "--client",
        "a",
        "--project",
        "b",
        "--email",
        "aws+ab@example.com",
    )

    assert run.code == 0, run
    assert "Onboarding k-2 started" in run.out
    keys = [request["headers"]["Idempotency-Key"] for request in fake_api.requests]
    assert len(keys) == 3 and len(set(keys)) == 1


def test_a_post_without_an_idempotency_key_is_never_retried(fake_api: FakeApi) -> None:
    fake_api.replies += [(503, {"message": "Service Unavailable"}), (202, {})]

    run = cli("--api-url", fake_api.url, "retry", "k-3")

    assert run.code == 2, run
    assert len(fake_api.requests) == 1
    assert fake_api.requests[0]["path"] == "/v1/onboardings/k-3/retry"
    assert "error: ServiceUnavailable (HTTP 503): Service Unavailable" in run.err


def test_a_get_is_retried_on_502_to_504(fake_api: FakeApi) -> None:
    fake_api.replies += [(504, {"message": "Endpoint request timed out"})]

    run = cli("--api-url", fake_api.url, "--format", "json", "health", "--debug")

    assert run.code == 0, run
    assert json.loads(run.out) == {"status": "ok", "version": "fake"}
    assert len(fake_api.requests) == 2
    assert f"> GET {fake_api.url}/health (attempt 2)" in run.err and "< 504" in run.err


def test_gateway_errors_without_the_api_error_shape_are_explained(fake_api: FakeApi) -> None:
    fake_api.replies += [(403, {"message": "Missing Authentication Token"})]

    run = cli("--api-url", fake_api.url, "account", "123456789012")

    assert run.code == 1
    assert "error: Forbidden (HTTP 403): Missing Authentication Token" in run.err
    assert "check --api-url" in run.err


def test_server_errors_exit_2(fake_api: FakeApi) -> None:
    fake_api.replies += [(500, {"error": {"code": "InternalError", "message": "boom"}})]

    run = cli("--api-url", fake_api.url, "account", "123456789012")

    assert run.code == 2
    assert "error: InternalError (HTTP 500): boom" in run.err

"""The HTTP API end to end: HTTP requests to the local API, the real handler, the real workflow."""

import json
import threading
from typing import Any

import pytest
import urllib3

from .conftest import CREATED_ACCOUNT_STATES, FaultInjector, Harness, request_for

pytestmark = pytest.mark.e2e
http = urllib3.PoolManager(retries=False, timeout=30)


def call(
    embedded: Harness, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
    response = http.request(
        method,
        embedded.outputs["ApiUrl"] + path,
        body=data,
        headers={"content-type": "application/json", **(headers or {})},
    )
    try:
        return response.status, json.loads(response.data) if response.data else None
    except ValueError:
        return response.status, response.data.decode()


def onboard(embedded: Harness, request: dict[str, Any], key: str | None = None) -> str:
    status, body = call(embedded, "POST", "/accounts", request, {"Idempotency-Key": key} if key else None)
    assert status == 202, body
    assert body["status"] == "RUNNING"
    return str(body["onboardingId"])


def finished(embedded: Harness, onboarding_id: str, timeout: float = 60) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        status, body = call(embedded, "GET", f"/onboardings/{onboarding_id}")
        assert status == 200, body
        return body if body["status"] not in ("RUNNING",) else None

    return embedded.eventually(done, timeout=timeout, what=f"onboarding {onboarding_id} finished")


def executions_count(embedded: Harness) -> int:
    sfn = embedded.client("stepfunctions")
    return len(
        sfn.list_executions(stateMachineArn=embedded.outputs["OnboardAccountStateMachineArn"])["executions"]
    )


def accounts_with_email(embedded: Harness, email: str) -> list[dict[str, Any]]:
    paginator = embedded.client("organizations").get_paginator("list_accounts")
    return [a for page in paginator.paginate() for a in page["Accounts"] if a["Email"] == email]


def test_post_accounts_onboards_and_the_onboarding_has_a_timeline(embedded: Harness, unique: str) -> None:
    onboarding = finished(embedded, onboard(embedded, request_for(unique)))

    assert onboarding["status"] == "SUCCEEDED"
    assert onboarding["client"] == f"c{unique}" and onboarding["accountId"]
    steps = {step["name"]: step for step in onboarding["timeline"]}
    assert list(steps) == CREATED_ACCOUNT_STATES
    assert all(step["status"] == "SUCCEEDED" for step in onboarding["timeline"])
    check = steps["CheckAccountCreation"]
    assert check["visits"] >= 1 and check["attempts"] == check["visits"] and check["retries"] == 0
    assert all(
        step["durationSeconds"] is not None and step["durationSeconds"] >= 0
        for step in onboarding["timeline"]
    )
    assert onboarding["links"]["account"] == f"/accounts/{onboarding['accountId']}"

    status, account = call(embedded, "GET", onboarding["links"]["account"])
    assert status == 200
    assert account["status"] == "ACTIVE"
    assert account["switchRoleUrl"].startswith(
        "https://signin.aws.amazon.com/switchrole?account=" + account["accountId"]
    )


def test_timeline_counts_retries_and_shows_the_error(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    denied = faults.fail(
        "before-call.sts.AssumeRole",
        "AccessDenied",
        times=2,
        status=403,
        when=lambda params: params.get("RoleSessionName") == "orgvend-baseline",
    )
    onboarding = finished(embedded, onboard(embedded, request_for(unique)))

    assert onboarding["status"] == "SUCCEEDED" and len(denied) == 2
    [baseline] = [step for step in onboarding["timeline"] if step["name"] == "ApplyBaseline"]
    assert (baseline["attempts"], baseline["retries"]) == (3, 2)
    assert baseline["error"] == "AccountNotReady" and "AccessDenied" in baseline["cause"]


def test_same_idempotency_key_gives_the_same_onboarding_and_one_account(
    embedded: Harness, unique: str
) -> None:
    request = request_for(unique)
    first = onboard(embedded, request, key=f"key-{unique}")
    second = onboard(embedded, request, key=f"key-{unique}")
    assert first == second
    finished(embedded, first)
    assert onboard(embedded, request, key=f"key-{unique}") == first  # after it finished, too
    assert len(accounts_with_email(embedded, request["email"])) == 1


def test_concurrent_requests_with_one_key_give_one_onboarding(embedded: Harness, unique: str) -> None:
    request = request_for(unique)
    answers: list[tuple[int, Any]] = []

    def post() -> None:
        answers.append(call(embedded, "POST", "/accounts", request, {"Idempotency-Key": f"burst-{unique}"}))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {status for status, _ in answers} == {202}, answers
    ids = {body["onboardingId"] for _, body in answers}
    assert len(ids) == 1
    assert finished(embedded, ids.pop())["status"] == "SUCCEEDED"
    assert len(accounts_with_email(embedded, request["email"])) == 1


def test_reusing_a_key_for_another_request_is_refused(embedded: Harness, unique: str) -> None:
    onboard(embedded, request_for(unique), key=f"reuse-{unique}")
    status, body = call(
        embedded,
        "POST",
        "/accounts",
        request_for(unique, project="other"),
        {"Idempotency-Key": f"reuse-{unique}"},
    )
    assert status == 422
    assert body["error"]["code"] == "IdempotencyKeyReused" and body["error"]["field"] == "Idempotency-Key"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "two@@example.com"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"client": "Acme"}, "client"),
        ({"project": "x" * 30}, "project"),
        ({"accountName": "é" * 3}, "accountName"),
        ({"roleName": "AWSServiceRoleForX"}, "roleName"),
        ({"tags": {"aws:x": "1"}}, "tags.aws:x"),
        ({"tags": {f"k{i}": "v" for i in range(49)}}, "tags"),
        ({"ou": "not-an-ou"}, "ou"),
        ({"unexpected": 1}, "unexpected"),
        ({"iamUserAccessToBilling": "MAYBE"}, "iamUserAccessToBilling"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_starts_nothing(
    embedded: Harness, unique: str, change: dict[str, Any], field: str
) -> None:
    before = executions_count(embedded)
    status, body = call(embedded, "POST", "/accounts", {**request_for(unique), **change})
    assert status == 422, body
    assert body["error"]["code"] == "ValidationError"
    assert field in [detail["field"] for detail in body["error"]["details"]]
    assert executions_count(embedded) == before


def test_client_mistakes_never_answer_5xx(embedded: Harness, unique: str) -> None:
    mistakes = [
        ("POST", "/accounts", "not json"),
        ("POST", "/accounts", "[1, 2]"),
        ("POST", "/accounts", None),
        ("POST", "/accounts", {**request_for(unique), "roleName": "SomeOtherRole"}),
        ("POST", "/accounts/adopt", {"accountId": "12", "client": "a", "project": "b"}),
        ("GET", "/accounts?limit=0", None),
        ("GET", "/accounts?limit=abc", None),
        ("GET", "/accounts?status=SLEEPING", None),
        ("GET", "/accounts?project=web", None),
        ("GET", "/accounts?nextToken=%%%", None),
        ("GET", "/accounts?client=x&nextToken=eyJhIjoxfQ", None),
        ("GET", "/accounts/123", None),
        ("GET", "/accounts/000000000000", None),
        ("GET", "/onboardings?status=NOPE", None),
        ("GET", "/onboardings?nextToken=garbage", None),
        ("GET", "/onboardings/no-such-onboarding", None),
        ("GET", "/onboardings/bad%20id", None),
        ("POST", "/onboardings/no-such-onboarding/retry", None),
        ("DELETE", "/accounts", None),
        ("GET", "/nowhere", None),
    ]
    for method, path, body in mistakes:
        status, answer = call(embedded, method, path, body)
        assert 400 <= status < 500, (method, path, status, answer)
        if status != 403:  # API Gateway's own answer for an undeclared route
            assert set(answer["error"]) >= {"code", "message"}, answer


def test_registered_email_answers_409_naming_the_account(embedded: Harness, unique: str) -> None:
    onboarding = finished(embedded, onboard(embedded, request_for(unique)))
    status, body = call(embedded, "POST", "/accounts", request_for(unique, project="again"))
    assert status == 409
    assert body["error"]["code"] == "EmailAlreadyRegistered" and body["error"]["field"] == "email"
    assert onboarding["accountId"] in body["error"]["message"]


def test_adopt_registers_and_baselines_a_member_account_in_its_ou(embedded: Harness, unique: str) -> None:
    email = f"aws+{unique}@example.com"
    legacy_ou = embedded.client("organizations").create_organizational_unit(
        ParentId=embedded.layout.clients_ou_id, Name=f"legacy-{unique}"
    )["OrganizationalUnit"]["Id"]
    _, account_id = embedded.create_member(email, f"legacy-{unique}", parent=legacy_ou)

    status, body = call(
        embedded,
        "POST",
        "/accounts/adopt",
        {"accountId": account_id, "client": f"c{unique}", "project": "legacy"},
    )
    assert status == 202, body
    onboarding = finished(embedded, body["onboardingId"])
    assert onboarding["status"] == "SUCCEEDED" and onboarding["accountId"] == account_id
    steps = [step["name"] for step in onboarding["timeline"]]
    assert "CreateAccount" not in steps and "ClaimAccount" in steps
    assert len(accounts_with_email(embedded, email)) == 1
    assert embedded.parent_of(account_id) == legacy_ou  # adoption keeps the account's OU
    tags = embedded.client("organizations").list_tags_for_resource(ResourceId=account_id)["Tags"]
    assert {"Key": "managed-by", "Value": "orgvend"} in tags
    assert embedded.account_item(account_id)["requestedBy"]  # who asked (the API's caller)


def test_adopt_refuses_the_management_account_strangers_and_accounts_outside_the_scope(
    embedded: Harness, unique: str
) -> None:
    management = embedded.client("organizations").describe_organization()["Organization"]["MasterAccountId"]
    _, at_root = embedded.create_member(
        f"aws+{unique}@example.com", f"root-{unique}", parent=embedded.layout.root_id
    )
    log_archive = embedded.layout.log_archive_account_id
    before = executions_count(embedded)
    for account_id, code, words in (
        (management, "NotAdoptable", "management account"),
        ("999999999999", "OutOfScope", "not a member of this organization"),
        (log_archive, "OutOfScope", embedded.layout.security_ou_id),
        (at_root, "OutOfScope", embedded.layout.root_id),
    ):
        status, body = call(
            embedded,
            "POST",
            "/accounts/adopt",
            {"accountId": account_id, "client": f"c{unique}", "project": "x"},
        )
        assert status == 422, body
        assert body["error"]["code"] == code and body["error"]["field"] == "accountId"
        assert words in body["error"]["message"]
    assert executions_count(embedded) == before
    assert embedded.account_item(log_archive) is None


def test_post_accounts_refuses_what_lies_outside_the_scope_and_foreign_email_domains(
    embedded: Harness, unique: str
) -> None:
    before = executions_count(embedded)
    log_archive = embedded.layout.log_archive_account_id
    for body, code, field in (
        ({**request_for(unique), "accountId": log_archive}, "OutOfScope", "accountId"),
        ({**request_for(unique), "ou": embedded.layout.security_ou_id}, "OutOfScope", "ou"),
        ({**request_for(unique), "ou": embedded.layout.root_id}, "OutOfScope", "ou"),
        ({**request_for(unique), "email": f"aws+{unique}@elsewhere.test"}, "EmailDomainNotAllowed", "email"),
        ({**request_for(unique), "keepOu": True}, "ValidationError", "keepOu"),
        (
            {**request_for(unique), "iamUserAccessToBilling": "ALLOW"},
            "ValidationError",
            "iamUserAccessToBilling",
        ),
    ):
        status, answer = call(embedded, "POST", "/accounts", body)
        assert status == 422, (body, answer)
        assert (answer["error"]["code"], answer["error"]["field"]) == (code, field), answer
    assert executions_count(embedded) == before


def test_an_ou_inside_the_scope_is_where_the_account_goes(embedded: Harness, unique: str) -> None:
    projects = embedded.client("organizations").create_organizational_unit(
        ParentId=embedded.layout.clients_ou_id, Name=f"projects-{unique}"
    )["OrganizationalUnit"]["Id"]
    onboarding = finished(embedded, onboard(embedded, {**request_for(unique), "ou": projects}))
    assert onboarding["status"] == "SUCCEEDED", onboarding
    assert embedded.parent_of(onboarding["accountId"]) == projects


def test_listing_accounts_filters_and_paginates_with_queries_only(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    client = f"c{unique}"
    ids = [
        onboard(embedded, request_for(unique, project=project, email=f"aws+{unique}-{project}@example.com"))
        for project in ("web", "api", "data")
    ]
    for onboarding_id in ids:
        assert finished(embedded, onboarding_id)["status"] == "SUCCEEDED"
    scans = faults.fail("before-call.dynamodb.Scan", "ScanForbidden", times=1000)

    status, page = call(embedded, "GET", f"/accounts?client={client}")
    assert status == 200 and {item["project"] for item in page["items"]} == {"web", "api", "data"}
    status, page = call(embedded, "GET", f"/accounts?client={client}&project=api")
    assert [item["project"] for item in page["items"]] == ["api"]
    status, page = call(embedded, "GET", f"/accounts?client={client}&status=ACTIVE")
    assert len(page["items"]) == 3
    status, page = call(embedded, "GET", "/accounts?status=FAILED")
    assert all(item["status"] == "FAILED" for item in page["items"])

    seen, token = [], None
    while True:
        status, page = call(
            embedded, "GET", f"/accounts?client={client}&limit=1" + (f"&nextToken={token}" if token else "")
        )
        assert status == 200
        seen += [item["accountId"] for item in page["items"]]
        token = page.get("nextToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) == 3
    status, page = call(embedded, "GET", "/accounts?limit=100")
    assert {item["client"] for item in page["items"]} >= {client}
    assert scans == []


def test_onboardings_are_listed_by_status(embedded: Harness, unique: str, faults: FaultInjector) -> None:
    faults.fail("before-call.organizations.MoveAccount", "AccessDeniedException", times=10)
    failed_id = onboard(embedded, request_for(unique))
    assert finished(embedded, failed_id)["status"] == "FAILED"

    status, page = call(embedded, "GET", "/onboardings?status=FAILED&limit=100")
    assert status == 200
    assert failed_id in [item["onboardingId"] for item in page["items"]]
    assert all(item["status"] == "FAILED" for item in page["items"])
    status, page = call(embedded, "GET", "/onboardings?limit=1")
    assert len(page["items"]) == 1 and page["nextToken"]
    status, second = call(embedded, "GET", f"/onboardings?limit=1&nextToken={page['nextToken']}")
    assert status == 200 and second["items"][0]["onboardingId"] != page["items"][0]["onboardingId"]


def test_failed_onboarding_shows_error_and_retry_completes_it(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    request = request_for(unique)
    faults.fail("before-call.organizations.MoveAccount", "AccessDeniedException", times=10)
    onboarding_id = onboard(embedded, request)
    failed = finished(embedded, onboarding_id)

    assert failed["status"] == "FAILED"
    assert failed["error"] == "OrganizationsRejected" and "AccessDeniedException" in failed["cause"]
    assert failed["links"]["retry"] == f"/onboardings/{onboarding_id}/retry"
    [place] = [step for step in failed["timeline"] if step["name"] == "PlaceAccount"]
    assert place["status"] == "FAILED" and place["error"] == "OrganizationsRejected"

    faults.clear()
    status, body = call(embedded, "POST", f"/onboardings/{onboarding_id}/retry")
    assert status == 202, body
    assert "redriven" in body["message"]
    done = finished(embedded, onboarding_id)
    assert done["status"] == "SUCCEEDED" and done["redriveCount"] == 1
    assert [step["name"] for step in done["timeline"]].count("CreateAccount") == 1
    assert len(accounts_with_email(embedded, request["email"])) == 1

    status, body = call(embedded, "POST", f"/onboardings/{onboarding_id}/retry")
    assert status == 409 and body["error"]["code"] == "NotRetryable"


def test_retrying_a_running_onboarding_is_refused(embedded: Harness, unique: str) -> None:
    request = request_for(unique)
    embedded.runtime.organizations_behaviour.script_creation(
        request["email"], ["IN_PROGRESS"] * 6 + ["SUCCEEDED"]
    )
    onboarding_id = onboard(embedded, request)
    status, body = call(embedded, "POST", f"/onboardings/{onboarding_id}/retry")
    assert status == 409 and body["error"]["code"] == "NotRetryable" and "RUNNING" in body["error"]["message"]
    finished(embedded, onboarding_id)


def test_health_and_openapi(embedded: Harness) -> None:
    status, health = call(embedded, "GET", "/health")
    assert status == 200 and health["status"] == "ok"
    status, document = call(embedded, "GET", "/openapi.json")
    assert status == 200
    assert document["openapi"].startswith("3.")
    assert {
        "/accounts",
        "/accounts/adopt",
        "/accounts/{accountId}",
        "/onboardings",
        "/onboardings/{onboardingId}",
        "/onboardings/{onboardingId}/retry",
        "/health",
    } <= set(document["paths"])
    post = document["paths"]["/accounts"]["post"]
    assert "202" in post["responses"] and "409" in post["responses"]
    schema = document["components"]["schemas"]["OnboardRequest"]
    assert schema["examples"] and set(schema["required"]) == {"client", "project", "email"}

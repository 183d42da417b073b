"""`orgvend settings apply` and `orgvend settings run` against a scripted API: what each asks the API,
the progress lines on stderr while it polls, the summary, and the exit codes (0 nothing failed, 1 an
account failed, 2 a bad command line, nothing sent)."""

import io
import json
from typing import Any

import pytest

from orgvend_cli import main as cli

RUN_ID = "3f1c2a9e-0000-4000-8000-000000000001"
ACME_1, ACME_2, ACME_3 = "210987654301", "210987654302", "210987654303"


def view(status: str, total: int | None, **outcomes: list[str]) -> dict[str, Any]:
    done = sum(len(accounts) for accounts in outcomes.values())
    failed = len(outcomes.get("failed", []))
    run = (
        None
        if total is None
        else {
            "runId": RUN_ID,
            "mode": "apply",
            "selection": {"client": "acme", "all": False},
            "startedAt": "2026-12-04T10:00:00+00:00",
            "accounts": total,
            "outcomes": outcomes,
            "failures": {
                account: "SettingsNotApplied: passwordPolicy: refused"
                for account in outcomes.get("failed", [])
            },
        }
    )
    return {
        "runId": RUN_ID,
        "status": status,
        "startedAt": "2026-12-04T10:00:00+00:00",
        "request": {"mode": "apply", "selection": {"client": "acme", "all": False}},
        "run": run,
        "progress": {
            "total": total,
            "done": done,
            "succeeded": done - failed,
            "failed": failed,
            "running": 0,
            "pending": (total or 0) - done,
        },
        "summary": None,
    }


class ScriptedApi:
    """The API: answers each POST with an accepted run and each GET with the next scripted view."""

    requests: list[tuple[str, str, Any]] = []
    views: list[dict[str, Any]] = []

    def __init__(self, connection: Any) -> None:
        self.api_url = connection.api_url

    def post(self, path: str, body: Any = None, idempotency_key: str | None = None) -> dict[str, Any]:
        self.requests.append(("POST", path, body))
        return {
            "runId": RUN_ID,
            "executionArn": f"arn:aws:states:::execution:k:{RUN_ID}",
            "statusUrl": f"/settings/runs/{RUN_ID}",
        }

    def get(self, path: str, query: Any = None) -> dict[str, Any]:
        self.requests.append(("GET", path, None))
        return self.views.pop(0) if len(self.views) > 1 else self.views[0]


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> type[ScriptedApi]:
    ScriptedApi.requests = []
    ScriptedApi.views = []
    monkeypatch.setattr(cli, "ApiClient", ScriptedApi)
    monkeypatch.setattr(cli.time, "sleep", lambda _: None)
    return ScriptedApi


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(arguments), stdout=out, stderr=err, stdin=io.StringIO())
    return code, out.getvalue(), err.getvalue() + capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "path", "body"),
    [
        (("--client", "acme"), "/settings/apply", {"mode": "apply", "client": "acme"}),
        (("--all", "--check"), "/settings/apply", {"mode": "check", "all": True}),
        (
            ("--account", ACME_1, "--settings-profile", "strict"),
            f"/accounts/{ACME_1}/settings/apply",
            {"mode": "apply", "settingsProfile": "strict"},
        ),
    ],
)
def test_apply_asks_the_api_for_the_selection(
    api: type[ScriptedApi],
    capsys: pytest.CaptureFixture[str],
    arguments: tuple[str, ...],
    path: str,
    body: dict[str, Any],
) -> None:
    code, out, err = run(capsys, "settings", "apply", *arguments, "--no-wait")
    assert code == 0, err
    assert api.requests == [("POST", path, body)]
    assert f"Settings run {RUN_ID} started." in out and f"settings run {RUN_ID} --watch" in out


def test_apply_follows_the_run_with_progress_lines_and_ends_with_the_summary(
    api: type[ScriptedApi], capsys: pytest.CaptureFixture[str]
) -> None:
    api.views = [
        view("RUNNING", None),
        view("RUNNING", 3),
        view("RUNNING", 3, changed=[ACME_1]),
        view("RUNNING", 3, changed=[ACME_1]),  # no move: no new line
        view("SUCCEEDED", 3, changed=[ACME_1], unchanged=[ACME_2, ACME_3]),
    ]
    code, out, err = run(capsys, "settings", "apply", "--client", "acme")
    assert code == 0, err
    progress = [line for line in err.splitlines() if "accounts done" in line or "choosing" in line]
    assert progress == [
        "RUNNING: choosing the accounts",
        "0/3 accounts done: 0 failed",
        "1/3 accounts done: 1 changed, 0 failed",
        "3/3 accounts done: 1 changed, 2 unchanged, 0 failed",
    ]
    assert [request[:2] for request in api.requests] == [("POST", "/settings/apply")] + [
        ("GET", f"/settings/runs/{RUN_ID}")
    ] * 5
    assert "SUCCEEDED" in out and "apply on client acme (each account its own profile)" in out
    assert "changed    1" in out and "unchanged  2" in out
    assert "Failed" not in out


def test_a_failed_account_is_listed_with_its_reason_and_exits_1(
    api: type[ScriptedApi], capsys: pytest.CaptureFixture[str]
) -> None:
    api.views = [view("SUCCEEDED", 3, changed=[ACME_1], drifted=[ACME_2], failed=[ACME_3])]
    code, out, err = run(capsys, "settings", "apply", "--all")
    assert code == 1, err
    assert "3/3 accounts done: 1 changed, 1 drifted, 1 failed" in err
    assert f"  {ACME_3}  SettingsNotApplied: passwordPolicy: refused" in out
    assert "Drifted from their profile" in out and f"  {ACME_2}" in out


def test_settings_run_shows_one_run_and_json_is_the_apis(
    api: type[ScriptedApi], capsys: pytest.CaptureFixture[str]
) -> None:
    api.views = [view("RUNNING", 3, changed=[ACME_1])]
    code, out, _ = run(capsys, "settings", "run", RUN_ID)
    assert code == 0 and "1/3 accounts done: 1 changed, 0 failed" in out
    code, out, _ = run(capsys, "settings", "run", RUN_ID, "--format", "json")
    assert code == 0 and json.loads(out) == api.views[0]


def test_a_failed_run_exits_1_with_its_error(
    api: type[ScriptedApi], capsys: pytest.CaptureFixture[str]
) -> None:
    failed = {**view("FAILED", None), "error": "InvalidSettingsProfile", "cause": "settingsProfile: gone"}
    api.views = [failed]
    code, out, _ = run(capsys, "settings", "run", RUN_ID, "--watch")
    assert code == 1 and "InvalidSettingsProfile: settingsProfile: gone" in out


@pytest.mark.parametrize(
    "arguments",
    [
        ("settings", "apply"),
        ("settings", "apply", "--client", "acme", "--all"),
        ("settings", "apply", "--client", "Not_A_Slug"),
        ("settings", "apply", "--account", "12345"),
        ("settings", "apply", "--all", "--settings-profile", "no such"),
        ("settings", "apply", "--all", "--format", "csv"),
        ("settings", "run", "not an id"),
    ],
)
def test_a_bad_command_line_exits_2_and_sends_nothing(
    api: type[ScriptedApi], capsys: pytest.CaptureFixture[str], arguments: tuple[str, ...]
) -> None:
    code, _, err = run(capsys, *arguments)
    assert code == 2, err
    assert "error:" in err
    assert api.requests == []

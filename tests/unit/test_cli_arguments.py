"""The CLI's arguments: its choices are the server's own enums, and what names an account or a run is
checked by the server's rules before any request is sent."""

import argparse
import io
from typing import Any, get_args

import pytest

from orgvend.costs.models import GroupBy
from orgvend.exports import ExportFormat
from orgvend.models import AccountStatus, BillingAccess, BillingMode, ExecutionStatus, OffboardingMode
from orgvend_cli import main as cli

# (command, option) -> the shared definition its choices must be; the CLI's own output format aside.
SHARED_CHOICES: dict[tuple[str, str], Any] = {
    ("onboard", "billing"): BillingMode,
    ("onboard", "iam_user_access_to_billing"): BillingAccess,
    ("onboardings", "status"): ExecutionStatus,
    ("offboardings", "status"): ExecutionStatus,
    ("offboard", "mode"): OffboardingMode,
    ("accounts", "status"): AccountStatus,
    ("switch-roles", "deprecated_as"): ExportFormat,
    ("costs", "by"): GroupBy,
}


def shared_values(definition: Any) -> list[str]:
    return list(get_args(definition)) or [member.value for member in definition]


def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [subparsers] = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return dict(subparsers.choices)


def choice_actions() -> dict[tuple[str, str], list[str]]:
    """Every option with choices, by (command, dest), but the global --format every command repeats."""
    found = {}
    for name, command in commands(cli.build_parser()).items():
        for action in command._actions:
            # A group's subcommands (settings profiles|show|put) are commands, not an option's choices.
            if isinstance(action, argparse._SubParsersAction):
                continue
            if action.choices is not None and action.dest != "format":
                found[(name, action.dest)] = [str(choice) for choice in action.choices]
    return found


def test_every_choice_of_the_cli_is_a_shared_enum() -> None:
    actions = choice_actions()
    assert set(actions) == set(SHARED_CHOICES), "a choice list the CLI keeps itself: import it from orgvend"
    for key, definition in SHARED_CHOICES.items():
        assert actions[key] == shared_values(definition), key


def test_the_output_format_is_the_clis_own_choice_but_switch_roles_takes_the_export_formats() -> None:
    for name, command in commands(cli.build_parser()).items():
        [output] = [action for action in command._actions if action.dest == "format"]
        if name == "switch-roles":
            assert list(output.choices or ()) == shared_values(ExportFormat)
        elif name == "costs":  # its report also as a page, with its charts
            assert tuple(output.choices or ()) == (*cli.OUTPUT_FORMATS, "html")
        else:
            assert tuple(output.choices or ()) == cli.OUTPUT_FORMATS, name


class RecordingClient:
    """Stands for the API: records each request (and each body sent), answers as the API would."""

    requests: list[tuple[str, str]] = []
    bodies: list[Any] = []
    queries: list[dict[str, Any]] = []

    def __init__(self, connection: Any) -> None:
        self.api_url = connection.api_url

    def get(self, path: str, query: Any = None) -> dict[str, Any]:
        self.requests.append(("GET", path))
        return {"items": [], "accountName": "acme-web", "status": "SUCCEEDED", "timeline": []}

    def get_text(self, path: str, query: Any = None) -> str:
        self.requests.append(("GET", path))
        RecordingClient.queries.append(dict(query or {}))
        return ""

    def post(self, path: str, body: Any = None, idempotency_key: str | None = None) -> dict[str, Any]:
        self.requests.append(("POST", path))
        RecordingClient.bodies.append(body)
        return {"onboardingId": "k-1", "offboardingId": "k-1", "status": "RUNNING"}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> type[RecordingClient]:
    RecordingClient.requests = []
    RecordingClient.bodies = []
    RecordingClient.queries = []
    monkeypatch.setattr(cli, "ApiClient", RecordingClient)
    return RecordingClient


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str]:
    """Exit code and everything said on stderr (argparse writes its usage errors to sys.stderr)."""
    err = io.StringIO()
    code = cli.main(list(arguments), stdout=io.StringIO(), stderr=err, stdin=io.StringIO())
    return code, err.getvalue() + capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "field", "says"),
    [
        (("account", "12345"), "ACCOUNT_ID", "12 digits"),
        (("account", "123456789012\n"), "ACCOUNT_ID", "12 digits"),
        (("adopt", "2109876543210", "--client", "acme", "--project", "web"), "ACCOUNT_ID", "12 digits"),
        (("offboard", "acme-web", "--mode", "close", "--confirm", "acme-web"), "ACCOUNT_ID", "12 digits"),
        (("status", "../accounts"), "ONBOARDING_ID", "onboarding or offboarding ID"),
        (("retry", "x" * 81), "ONBOARDING_ID", "onboarding or offboarding ID"),
        (("offboarding", "a b"), "OFFBOARDING_ID", "onboarding or offboarding ID"),
        (("retry-offboarding", "k-1?x=1"), "OFFBOARDING_ID", "onboarding or offboarding ID"),
        (("logs", "k-1' or 1=1"), "ID", "onboarding or offboarding ID"),
        (("accounts", "--client", "Not_A_Slug"), "--client", "lowercase slug"),
        (("accounts", "--client", "acme", "--project=-web"), "--project", "lowercase slug"),
        (("switch-roles", "--client", "a" * 25), "--client", "lowercase slug"),
        (("switch-roles", "--source-profile", "my profile"), "--source-profile", "profile name"),
        (("onboardings", "--status", "DONE"), "--status", "invalid choice"),
        (("switch-roles", "--format", "word"), "--format", "invalid choice"),
        (("switch-roles", "--format", "table"), "--format", "invalid choice"),
        (("accounts", "--format", "aws-config"), "--format", "invalid choice"),
        (("--format", "aws-config", "accounts"), "--format", "invalid choice"),
    ],
)
def test_a_malformed_value_is_refused_naming_the_field_before_any_request(
    api: type[RecordingClient],
    capsys: pytest.CaptureFixture[str],
    arguments: tuple[str, ...],
    field: str,
    says: str,
) -> None:
    code, err = run(capsys, "--api-url", "http://127.0.0.1:9", *arguments)
    assert code == 2, err
    assert f"argument {field}: " in err and says in err
    assert api.requests == []


@pytest.mark.parametrize(
    ("arguments", "request_made"),
    [
        (("account", "123456789012"), ("GET", "/accounts/123456789012")),
        (("status", "k-" + "0" * 48), ("GET", f"/onboardings/k-{'0' * 48}")),
        (("accounts", "--client", "acme", "--project", "web"), ("GET", "/accounts")),
        (("switch-roles", "--client", "acme", "--source-profile", "orgvend-admin"), ("GET", "/switch-roles")),
        (
            ("offboard", "123456789012", "--mode", "close", "--confirm", "acme-web"),
            ("POST", "/accounts/123456789012/offboard"),
        ),
    ],
)
def test_a_well_formed_value_reaches_the_api(
    api: type[RecordingClient],
    capsys: pytest.CaptureFixture[str],
    arguments: tuple[str, ...],
    request_made: tuple[str, str],
) -> None:
    code, err = run(capsys, "--api-url", "http://127.0.0.1:9", *arguments)
    assert code == 0, err
    assert api.requests[0] == request_made


def test_onboard_passes_the_billing_mode_and_leaves_the_body_to_the_server(
    api: type[RecordingClient], capsys: pytest.CaptureFixture[str]
) -> None:
    """The body is checked whole by the server (every problem at once), so the CLI sends it as given."""
    code, err = run(
        capsys, "onboard", "--client", "Acme", "--project", "web", "--email", "nope",
        "--billing", "direct", "--iam-user-access-to-billing", "ALLOW",
    )  # fmt: skip
    assert code == 0, err
    assert api.requests == [("POST", "/accounts")]
    [body] = api.bodies
    assert body == {
        "client": "Acme",
        "project": "web",
        "email": "nope",
        "billing": "direct",
        "iamUserAccessToBilling": "ALLOW",
    }


@pytest.mark.parametrize(
    ("arguments", "export_format"),
    [
        ((), "aws-config"),
        (("--format", "html"), "html"),
        (("--format", "json"), "json"),
    ],
)
def test_switch_roles_format_names_the_export(
    api: type[RecordingClient],
    capsys: pytest.CaptureFixture[str],
    arguments: tuple[str, ...],
    export_format: str,
) -> None:
    code, err = run(capsys, "switch-roles", *arguments)
    assert code == 0, err
    assert api.queries[0]["format"] == export_format
    assert "deprecated" not in err


def test_the_format_before_the_command_counts_too(
    api: type[RecordingClient], capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(capsys, "--format", "bookmarks", "switch-roles")
    assert code == 0, err
    assert api.queries[0]["format"] == "bookmarks"


def test_the_deprecated_as_still_picks_the_export_and_warns(
    api: type[RecordingClient], capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(capsys, "switch-roles", "--as", "bookmarks")
    assert code == 0, err
    assert api.queries[0]["format"] == "bookmarks"
    assert "warning: --as is deprecated" in err and "--format" in err
    assert "--as" not in switch_roles_help()


def switch_roles_help() -> str:
    return commands(cli.build_parser())["switch-roles"].format_help()

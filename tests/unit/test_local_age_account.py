"""`orgvend-local age-account`: its arguments, and the embedded AWS's route it calls (parity patch
organizations-account-age) on an in-process moto."""

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.moto_api._internal import urls as moto_api_urls

from orgvend_local.__main__ import main
from orgvend_local.parity import applied
from orgvend_local.parity.account_age import (
    ACCOUNT_JOINED_PATH,
    ACCOUNT_JOINED_ROUTE,
    AgeRefused,
    account_joined,
    set_joined,
)

from .parity_support import StandaloneEmulator

ACCOUNT_ID = "111122223333"


def refused(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    """``orgvend-local ARGUMENTS`` exits 2 (bad arguments); what it said."""
    with pytest.raises(SystemExit) as exit_:
        main(list(arguments))
    assert exit_.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("account_id", ["12", "1111222233334", "11112222333a", "", "-1"])
def test_a_bad_account_id_is_refused(capsys: pytest.CaptureFixture[str], account_id: str) -> None:
    error = refused(capsys, "age-account", account_id, "--days", "8")
    assert "ACCOUNT_ID" in error and "not an AWS account ID (12 digits)" in error


@pytest.mark.parametrize("days", ["-1", "-0.5", "nan", "inf", "eight"])
def test_a_negative_or_unreadable_number_of_days_is_refused(
    capsys: pytest.CaptureFixture[str], days: str
) -> None:
    error = refused(capsys, "age-account", ACCOUNT_ID, "--days", days)
    assert "argument --days" in error
    assert "must be 0 or more" in error or "not a number of days" in error


@pytest.mark.parametrize(
    ("joined", "problem"),
    [
        ("yesterday", "not an ISO 8601 time"),
        ("2026-11-20T00:00:00", "has no time zone"),
        ("2999-01-01T00:00:00Z", "is in the future"),
    ],
)
def test_a_bad_join_time_is_refused(capsys: pytest.CaptureFixture[str], joined: str, problem: str) -> None:
    assert problem in refused(capsys, "age-account", ACCOUNT_ID, "--joined", joined)


def test_days_or_joined_is_required_and_not_both(capsys: pytest.CaptureFixture[str]) -> None:
    assert "one of the arguments --days --joined is required" in refused(capsys, "age-account", ACCOUNT_ID)
    both = refused(capsys, "age-account", ACCOUNT_ID, "--days", "8", "--joined", "2026-11-20T00:00:00Z")
    assert "not allowed with argument" in both


def test_the_help_says_what_it_does_and_how(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["age-account", "--help"])
    assert exit_.value.code == 0
    help_text = capsys.readouterr().out
    for words in ("JoinedTimestamp", "--days", "--joined", "--endpoint-url", "make run", "4 days", "detach"):
        assert words in help_text, words


def test_an_emulator_that_is_not_running_is_an_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["age-account", ACCOUNT_ID, "--days", "8", "--endpoint-url", "http://127.0.0.1:9"])
    assert exit_.value.code == 1
    assert "cannot reach the embedded AWS at http://127.0.0.1:9" in capsys.readouterr().err


# --------------------------------------------------------------------------- the route, in-process


class JsonRequest:
    def __init__(self, body: bytes, method: str = "POST") -> None:
        self.method = method
        self._body = body

    def get_data(self) -> bytes:
        return self._body


def test_the_route_sets_the_joined_timestamp_describe_account_answers() -> None:
    with mock_aws(), applied(StandaloneEmulator(), ACCOUNT_JOINED_ROUTE.name):
        assert "{0}" + ACCOUNT_JOINED_PATH in moto_api_urls.url_paths
        organizations = boto3.client("organizations", region_name="us-east-1")
        organizations.create_organization(FeatureSet="ALL")
        account_id = organizations.create_account(Email="a@example.com", AccountName="a")[
            "CreateAccountStatus"
        ]["AccountId"]
        eight_days_ago = (datetime.now(UTC) - timedelta(days=8)).replace(microsecond=0)

        account = set_joined(account_id, eight_days_ago)

        assert account["JoinedMethod"] == "CREATED"
        described = organizations.describe_account(AccountId=account_id)["Account"]
        assert described["JoinedTimestamp"] == eight_days_ago
        with pytest.raises(AgeRefused, match="not in the embedded Organizations"):
            set_joined("999999999999", eight_days_ago)
        with pytest.raises(AgeRefused, match="in the future"):
            set_joined(account_id, datetime.now(UTC) + timedelta(days=1))
    assert "{0}" + ACCOUNT_JOINED_PATH not in moto_api_urls.url_paths  # undone


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"not json", 400, "not JSON"),
        (b"[]", 400, "JSON object"),
        (b'{"accountId": "111122223333"}', 400, "joinedTimestamp is missing"),
        (b'{"accountId": "111122223333", "joinedTimestamp": "soon"}', 400, "joinedTimestamp"),
        (b'{"accountId": "12", "joinedTimestamp": "2026-01-01T00:00:00Z"}', 400, "12 digits"),
        (b'{"accountId": "111122223333", "joinedTimestamp": "2026-01-01T00:00:00Z"}', 404, "not in the"),
    ],
)
def test_the_route_refuses_a_bad_request_plainly(body: bytes, status: int, message: str) -> None:
    with mock_aws():
        answered: tuple[int, dict[str, str], Any] = account_joined(JsonRequest(body), "", {})
    assert answered[0] == status
    assert message in answered[2]

"""How a member account's access role is reached: directly, and from a hub, through the management role
when the role's trust (not narrowed yet) admits only the management account."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

from orgvend.access_role import assume_access_role
from orgvend.errors import AccountNotReady, BaselineFailed

ROLE_ARN = "arn:aws:iam::111122223333:role/OrganizationAccountAccessRole"
SESSION = "orgvend-baseline"


def credentials(key: str) -> dict[str, object]:
    return {
        "AccessKeyId": key,
        "SecretAccessKey": "secret-key-of-" + key,
        "SessionToken": "token",
        "Expiration": datetime.now(UTC) + timedelta(hours=1),
    }


def answered(stubber: Stubber, key: str) -> None:
    stubber.add_response(
        "assume_role",
        {
            "Credentials": credentials(key),
            "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:" + SESSION, "Arn": ROLE_ARN},
        },
        {"RoleArn": ROLE_ARN, "RoleSessionName": SESSION},
    )


def refused(stubber: Stubber, code: str) -> None:
    stubber.add_client_error("assume_role", service_error_code=code, http_status_code=403)


@pytest.fixture
def routes() -> Iterator[tuple[Stubber, Stubber]]:
    """Stubbed STS clients: the function's own, and the management role's."""
    own = boto3.client("sts", region_name="us-east-1")
    management = boto3.client("sts", region_name="us-east-1")
    with Stubber(own) as direct, Stubber(management) as through:
        yield direct, through


def assume(direct: Stubber, through: Stubber | None) -> dict[str, object]:
    return dict(
        assume_access_role(
            direct.client,  # type: ignore[attr-defined]
            ROLE_ARN,
            session_name=SESSION,
            failed=BaselineFailed,
            through=through.client if through else None,  # type: ignore[attr-defined]
        )
    )


def test_a_trust_that_admits_the_function_is_used_directly(routes: tuple[Stubber, Stubber]) -> None:
    direct, through = routes
    answered(direct, "ASIADIRECTEXAMPLE1")
    assert assume(direct, through)["AccessKeyId"] == "ASIADIRECTEXAMPLE1"
    through.assert_no_pending_responses()  # the management role was not used


def test_a_trust_that_admits_only_the_management_account_is_reached_through_its_role(
    routes: tuple[Stubber, Stubber],
) -> None:
    direct, through = routes
    refused(direct, "AccessDenied")
    answered(through, "ASIACHAINEDEXAMPLE")
    assert assume(direct, through)["AccessKeyId"] == "ASIACHAINEDEXAMPLE"


def test_refused_both_ways_the_account_is_not_ready_yet(routes: tuple[Stubber, Stubber]) -> None:
    direct, through = routes
    refused(direct, "AccessDenied")
    refused(through, "AccessDenied")
    with pytest.raises(AccountNotReady):
        assume(direct, through)


def test_in_the_management_account_there_is_one_way(routes: tuple[Stubber, Stubber]) -> None:
    direct, _ = routes
    refused(direct, "AccessDenied")
    with pytest.raises(AccountNotReady):
        assume(direct, None)


def test_another_refusal_is_not_retried_through_the_management_role(routes: tuple[Stubber, Stubber]) -> None:
    direct, through = routes
    refused(direct, "MalformedPolicyDocument")
    with pytest.raises(BaselineFailed, match="MalformedPolicyDocument"):
        assume(direct, through)

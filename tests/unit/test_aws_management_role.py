"""orgvend.aws in a hub deployment: the management-account services act through the management role, in
one place, with botocore's refreshable assume-role credentials; everything else with the function's own."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orgvend import aws
from orgvend_local.parity.sts import principal_of_request

from .support import hooked_session

ROLE_NAME = "orgvend-management"
FUNCTION_NAME = "orgvend-ApplyBaselineFunction"


@pytest.fixture
def management_role(setup_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    arn = str(
        setup_client("iam").create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
    )
    monkeypatch.setenv(aws.MANAGEMENT_ROLE_ARN_VARIABLE, arn)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
    aws.reset()
    return arn


class Signers:
    """Who signs each request of orgvend's clients (by service), and how often the role is assumed."""

    def __init__(self) -> None:
        self.by_service: dict[str, set[str]] = {}
        self.assumed = 0

    def record(self, request: Any, event_name: str, **_: Any) -> None:
        service = event_name.split(".")[1]
        self.by_service.setdefault(service, set()).add(principal_of_request(request))
        if event_name == "before-send.sts.AssumeRole":
            self.assumed += 1


def test_single_account_clients_are_the_functions_own(
    moto_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(aws.MANAGEMENT_ROLE_ARN_VARIABLE, raising=False)
    signers = Signers()
    with hooked_session("before-send", signers.record):
        aws.client("organizations").create_organization(FeatureSet="ALL")
        assert aws.management_role_sts() is None
        assert aws.management_account_id() == aws.own_account_id()
    assert signers.assumed == 0
    assert ROLE_NAME not in json.dumps(sorted(map(sorted, signers.by_service.values())))


def test_management_services_act_through_the_role_and_the_rest_does_not(management_role: str) -> None:
    signers = Signers()
    with hooked_session("before-send", signers.record):
        aws.client("organizations").create_organization(FeatureSet="ALL")
        aws.client("budgets").describe_budgets(AccountId=aws.management_account_id())
        aws.identity_center_client("sso-admin", "us-east-1").list_instances()
        aws.client("sns").list_topics()
        aws.client("dynamodb").list_tables()
        identity = aws.management_role_sts()
        assert identity is not None
        session_arn = identity.get_caller_identity()["Arn"]
    # One assumption serves every client: the credentials are cached.
    assert signers.assumed == 1
    for service in ("organizations", "budgets", "sso-admin"):
        assert signers.by_service[service] == {management_role}, service
    for service in ("sns", "dynamodb"):
        assert management_role not in signers.by_service[service], service
    # The session says which function acted (CloudTrail in the management account).
    assert session_arn.endswith(f":assumed-role/{ROLE_NAME}/orgvend-{FUNCTION_NAME}")


@pytest.mark.parametrize(("lifetime", "assumptions"), [(timedelta(hours=1), 1), (timedelta(minutes=5), 2)])
def test_the_roles_credentials_are_refreshed_before_they_expire(
    management_role: str, lifetime: timedelta, assumptions: int
) -> None:
    """Credentials with less than botocore's refresh window left (15 minutes, 10 at the latest) are renewed
    before a client is handed out; fresh ones are reused, and so is the client made with them."""

    def expiring(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Credentials"]["Expiration"] = datetime.now(UTC) + lifetime

    signers = Signers()
    with hooked_session("before-send", signers.record), hooked_session("after-call.sts.AssumeRole", expiring):
        first = aws.client("organizations")
        first.create_organization(FeatureSet="ALL")
        second = aws.client("organizations")
        second.describe_organization()
    assert signers.assumed == assumptions
    assert signers.by_service["organizations"] == {management_role}


def test_a_client_built_and_never_called_assumes_nothing(management_role: str) -> None:
    """The event door builds its scope's Organizations client and, for what an event may ask, never calls
    it: in a hub its role holds no sts:AssumeRole, so building one must not assume the role."""
    signers = Signers()
    with hooked_session("before-send", signers.record):
        organizations = aws.client("organizations")
        assert signers.assumed == 0
        organizations.create_organization(FeatureSet="ALL")
        assert signers.assumed == 1
        assert organizations.describe_organization()["Organization"]["MasterAccountId"]
    assert signers.assumed == 1

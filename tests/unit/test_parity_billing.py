"""The embedded AWS's Billing (parity patch ``billing-preferences``), through boto3 on in-process moto."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from orgvend.billing import ri_sharing_of, turn_off_discount_sharing
from orgvend_local.parity import applied

from .parity_support import StandaloneEmulator

STRANGER = "111122223333"


@pytest.fixture
def session() -> Iterator[boto3.session.Session]:
    with mock_aws(), applied(StandaloneEmulator(), "billing-preferences"):
        yield boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )


@pytest.fixture
def member(session: boto3.session.Session) -> str:
    organizations = session.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    return str(
        organizations.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"][
            "AccountId"
        ]
    )


def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    return dict(raised.value.response)


def test_sharing_is_on_until_turned_off_and_reads_back(session: boto3.session.Session, member: str) -> None:
    billing = session.client("billing")
    assert ri_sharing_of(billing, member) == "ENABLED"
    setup = turn_off_discount_sharing(billing, member)
    assert setup.changed and ri_sharing_of(billing, member) == "DISABLED"
    [preference] = billing.get_billing_preferences(
        features=["RI_SHARING"], filters=[{"name": "PREFERENCE_KEY", "value": [member]}]
    )["billingPreferences"]
    assert preference == {
        "feature": "RI_SHARING",
        "key": member,
        "value": "DISABLED",
        "accountId": member,
        "accountName": "member",
    }
    # Another feature keeps its own preference; a second turn-off changes nothing.
    assert ri_sharing_of(billing, member) == "DISABLED"
    assert not turn_off_discount_sharing(billing, member).changed


def test_pages_cover_the_family(session: boto3.session.Session, member: str) -> None:
    billing = session.client("billing")
    first = billing.get_billing_preferences(features=["CREDIT_SHARING"], maxResults=1)
    second = billing.get_billing_preferences(
        features=["CREDIT_SHARING"], maxResults=1, nextToken=first["nextToken"]
    )
    keys = {p["key"] for p in first["billingPreferences"] + second["billingPreferences"]}
    assert member in keys and len(keys) == 2 and "nextToken" not in second


def test_an_account_outside_the_family_is_a_validation_error(
    session: boto3.session.Session, member: str
) -> None:
    billing = session.client("billing")
    response = error_of(
        lambda: billing.update_billing_preferences(
            feature="RI_SHARING", billingPreferencesPerKey=[{"key": STRANGER, "value": "DISABLED"}]
        )
    )
    assert response["Error"]["Code"] == "ValidationException"
    assert response["reason"] == "fieldValidationFailed"
    assert response["fieldList"] == [
        {
            "name": "billingPreferencesPerKey.key",
            "message": f"{STRANGER} is not an account of the billing family",
        }
    ]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_caller_that_pays_for_no_family_is_denied(session: boto3.session.Session) -> None:
    response = error_of(lambda: session.client("billing").get_billing_preferences(features=["RI_SHARING"]))
    assert response["Error"]["Code"] == "AccessDeniedException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_the_model_validates_what_the_sdk_does_not_check(session: boto3.session.Session, member: str) -> None:
    unchecked = session.client("billing", config=Config(parameter_validation=False))
    response = error_of(
        lambda: unchecked.update_billing_preferences(
            feature="RI_SHARING", billingPreferencesPerKey=[{"key": member, "value": "OFF"}]
        )
    )
    assert (
        response["Error"]["Code"] == "ValidationException" and response["reason"] == "fieldValidationFailed"
    )
    assert "OFF" in response["Error"]["Message"]
    duplicated = error_of(
        lambda: unchecked.update_billing_preferences(
            feature="RI_SHARING",
            billingPreferencesPerKey=[
                {"key": member, "value": "DISABLED"},
                {"key": member, "value": "ENABLED"},
            ],
        )
    )
    assert duplicated["reason"] == "fieldValidationFailed"
    assert ri_sharing_of(session.client("billing"), member) == "ENABLED"  # a refused request changes nothing


def test_a_call_it_does_not_serve_answers_a_billing_error(
    session: boto3.session.Session, member: str
) -> None:
    response = error_of(session.client("billing").list_billing_views)
    assert response["Error"]["Code"] == "ValidationException" and response["reason"] == "other"
    assert "ListBillingViews" in response["Error"]["Message"]

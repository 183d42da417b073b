"""Billing separation and root-user hygiene end to end, on the embedded AWS.

The embedded AWS serves Billing (parity patch ``billing-preferences``); most tests still answer
Billing, and IAM's ListOrganizationsFeatures, with hooks on orgvend's botocore session (as
``orgvend_local.faults`` does) to see the exact calls. botocore validates every request against the
service model before a hook sees it, so a malformed request fails the step.
"""

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from orgvend_cli import render

from .conftest import FakeBilling, FaultInjector, Harness, hooked, request_for
from .test_api import call, finished, onboard
from .test_cli import cli

pytestmark = pytest.mark.e2e


def organizations_features(features: list[str] | None) -> Callable[..., Any]:
    """IAM ListOrganizationsFeatures answering ``features`` (None: an error, "unknown")."""

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        if features is None:
            return AWSResponse("https://iam.invalid", 400, {}, None), {
                "Error": {"Code": "ServiceAccessNotEnabledException", "Message": "injected"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
        return AWSResponse("https://iam.invalid", 200, {}, None), {
            "OrganizationId": "o-abcdefghij",
            "EnabledFeatures": features,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    return answer


@pytest.fixture
def central_root_access() -> Iterator[None]:
    with hooked(
        [("before-call.iam.ListOrganizationsFeatures", organizations_features(["RootCredentialsManagement"]))]
    ):
        yield


@pytest.fixture
def no_central_root_access() -> Iterator[None]:
    with hooked([("before-call.iam.ListOrganizationsFeatures", organizations_features(None))]):
        yield


def test_direct_billing_turns_sharing_off_and_is_recorded(
    embedded: Harness, unique: str, billing: FakeBilling
) -> None:
    onboarding = finished(embedded, onboard(embedded, request_for(unique, billing="direct")))
    assert onboarding["status"] == "SUCCEEDED", onboarding
    account_id = onboarding["accountId"]
    assert "SetBillingPreferences" in [step["name"] for step in onboarding["timeline"]]

    assert billing.sharing[account_id] == "DISABLED"
    names = [name for name, _ in billing.calls_for(account_id)]
    assert names == ["GetBillingPreferences", "UpdateBillingPreferences", "GetBillingPreferences"]
    [update] = [
        params for name, params in billing.calls_for(account_id) if name == "UpdateBillingPreferences"
    ]
    assert update == {
        "feature": "RI_SHARING",
        "billingPreferencesPerKey": [{"key": account_id, "value": "DISABLED"}],
    }

    assert embedded.account_item(account_id)["billingMode"] == "direct"
    status, account = call(embedded, "GET", f"/accounts/{account_id}")
    assert status == 200 and account["billingMode"] == "direct"
    message = embedded.operator_message_about(account_id)
    assert "Billing:      direct" in message["Message"]


def test_consolidated_billing_makes_no_billing_call(
    embedded: Harness, unique: str, billing: FakeBilling
) -> None:
    onboarding = finished(embedded, onboard(embedded, request_for(unique)))
    assert onboarding["status"] == "SUCCEEDED", onboarding
    account_id = onboarding["accountId"]
    assert billing.calls == []
    assert embedded.account_item(account_id)["billingMode"] == "consolidated"
    status, account = call(embedded, "GET", f"/accounts/{account_id}")
    assert status == 200 and account["billingMode"] == "consolidated"


def test_direct_billing_refused_fails_the_onboarding_at_its_step(
    embedded: Harness, unique: str, faults: FaultInjector
) -> None:
    faults.fail("before-call.billing.GetBillingPreferences", "AccessDeniedException", times=10)
    onboarding = finished(embedded, onboard(embedded, request_for(unique, billing="direct")))
    assert onboarding["status"] == "FAILED"
    assert onboarding["error"] == "BillingPreferencesFailed"
    [step] = [step for step in onboarding["timeline"] if step["name"] == "SetBillingPreferences"]
    assert step["status"] == "FAILED" and step["retries"] == 0


def root_secured(embedded: Harness, account_id: str) -> tuple[int, Any]:
    signed = "AWS4-HMAC-SHA256 Credential=AKIAE2EROOTCHECK/20260101/us-east-1/execute-api/aws4_request"
    return call(
        embedded,
        "POST",
        f"/accounts/{account_id}/root-secured",
        headers={"Authorization": f"{signed}, SignedHeaders=host, Signature=00"},
    )


def needs_root_mfa(embedded: Harness, client: str) -> list[str]:
    run = cli(
        "--api-url",
        embedded.outputs["ApiUrl"],
        "accounts",
        "--client",
        client,
        "--needs-root-mfa",
        "--format",
        "json",
    )
    assert run.code == 0, run.err
    return [item["accountId"] for item in json.loads(run.out)["items"]]


def test_root_secured_over_http_takes_the_account_off_the_needs_root_mfa_list(
    embedded: Harness, unique: str, no_central_root_access: None
) -> None:
    onboarding = finished(embedded, onboard(embedded, request_for(unique)))
    account_id = onboarding["accountId"]
    message = embedded.operator_message_about(account_id)
    assert "Forgot password?" in message["Message"]  # unknown: the checklist stays
    assert "rootCredentialsManagement" not in embedded.account_item(account_id)
    assert needs_root_mfa(embedded, f"c{unique}") == [account_id]

    status, account = root_secured(embedded, account_id)
    assert status == 200, account
    assert account["rootSecuredBy"] == "AKIAE2EROOTCHECK"
    assert account["rootSecuredAt"]
    assert not render.needs_root_mfa(account)
    assert needs_root_mfa(embedded, f"c{unique}") == []

    status, body = root_secured(embedded, "999999999999")
    assert status == 404, body


def test_central_root_access_drops_the_checklist(
    embedded: Harness, unique: str, central_root_access: None
) -> None:
    onboarding = finished(embedded, onboard(embedded, request_for(unique)))
    account_id = onboarding["accountId"]
    assert embedded.account_item(account_id)["rootCredentialsManagement"] is True
    message = embedded.operator_message_about(account_id)
    assert "Forgot password?" not in message["Message"]
    assert "root access centrally" in message["Message"]
    assert needs_root_mfa(embedded, f"c{unique}") == []


def test_direct_billing_on_the_embedded_billing_reads_back_through_its_endpoint(
    embedded: Harness, unique: str
) -> None:
    """No hook: the embedded AWS's own Billing (parity patch ``billing-preferences``) answers the step."""
    onboarding = finished(embedded, onboard(embedded, request_for(unique, billing="direct")))
    assert onboarding["status"] == "SUCCEEDED", onboarding
    account_id = onboarding["accountId"]
    [preference] = embedded.client("billing").get_billing_preferences(
        features=["RI_SHARING"], filters=[{"name": "PREFERENCE_KEY", "value": [account_id]}]
    )["billingPreferences"]
    assert preference["key"] == account_id and preference["value"] == "DISABLED"
    assert embedded.account_item(account_id)["billingMode"] == "direct"


def test_a_billing_call_the_embedded_aws_does_not_emulate_answers_json_in_awss_shape(
    embedded: Harness,
) -> None:
    """Over HTTP, as the AWS CLI would call it: a JSON error naming the reason, never a page of HTML."""
    billing = embedded.client("billing")
    with pytest.raises(ClientError) as not_emulated:
        billing.get_billing_view(arn="arn:aws:billing::123456789012:billingview/primary")
    assert not_emulated.value.response["Error"]["Code"] == "ValidationException"

    credentials = Credentials("test", "test")
    request = AWSRequest(
        method="POST",
        url=embedded.runtime.endpoint_url + "/",
        data=b"{}",
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AWSBilling.NoSuchOperation"},
    )
    SigV4Auth(credentials, "billing", "us-east-1").add_auth(request)
    prepared = request.prepare()
    signed = urllib.request.Request(
        prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(signed, timeout=10)
    assert 400 <= refused.value.code < 500
    assert refused.value.headers.get_content_type() == "application/x-amz-json-1.0"
    body = json.loads(refused.value.read())
    assert body["__type"].endswith("ValidationException") and "<html" not in json.dumps(body).lower()

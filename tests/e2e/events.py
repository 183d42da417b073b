"""Organizations events shaped like the real CloudTrail ones that EventBridge delivers."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from orgvend_local.parity import cloudtrail_timestamp, organizations_service_event

MANAGEMENT_ACCOUNT_ID = "123456789012"


def api_call(
    event_name: str,
    request_parameters: dict[str, Any] | None,
    response_elements: dict[str, Any] | None = None,
    *,
    recipient: str = MANAGEMENT_ACCOUNT_ID,
) -> dict[str, Any]:
    return {
        "Source": "aws.organizations",
        "DetailType": "AWS API Call via CloudTrail",
        "Detail": json.dumps(
            {
                "eventVersion": "1.08",
                "userIdentity": {
                    "type": "AssumedRole",
                    "principalId": "AROAEXAMPLE:operator",
                    "arn": f"arn:aws:sts::{recipient}:assumed-role/Admin/operator",
                    "accountId": recipient,
                },
                "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "eventSource": "organizations.amazonaws.com",
                "eventName": event_name,
                "awsRegion": "us-east-1",
                "sourceIPAddress": "203.0.113.7",
                "userAgent": "aws-cli/2.15.0",
                "requestParameters": request_parameters,
                "responseElements": response_elements,
                "requestID": str(uuid.uuid4()),
                "eventID": str(uuid.uuid4()),
                "readOnly": False,
                "eventType": "AwsApiCall",
                "managementEvent": True,
                "recipientAccountId": recipient,
                "eventCategory": "Management",
            }
        ),
    }


def service_event(event_name: str, service_event_details: dict[str, Any]) -> dict[str, Any]:
    return organizations_service_event(event_name, service_event_details, MANAGEMENT_ACCOUNT_ID)


def create_account_result(request_id: str, account_id: str, state: str = "SUCCEEDED") -> dict[str, Any]:
    return service_event(
        "CreateAccountResult",
        {
            "createAccountStatus": {
                "id": request_id,
                "state": state,
                "accountName": "****",  # CloudTrail masks it
                "accountId": account_id,
                "requestedTimestamp": cloudtrail_timestamp(),
                "completedTimestamp": cloudtrail_timestamp(),
            }
        },
    )


def close_account_result(account_id: str) -> dict[str, Any]:
    return service_event(
        "CloseAccountResult",
        {
            "closeAccountStatus": {
                "accountId": account_id,
                "state": "SUCCEEDED",
                "requestedTimestamp": cloudtrail_timestamp(),
                "completedTimestamp": cloudtrail_timestamp(),
            }
        },
    )


def accept_handshake(account_id: str, organization_id: str) -> dict[str, Any]:
    handshake = {
        "id": f"h-{uuid.uuid4().hex[:10]}",
        "arn": f"arn:aws:organizations::{MANAGEMENT_ACCOUNT_ID}:handshake/{organization_id}/invite/h-example",
        "parties": [
            {"id": organization_id.removeprefix("o-"), "type": "ORGANIZATION"},
            {"id": account_id, "type": "ACCOUNT"},
        ],
        "state": "ACCEPTED",
        "action": "INVITE",
        "requestedTimestamp": cloudtrail_timestamp(),
        "expirationTimestamp": cloudtrail_timestamp(),
        "resources": [],
    }
    # AcceptHandshake is called by the member account: it is the recipient.
    return api_call(
        "AcceptHandshake", {"handshakeId": handshake["id"]}, {"handshake": handshake}, recipient=account_id
    )

"""Organizations events as EventBridge delivers them (CloudTrail), with their real-world quirks.

- API calls: detail-type "AWS API Call via CloudTrail", ``detail.eventName`` such as
  MoveAccount, with ``requestParameters`` / ``responseElements``.
- Asynchronous results: detail-type "AWS Service Event via CloudTrail", eventName
  CreateAccountResult or CloseAccountResult, the status under
  ``detail.serviceEventDetails``, with timestamps like "May 15, 2023 8:26:54 AM"
  and ``accountName`` masked as "****".
Events are late, duplicated or missing: handlers treat them as hints and read
the truth from Organizations.
"""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict


class CloudTrailDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    eventName: str
    eventSource: str = "organizations.amazonaws.com"
    eventTime: datetime | None = None
    recipientAccountId: str | None = None
    userIdentity: dict[str, Any] = {}
    requestParameters: dict[str, Any] | None = None
    responseElements: dict[str, Any] | None = None
    serviceEventDetails: dict[str, Any] | None = None


class OrganizationsEvent(EventBridgeModel):
    detail: CloudTrailDetail


def _text(value: Any) -> str | None:
    """A field of an event's free-form JSON that names something: its text, None when absent or empty."""
    return str(value) if value else None


def _account_party(handshake: dict[str, Any]) -> str | None:
    for party in handshake.get("parties", []):
        if str(party.get("type", "")).upper() == "ACCOUNT":
            return str(party.get("id"))
    return None


def subject_account(detail: CloudTrailDetail) -> str | None:
    """The member account an Organizations event is about, or None."""
    parameters = detail.requestParameters or {}
    service = detail.serviceEventDetails or {}
    match detail.eventName:
        case "CreateAccountResult":
            return _text(service.get("createAccountStatus", {}).get("accountId"))
        case "CloseAccountResult":
            return _text(service.get("closeAccountStatus", {}).get("accountId"))
        case "AcceptHandshake":
            handshake = (detail.responseElements or {}).get("handshake", {})
            return _account_party(handshake) or detail.recipientAccountId
        case "LeaveOrganization":
            return detail.recipientAccountId or _text(detail.userIdentity.get("accountId"))
        case "TagResource" | "UntagResource":
            resource = str(parameters.get("resourceId", ""))
            return (
                resource if resource.isdigit() and len(resource) == 12 else None
            )  # OUs and policies have tags too
        case _:
            return _text(parameters.get("accountId"))

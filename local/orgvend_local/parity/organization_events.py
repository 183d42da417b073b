"""Organizations' events on EventBridge: ``CreateAccountResult``, delivered by CloudTrail when a trail logs.

Also the shape of any Organizations "AWS Service Event via CloudTrail" entry, which the end-to-end
tests use to play events AWS would send (``organizations_service_event``).
"""

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudtrail.models import cloudtrail_backends
from moto.events.models import events_backends

from orgvend_local.parity.organizations import (
    PendingCreation,
    canary_organization,
    create_canary_account,
)
from orgvend_local.parity.patch import (
    CANARY_ACCOUNT,
    Emulator,
    EventsQueue,
    Patcher,
    declared,
    poll,
    still,
    stock_moto,
)

ORGANIZATIONS_REGION = "us-east-1"  # where Organizations' CloudTrail events are delivered


def cloudtrail_timestamp(moment: datetime | None = None) -> str:
    """CloudTrail's service-event format, e.g. "May 15, 2023 8:26:54 AM" (no leading zero on the hour)."""
    moment = moment or datetime.now(UTC)
    return f"{moment:%b} {moment.day}, {moment:%Y} {int(moment.strftime('%I'))}:{moment:%M:%S %p}"


def organizations_service_event(
    event_name: str, service_event_details: dict[str, Any], account_id: str
) -> dict[str, Any]:
    """A PutEvents entry shaped like Organizations' "AWS Service Event via CloudTrail" events."""
    detail = {
        "eventVersion": "1.08",
        "userIdentity": {"accountId": account_id, "invokedBy": "AWS Internal"},
        "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "organizations.amazonaws.com",
        "eventName": event_name,
        "awsRegion": ORGANIZATIONS_REGION,
        "sourceIPAddress": "AWS Internal",
        "userAgent": "AWS Internal",
        "requestParameters": None,
        "responseElements": None,
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsServiceEvent",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "serviceEventDetails": service_event_details,
        "eventCategory": "Management",
    }
    return {
        "Source": "aws.organizations",
        "DetailType": "AWS Service Event via CloudTrail",
        "Detail": json.dumps(detail),
    }


def trail_logs_organizations_events(account_id: str) -> bool:
    """A CloudTrail trail is logging in us-east-1 (where Organizations' events are) for the account."""
    return any(
        trail.status.is_logging
        for region, backend in cloudtrail_backends[account_id].items()
        for trail in backend.trails.values()
        if region == ORGANIZATIONS_REGION or trail.is_multi_region
    )


def announce_create_account_result(pending: PendingCreation) -> None:
    """Organizations' CreateAccountResult, as EventBridge delivers it from CloudTrail."""
    if not trail_logs_organizations_events(pending.management_account):
        return
    status: dict[str, Any] = {
        "id": pending.status_id,
        "state": pending.outcome,
        "accountName": "****",  # CloudTrail masks it
        "requestedTimestamp": cloudtrail_timestamp(
            datetime.now(UTC) - timedelta(seconds=time.monotonic() - pending.requested)
        ),
        "completedTimestamp": cloudtrail_timestamp(),
    }
    if pending.outcome == "SUCCEEDED" and pending.account is not None:
        status["accountId"] = pending.account.id
    else:
        status["failureReason"] = pending.failure_reason
    entry = organizations_service_event(
        "CreateAccountResult", {"createAccountStatus": status}, pending.management_account
    )
    events_backends[pending.management_account][ORGANIZATIONS_REGION].put_events([entry])


def apply_create_account_result_events(patcher: Patcher, emulator: Emulator) -> None:
    listeners = emulator.organizations_behaviour.on_creation_end
    listeners.append(announce_create_account_result)
    patcher.on_undo(lambda: listeners.remove(announce_create_account_result))


def canary_create_account_result_events() -> None:
    """A trail logs and a rule sends Organizations' events to a queue: a creation puts nothing there,
    though an event of the same source put by hand arrives (so the probe could see one)."""
    with stock_moto() as session:
        organizations = canary_organization(session)
        session.client("s3").create_bucket(Bucket="canary-trail")
        cloudtrail = session.client("cloudtrail")
        cloudtrail.create_trail(Name="canary", S3BucketName="canary-trail", IsMultiRegionTrail=True)
        cloudtrail.start_logging(Name="canary")
        queue = EventsQueue.of_source(session, "aws.organizations")

        request_id = create_canary_account(organizations)["Id"]
        poll(
            lambda: organizations.describe_create_account_status(CreateAccountRequestId=request_id),
            lambda status: status["CreateAccountStatus"]["State"] != "IN_PROGRESS",
            give_up="account creation never ended",
        )
        announced = queue.received(within=1.0)  # the patched emulator announces from a thread
        still(not announced, f"the creation was announced: {announced}")
        probe = organizations_service_event("Probe", {}, CANARY_ACCOUNT)
        queue.check_delivery(
            {"Source": probe["Source"], "DetailType": probe["DetailType"], "Detail": probe["Detail"]}
        )


CREATE_ACCOUNT_RESULT_EVENTS = declared(
    "organizations-create-account-result-event",
    apply=apply_create_account_result_events,
    canary=canary_create_account_result_events,
)

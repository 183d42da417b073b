"""NotifyOffboarded: tell the operators (hand-over checklist, or the closure's consequences) and automation."""

from typing import TYPE_CHECKING

from orgvend.models import AccountRecord, Model, Notification, Offboarding
from orgvend.notifications import OFFBOARDED_DETAIL_TYPE, offboarded_message, publish, put_event
from orgvend.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_organizations import OrganizationsClient
    from mypy_boto3_sns import SNSClient


class NotifyOffboardedInput(Model):
    offboarding: Offboarding
    account: AccountRecord


def notify_offboarded(
    step_input: NotifyOffboardedInput,
    organizations: "OrganizationsClient",
    sns: "SNSClient",
    events: "EventBridgeClient",
    settings: Settings,
) -> Notification:
    offboarding, account = step_input.offboarding, step_input.account
    management_account_id = organizations.describe_organization()["Organization"]["MasterAccountId"]
    subject, body = offboarded_message(account, offboarding, management_account_id)
    message_id = publish(sns, settings.operator_topic_arn, "offboarded", subject, body)
    detail = {**account.to_json(), "mode": offboarding.mode, "offboardingId": offboarding.offboarding_id}
    put_event(events, settings.event_bus_name, settings.event_source, OFFBOARDED_DETAIL_TYPE, detail)
    return Notification(message_id=message_id, event_detail_type=OFFBOARDED_DETAIL_TYPE)

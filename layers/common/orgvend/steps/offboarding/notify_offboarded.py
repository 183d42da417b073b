"""NotifyOffboarded: tell the operators (hand-over checklist, or the closure's consequences) and automation."""

from typing import TYPE_CHECKING

from orgvend.models import AccountRecord, Model, Notification, Offboarding
from orgvend.notifications import OFFBOARDED_DETAIL_TYPE, Announcer, offboarded_message

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient


class NotifyOffboardedInput(Model):
    offboarding: Offboarding
    account: AccountRecord


def notify_offboarded(
    step_input: NotifyOffboardedInput,
    organizations: "OrganizationsClient",
    announcer: Announcer,
) -> Notification:
    offboarding, account = step_input.offboarding, step_input.account
    management_account_id = organizations.describe_organization()["Organization"]["MasterAccountId"]
    message = offboarded_message(account, offboarding, management_account_id)
    detail = {**account.to_json(), "mode": offboarding.mode, "offboardingId": offboarding.offboarding_id}
    message_id = announcer.announce("offboarded", message, OFFBOARDED_DETAIL_TYPE, detail)
    return Notification(message_id=message_id, event_detail_type=OFFBOARDED_DETAIL_TYPE)

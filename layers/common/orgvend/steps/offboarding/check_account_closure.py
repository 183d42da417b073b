"""CheckAccountClosure: one DescribeAccount poll of a closing account (PENDING_CLOSURE, then SUSPENDED).

Organizations also announces the end with a CloseAccountResult event, which
FollowOrganization applies to the registry; polling makes the workflow's own
end certain when that event is late or lost.
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orgvend.aws import error_code
from orgvend.errors import AccountClosureTimedOut
from orgvend.models import Closure, ClosureState, Model, Offboarding
from orgvend.organizations import raise_for_organizations_error

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient


class CheckAccountClosureInput(Model):
    offboarding: Offboarding
    closure: Closure
    timeout_seconds: int


def check_account_closure(
    step_input: CheckAccountClosureInput, organizations: "OrganizationsClient", now: datetime
) -> Closure:
    closure, account_id = step_input.closure, step_input.offboarding.account_id
    try:
        status = organizations.describe_account(AccountId=account_id)["Account"].get("Status")
    except ClientError as error:
        if error_code(error) == "AccountNotFoundException":
            return closure.model_copy(update={"state": ClosureState.GONE, "polls": closure.polls + 1})
        raise_for_organizations_error(error, "DescribeAccount")
    if status == "SUSPENDED":
        return closure.model_copy(update={"state": ClosureState.SUSPENDED, "polls": closure.polls + 1})
    # PENDING_CLOSURE, or still ACTIVE for a moment after CloseAccount answered (eventual consistency).
    if now - closure.requested_at > timedelta(seconds=step_input.timeout_seconds):
        raise AccountClosureTimedOut(
            f"account {account_id} is still {status} {step_input.timeout_seconds} s after CloseAccount; "
            f"its registry entry stays CLOSING and becomes CLOSED when Organizations' CloseAccountResult "
            f"event arrives or the reconciliation sees it SUSPENDED"
        )
    return closure.model_copy(update={"state": ClosureState.PENDING_CLOSURE, "polls": closure.polls + 1})

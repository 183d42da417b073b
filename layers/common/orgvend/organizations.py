"""What every step that calls Organizations shares: its errors as orgvend's, and the tags of an account."""

from typing import Any

from botocore.exceptions import ClientError

from orgvend.aws import error_code, error_reason
from orgvend.errors import OrganizationsBusy, OrganizationsRejected
from orgvend.observability import metrics

# Errors that mean "not now": the state machine retries them with backoff.
BUSY_ERRORS = frozenset(
    {"TooManyRequestsException", "ConcurrentModificationException", "FinalizingOrganizationException"}
)
BUSY_CONSTRAINTS = frozenset({"ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED"})


def raise_for_organizations_error(error: ClientError, action: str) -> None:
    """Translate an Organizations error into ours: busy ones are retried, the rest are terminal."""
    code, reason = error_code(error), error_reason(error)
    if code in BUSY_ERRORS or (code == "ConstraintViolationException" and reason in BUSY_CONSTRAINTS):
        metrics.add_metric(name="OrganizationsBusy", unit="Count", value=1)  # one retry of the workflow
        raise OrganizationsBusy(f"{action}: {code} {reason}".strip()) from None
    raise OrganizationsRejected(f"{action}: {code} {reason}: {error}".strip()) from None


def account_tags(organizations: Any, account_id: str) -> dict[str, str]:
    paginator = organizations.get_paginator("list_tags_for_resource")
    return {
        tag["Key"]: tag["Value"] for page in paginator.paginate(ResourceId=account_id) for tag in page["Tags"]
    }

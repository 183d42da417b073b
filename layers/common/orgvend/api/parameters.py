"""The path, query and header parameters the routes share; every pattern is one of orgvend.rules'."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from orgvend import rules
from orgvend.models import ExecutionStatus

AccountIdPath = Annotated[str, Path(pattern=rules.ACCOUNT_ID_PATTERN.pattern)]
# An onboarding's or offboarding's ID: its execution's name.
ExecutionIdPath = Annotated[str, Path(pattern=rules.EXECUTION_NAME_PATTERN.pattern)]
# A settings run's ID: its execution's name (a UUID when the API started it).
RunIdPath = Annotated[str, Path(pattern=rules.EXECUTION_NAME_PATTERN.pattern)]
SlugFilter = Annotated[str | None, Query(pattern=rules.SLUG_PATTERN.pattern)]
ExecutionStatusFilter = Annotated[
    str | None, Query(pattern="^(" + "|".join(status.value for status in ExecutionStatus) + ")$")
]
PageSize = Annotated[int, Query(ge=1, le=100, description="Items per page")]
NextToken = Annotated[str | None, Query(max_length=4096, description="From the previous page")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Makes retries safe: the same key returns the same onboarding (never a second account) or offboarding.",
    ),
]
SettingsProfileNamePath = Annotated[str, Path(pattern=rules.SLUG_PATTERN.pattern)]
ClientPath = Annotated[str, Path(pattern=rules.SLUG_PATTERN.pattern, description="A client (slug)")]
# Optimistic concurrency on a settings profile: the version the writer read (its ETag form, "3", too).
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        pattern=r'^"?[1-9][0-9]{0,8}"?$',
        description="The version of the profile you read (GET); absent: the profile must not exist yet.",
    ),
]


def version_in(if_match: str | None) -> int | None:
    """The version an ``If-Match`` header names (already checked against its pattern)."""
    return int(if_match.strip('"')) if if_match else None

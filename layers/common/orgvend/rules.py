"""What orgvend accepts, as code: the one place each input's pattern is written.

Every rule here mirrors a constraint in the AWS API reference (Organizations'
CreateAccount and TagResource, IAM, Step Functions) or orgvend's own contract, so
a request that breaks one is refused before anything starts, with a message naming
what is wrong. The API's models and parameters, the workflows' checks and the CLI's
arguments all use these (tests/unit/test_rules.py fails on a copy elsewhere).
"""

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from orgvend.clock import now

EMAIL_MIN_LENGTH = 6
EMAIL_MAX_LENGTH = 64
ACCOUNT_NAME_MAX_LENGTH = 50
# IAM's RoleName.
ROLE_NAME_PATTERN = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
# A client or a project: the account's default name <client>-<project>, its tags, a profile name.
SLUG_MAX_LENGTH = 24
SLUG_PATTERN = re.compile(rf"^[a-z0-9](?:[a-z0-9-]{{0,{SLUG_MAX_LENGTH - 2}}}[a-z0-9])?$")
ACCOUNT_ID_PATTERN = re.compile(r"^[0-9]{12}$")
# Step Functions' execution name: an onboarding's or an offboarding's ID (orgvend names them
# with a UUID, or k-<hash> of an Idempotency-Key).
EXECUTION_NAME_PATTERN = re.compile(r"^[0-9A-Za-z_-]{1,80}$")
# An AWS Region code (us-east-1, us-gov-west-1, ap-southeast-5).
REGION_PATTERN = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}$")
# The AWS CLI profile holding the credentials that assume the roles (GET /switch-roles?sourceProfile=).
SOURCE_PROFILE_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# A calendar month of the costs report (GET /costs?month=, orgvend costs --month): YYYY-MM, year 1000 on.
MONTH_PATTERN = re.compile(r"^[1-9][0-9]{3}-(?:0[1-9]|1[0-2])$")
OU_ID_PATTERN = re.compile(r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$")
# orgvend's scope is an OU, never the root (ClientsParentOuId).
SCOPE_OU_ID_PATTERN = re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$")
TAG_KEY_MAX_LENGTH = 128
TAG_VALUE_MAX_LENGTH = 256
MAX_TAGS_PER_ACCOUNT = 50
# orgvend adds the client and project tags itself, and its managed-by tag (orgvend.organizations), which
# its IAM grants are held to: a request may set none of them.
MANAGED_TAG_KEY = "managed-by"
RESERVED_TAG_KEYS = frozenset({"client", "project", MANAGED_TAG_KEY})

_EMAIL_LOCAL_FORBIDDEN = set(" \t\r\n\"'()<>[]:;,\\|%&")
_EMAIL_DOMAIN_PATTERN = re.compile(r"^[a-zA-Z0-9.-]+$")
_TAG_PUNCTUATION = set("_.:/=+-@")


def email_problem(email: str) -> str | None:
    """Why Organizations would reject ``email`` as a new account's address, or None."""
    if not EMAIL_MIN_LENGTH <= len(email) <= EMAIL_MAX_LENGTH:
        return f"must be {EMAIL_MIN_LENGTH} to {EMAIL_MAX_LENGTH} characters long"
    if not email.isascii():
        return "must contain only 7-bit ASCII characters"
    if email.count("@") != 1:
        return "must contain exactly one @"
    local, domain = email.split("@")
    if not local:
        return "needs a local part before the @"
    if local.startswith("."):
        return "local part must not start with a dot"
    forbidden = sorted(set(local) & _EMAIL_LOCAL_FORBIDDEN)
    if forbidden:
        return f"local part must not contain {''.join(forbidden)!r} or whitespace"
    if not _EMAIL_DOMAIN_PATTERN.fullmatch(domain):
        return "domain may contain only letters, digits, dots and hyphens"
    if domain[0] in ".-" or domain[-1] in ".-":
        return "domain must not start or end with a dot or hyphen"
    if "." not in domain:
        return "domain needs at least one dot"
    return None


def account_name_problem(name: str) -> str | None:
    if not 1 <= len(name) <= ACCOUNT_NAME_MAX_LENGTH:
        return f"must be 1 to {ACCOUNT_NAME_MAX_LENGTH} characters long"
    if any(not " " <= character <= "~" for character in name):
        return "must contain only printable ASCII characters"
    return None


def role_name_problem(name: str) -> str | None:
    if not ROLE_NAME_PATTERN.fullmatch(name):
        return "must be 1 to 64 characters of letters, digits and +=,.@_-"
    if name.startswith("AWSServiceRoleFor"):
        return "must not start with AWSServiceRoleFor (reserved for service-linked roles)"
    return None


def slug_problem(value: str) -> str | None:
    if not SLUG_PATTERN.fullmatch(value):
        return (
            f"must be a lowercase slug: 1 to {SLUG_MAX_LENGTH} characters of a-z, 0-9 and '-', "
            "starting and ending with a letter or digit"
        )
    return None


def pattern_problem(pattern: re.Pattern[str], says: str) -> Callable[[str], str | None]:
    """A check that a value matches ``pattern`` whole, answering ``says`` when it does not."""

    def problem(value: str) -> str | None:
        return None if pattern.fullmatch(value) else says

    return problem


account_id_problem = pattern_problem(ACCOUNT_ID_PATTERN, "must be an AWS account ID: 12 digits")
ou_id_problem = pattern_problem(OU_ID_PATTERN, "must be an OU ID (ou-xxxx-xxxxxxxx) or a root ID (r-xxxx)")
execution_name_problem = pattern_problem(
    EXECUTION_NAME_PATTERN,
    "must be an onboarding or offboarding ID: 1 to 80 characters of A-Z, a-z, 0-9, _ and -",
)
source_profile_problem = pattern_problem(
    SOURCE_PROFILE_PATTERN,
    "must be an AWS CLI profile name: 1 to 64 characters of A-Z, a-z, 0-9, _, . and -",
)


def month_problem(value: str, today: date | None = None) -> str | None:
    """Why ``value`` is not a month a costs report can be made for (None: it can): ``YYYY-MM``, and not
    after ``today``'s month (default: orgvend's clock, UTC). The current month is allowed: its costs so far,
    estimated."""
    if not MONTH_PATTERN.fullmatch(value):
        return "must be a month as YYYY-MM (01 to 12), such as 2026-11"
    current = today or now().date()
    if (int(value[:4]), int(value[5:])) > (current.year, current.month):
        return f"must not be in the future (this month is {current:%Y-%m})"
    return None


def _is_tag_character(character: str) -> bool:
    # Organizations allows [\p{L}\p{Z}\p{N}_.:/=+\-@]; Python's re has no \p{},
    # and the third-party `regex` module is not worth a dependency for one class.
    return character in _TAG_PUNCTUATION or unicodedata.category(character)[0] in "LZN"


def tag_key_problem(key: str) -> str | None:
    if not 1 <= len(key) <= TAG_KEY_MAX_LENGTH:
        return f"tag key must be 1 to {TAG_KEY_MAX_LENGTH} characters long"
    if key.lower().startswith("aws:"):
        return "tag keys starting with aws: are reserved by AWS"
    if key == MANAGED_TAG_KEY:
        return f"tag key {key!r} is orgvend's own (it marks the accounts orgvend manages)"
    if key in RESERVED_TAG_KEYS:
        return f"tag key {key!r} is set by orgvend from the request's {key} field"
    if not all(_is_tag_character(character) for character in key):
        return "tag key may contain only letters, digits, spaces and _.:/=+-@"
    return None


def tag_value_problem(value: str) -> str | None:
    if len(value) > TAG_VALUE_MAX_LENGTH:
        return f"tag value must be at most {TAG_VALUE_MAX_LENGTH} characters long"
    if not all(_is_tag_character(character) for character in value):
        return "tag value may contain only letters, digits, spaces and _.:/=+-@"
    return None


def email_domain_problem(email: str, allowed_domains: tuple[str, ...]) -> str | None:
    """Why ``email`` is outside the stack's AllowedEmailDomains, or None.

    An entry matches its domain exactly, or, written ``*.example.com``, any subdomain of it.
    Account emails receive the root user's password reset: only the agency's own domains are allowed.
    """
    domain = email.rsplit("@", 1)[-1].lower()
    for allowed in (entry.lower() for entry in allowed_domains):
        if domain == allowed or (allowed.startswith("*.") and domain.endswith(allowed[1:])):
            return None
    listed = ", ".join(allowed_domains) or "(none)"
    return f"the domain {domain} is not one of the stack's AllowedEmailDomains: {listed}"


# IAM Identity Center (orgvend.access). A group's DisplayName in the Identity Store: 1 to 1024 characters,
# no control characters but tab and line breaks (IdentityStore's API reference, Group.DisplayName); orgvend
# refuses tabs and line breaks too, since a rule or a request names the group on one line.
GROUP_NAME_MAX_LENGTH = 1024
# The permission sets orgvend keeps in the Identity Center instance: the names rules and requests use.
ADMINISTRATOR_MINUS_BILLING = "AdministratorMinusBilling"
READ_ONLY_ACCESS = "ReadOnlyAccess"
KEPT_PERMISSION_SETS: tuple[str, ...] = (ADMINISTRATOR_MINUS_BILLING, READ_ONLY_ACCESS)
# A permission set's SessionDuration (ISO 8601, 1 to 12 hours), as the stack parameter takes it.
SESSION_DURATION_PATTERN = re.compile(r"^PT(?:[1-9]|1[0-2])H$")
# A rule's group may name the account's client and project; nothing else is substituted.
GROUP_PLACEHOLDERS = ("{client}", "{project}")


def group_name_problem(name: str) -> str | None:
    if not 1 <= len(name) <= GROUP_NAME_MAX_LENGTH:
        return f"a group's display name must be 1 to {GROUP_NAME_MAX_LENGTH} characters long"
    if any(unicodedata.category(character) == "Cc" for character in name):
        return "a group's display name must not contain control characters (tabs, line breaks)"
    if name != name.strip():
        return "a group's display name must not start or end with whitespace"
    return None


def permission_set_problem(name: str) -> str | None:
    if name not in KEPT_PERMISSION_SETS:
        return f"must be one of the permission sets orgvend keeps: {', '.join(KEPT_PERMISSION_SETS)}"
    return None


# Account settings (orgvend.account_settings). IAM's AccountAlias (CreateAccountAlias): 3 to 63 lowercase
# letters, digits and single hyphens, starting and ending with a letter or digit.
ACCOUNT_ALIAS_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$")
# An alias pattern may name the account's client and project; nothing else is substituted.
ALIAS_PLACEHOLDERS = ("{client}", "{project}")
account_alias_problem = pattern_problem(
    ACCOUNT_ALIAS_PATTERN,
    "must be an IAM account alias: 3 to 63 characters of a-z, 0-9 and single hyphens, "
    "starting and ending with a letter or digit",
)
# Account Management's AlternateContact (PutAlternateContact's EmailAddress and PhoneNumber).
CONTACT_EMAIL_MAX_LENGTH = 254
CONTACT_EMAIL_PATTERN = re.compile(r"^\s*[\w+=.#|!&-]+@[\w.-]+\.\w+\s*$")
CONTACT_PHONE_MAX_LENGTH = 25
CONTACT_PHONE_PATTERN = re.compile(r"^[\s0-9()+-]+$")
CONTACT_NAME_MAX_LENGTH = 64
CONTACT_TITLE_MAX_LENGTH = 50


# Budgets (orgvend.budgets): each account's monthly cost budget, in USD. Budgets takes any positive amount
# (its NumericValue); orgvend takes cents at most, and a ceiling that catches a slip of the keyboard (a
# budget is an alarm, not a cap: a limit no account will ever reach alarms nobody).
MONTHLY_BUDGET_MAX_USD = Decimal(1_000_000)
CENT = Decimal("0.01")


def monthly_budget_problem(value: Decimal) -> str | None:
    """Why ``value`` is not a monthly budget orgvend sets (USD), or None."""
    if not value.is_finite():
        return "must be a number of US dollars"
    if value <= 0:
        return "must be more than 0 US dollars a month"
    if value > MONTHLY_BUDGET_MAX_USD:
        return f"must be at most {MONTHLY_BUDGET_MAX_USD:,} US dollars a month"
    if value != value.quantize(CENT):
        return "must have at most two decimals (cents)"
    return None


def budget_alert_email_problem(email: str) -> str | None:
    """Why Budgets would not mail a budget's alerts to ``email`` (the client's contact), or None: an address
    as Account Management takes an alternate contact's, without surrounding spaces."""
    if len(email) > CONTACT_EMAIL_MAX_LENGTH:
        return f"must be at most {CONTACT_EMAIL_MAX_LENGTH} characters long"
    if email != email.strip() or not CONTACT_EMAIL_PATTERN.fullmatch(email):
        return "must be an email address (name@example.com) that receives the budget's alerts"
    return None

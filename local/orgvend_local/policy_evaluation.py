"""Decide IAM requests the way AWS does: for the embedded AWS, and for tests.

Two uses:

* the embedded AWS (moto) enforces a role's trust policy on ``sts:AssumeRole``
  with :func:`trust_allows`;
* tests decide a request against service control policies, identity policies, a
  permissions boundary and a resource-based policy with :func:`evaluate`.

The rules are those of the AWS IAM User Guide; each function names the section
it follows:

* "Policy evaluation logic",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
* "IAM JSON policy elements: Condition operators",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
* "Single-valued vs. multivalued context keys",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
* "IAM policy elements: Variables and tags",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
* "AWS JSON policy elements: Principal" and "AWS JSON policy elements: NotPrincipal",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
* "SCP evaluation" (AWS Organizations User Guide),
  https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_inheritance_auth.html

The evaluator is fail-closed: a malformed or unsupported policy, statement,
operator or request raises ``ValueError`` with a message naming the element.
Nothing is allowed because it was not understood.

Not modelled: session policies, resource control policies, VPC endpoint
policies, ACLs; which actions apply to which resource types (``NotAction`` and
``NotResource`` are matched as strings); the ``BinaryEquals`` operator.
``Service``, ``Federated`` and ``CanonicalUser`` principals never match the IAM
principal of a request, and neither do principals named by unique ID (``AROA...``,
what IAM leaves in a policy when the role it named is deleted).
"""

import functools
import ipaddress
import json
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Any, Final, Self

__all__ = [
    "Decision",
    "Request",
    "evaluate",
    "evaluate_policy",
    "principal_context",
    "statement_applies",
    "trust_allows",
]

ContextValue = str | Sequence[str]
PolicyDocument = Mapping[str, object] | str

_EMPTY_CONTEXT: Final[Mapping[str, ContextValue]] = MappingProxyType({})

# "IAM policy elements: Variables and tags": variables came with policy language 2012-10-17;
# in a document without Version (or of 2008-10-17) "${aws:username}" is a literal string.
_VARIABLES_VERSION: Final = "2012-10-17"
_VERSIONS: Final = frozenset({_VARIABLES_VERSION, "2008-10-17"})
_DOCUMENT_KEYS: Final = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS: Final = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)

_REQUEST_ACTION: Final = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9_.-]+")
_POLICY_ACTION: Final = re.compile(r"\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?_.-]+")
_PRINCIPAL_ARN: Final = re.compile(
    r"arn:(?P<partition>aws(?:-[a-z]+)*):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<resource>.+)"
)
_ACCOUNT_ID: Final = re.compile(r"\d{12}")
# IAM unique IDs (AIDA... users, AROA... roles, and so on): IAM shows one in place of an
# ARN when the principal a policy named was deleted; it can no longer match anyone.
_UNIQUE_ID: Final = re.compile(r"A[A-Z0-9]{15,127}")
_ORG_ID: Final = re.compile(r"o-[a-z0-9]{10,32}")
_IAM_PATH: Final = re.compile(r"/(?:[!-~]+/)?")
_VARIABLE: Final = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_DEFAULT: Final = re.compile(r"\s*([^,]+?)\s*,\s*'([^']*)'\s*")
_OPERATOR: Final = re.compile(
    r"(?:(?P<set>ForAnyValue|ForAllValues):)?(?P<base>[A-Za-z]+?)(?P<if_exists>IfExists)?"
)
_EPOCH: Final = re.compile(r"-?\d+(?:\.\d+)?")


class Decision(StrEnum):
    """The outcome of an evaluation ("The difference between explicit and implicit denies")."""

    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


@dataclass(frozen=True)
class Request:
    """One request: who asks for which action on which resource, with its context keys.

    ``principal_arn`` is an IAM user, role, account root, assumed-role session or
    federated-user ARN. ``resource`` is an ARN, or ``"*"`` for actions that take no
    resource. ``context`` holds request context keys (names are case-insensitive); a
    multivalued key such as ``aws:TagKeys`` is a sequence of strings. The keys
    :func:`principal_context` derives from ``principal_arn`` are added to it; a key
    given in ``context`` wins over the derived one.
    """

    principal_arn: str
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        """Refuse a request that no AWS request context could hold."""
        _parse_principal(self.principal_arn, "Request.principal_arn")
        if not _REQUEST_ACTION.fullmatch(self.action):
            raise ValueError(f"Request.action must look like 'service:Action', not {self.action!r}")
        resource: object = self.resource  # checked as the caller gave it, whatever its type
        if not isinstance(resource, str) or not resource:
            raise ValueError("Request.resource must be an ARN or '*'")
        _normalise_context(self.context)


class _Grant(IntEnum):
    """How an applicable statement names the principal; a stronger grant needs fewer other policies."""

    NONE = 0
    ACCOUNT = 1  # the principal's account (or NotPrincipal): the account must delegate
    PRINCIPAL = 2  # "*", the principal's role, or an identity policy
    DIRECT = 3  # the IAM user, role session or federated user itself


_Link = tuple[str, ...]
_ANY: Final[_Link] = ("any",)
_LINK_GRANTS: Final[Mapping[str, _Grant]] = {
    "any": _Grant.PRINCIPAL,
    "account": _Grant.ACCOUNT,
    "role": _Grant.PRINCIPAL,
    "arn": _Grant.DIRECT,
}
_PRINCIPAL_TYPES: Final[Mapping[str, str]] = {
    "root": "Account",
    "user": "User",
    "role": "AssumedRole",
    "assumed-role": "AssumedRole",
    "federated-user": "FederatedUser",
}


@dataclass(frozen=True)
class _Principal:
    arn: str
    partition: str
    account: str
    kind: str  # a key of _PRINCIPAL_TYPES
    name: str = ""  # the user, role or federated-user name
    session: str = ""

    def chain(self) -> tuple[_Link, ...]:
        """The principal, then what it acts for: session, role, account (see "NotPrincipal")."""
        account: _Link = ("account", self.account)
        role: _Link = ("role", self.account, self.name)
        if self.kind == "root":
            return (account,)
        if self.kind == "role":
            return (role, account)
        if self.kind == "assumed-role":
            return (("arn", self.arn), role, account)
        return (("arn", self.arn), account)


def _parse_principal(arn: object, element: str) -> _Principal:
    if not isinstance(arn, str) or not (match := _PRINCIPAL_ARN.fullmatch(arn)):
        raise ValueError(f"{element}: {arn!r} is not an IAM or STS principal ARN")
    partition, service, account, resource = match.group("partition", "service", "account", "resource")
    kind, _, rest = resource.partition("/")
    parts = rest.split("/")
    if service == "iam" and resource == "root":
        return _Principal(arn, partition, account, "root")
    if service == "iam" and kind in ("user", "role") and all(parts):
        # A user or role ARN carries its path: user/division/Bob. The name is the last part.
        return _Principal(arn, partition, account, kind, parts[-1])
    if service == "sts" and kind == "assumed-role" and len(parts) == 2 and all(parts):
        return _Principal(arn, partition, account, kind, parts[0], parts[1])
    if service == "sts" and kind == "federated-user" and len(parts) == 1 and parts[0]:
        return _Principal(arn, partition, account, kind, parts[0])
    raise ValueError(f"{element}: {arn!r} is not a user, role, root, assumed-role or federated-user ARN")


def principal_context(
    principal_arn: str, *, org_id: str | None = None, role_path: str | None = None
) -> dict[str, str]:
    """The global condition keys AWS derives from the principal ("AWS global condition context keys").

    ``aws:PrincipalArn`` is the principal's ARN, except for an assumed-role session
    (``arn:aws:sts::ACCT:assumed-role/NAME/SESSION``), where it is the role's IAM ARN
    ``arn:aws:iam::ACCT:role/PATH/NAME``. An STS session ARN does not carry the role's
    path, so give ``role_path`` (``"/"`` if omitted) for a role that has one.
    ``aws:PrincipalAccount`` and ``aws:PrincipalType`` (``User``, ``AssumedRole``,
    ``Account``, ``FederatedUser``; a role ARN acts through its sessions, so
    ``AssumedRole``) are always present, ``aws:PrincipalOrgID`` when ``org_id`` is
    given, and ``aws:username`` for an IAM user ("IAM policy elements: Variables and
    tags", principal key values).
    """
    principal = _parse_principal(principal_arn, "principal_arn")
    arn = principal.arn
    if role_path is not None:
        if principal.kind != "assumed-role":
            raise ValueError("role_path: only an assumed-role session ARN lacks its role's path")
        if not _IAM_PATH.fullmatch(role_path):
            raise ValueError(f"role_path: {role_path!r} is not an IAM path such as '/' or '/ops/'")
    if principal.kind == "assumed-role":
        arn = f"arn:{principal.partition}:iam::{principal.account}:role{role_path or '/'}{principal.name}"
    context = {
        "aws:PrincipalArn": arn,
        "aws:PrincipalAccount": principal.account,
        "aws:PrincipalType": _PRINCIPAL_TYPES[principal.kind],
    }
    if org_id is not None:
        if not _ORG_ID.fullmatch(org_id):
            raise ValueError(f"org_id: {org_id!r} is not an organization ID such as 'o-a1b2c3d4e5'")
        context["aws:PrincipalOrgID"] = org_id
    if principal.kind == "user":
        context["aws:username"] = principal.name
    return context


def _normalise_context(context: object) -> dict[str, str | tuple[str, ...]]:
    """Context keys in lower case (key names are case-insensitive), multivalued keys as tuples."""
    if not isinstance(context, Mapping):
        raise ValueError("Request.context must be a mapping of context key names to values")
    result: dict[str, str | tuple[str, ...]] = {}
    for key, value in context.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"Request.context: {key!r} is not a context key name")
        normalised: str | tuple[str, ...]
        if isinstance(value, str):
            normalised = value
        elif isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
            normalised = tuple(value)
        else:
            raise ValueError(f"Request.context[{key!r}] must be a string or a sequence of strings")
        lowered = key.lower()
        if lowered in result and result[lowered] != normalised:
            raise ValueError(
                f"Request.context: {key!r} is given twice, in different case, with different values"
            )
        result[lowered] = normalised
    return result


@dataclass(frozen=True)
class _Env:
    """A request made ready for evaluation: its principal parsed, its context complete."""

    request: Request
    principal: _Principal
    context: Mapping[str, str | tuple[str, ...]]

    @classmethod
    def of(cls, request: Request) -> Self:
        derived = {key.lower(): value for key, value in principal_context(request.principal_arn).items()}
        context = derived | _normalise_context(request.context)
        return cls(request, _parse_principal(request.principal_arn, "Request.principal_arn"), context)


# Patterns: a policy string becomes a tuple of tokens (is_wildcard, text), so that text
# substituted for a variable or written as ${*} stays literal while * and ? written in the
# policy are wildcards.
_Token = tuple[bool, str]


def _wildcard_tokens(text: str, *, wildcards: bool) -> list[_Token]:
    if not wildcards:
        return [(False, text)] if text else []
    return [(piece in ("*", "?"), piece) for piece in re.split(r"([*?])", text) if piece]


def _variable(body: str, env: _Env) -> str | None:
    """The value of ``${body}``, or None when it cannot be resolved."""
    if body in ("*", "?", "$"):
        return body
    default_match = _VARIABLE_DEFAULT.fullmatch(body)
    name, default = default_match.group(1, 2) if default_match else (body.strip(), None)
    if not name:
        raise ValueError("policy variable: '${}' names no context key")
    value = env.context.get(name.lower())
    if value is None:
        return default
    # "Single-valued vs. multivalued context keys": a multivalued key is no policy variable.
    return value if isinstance(value, str) else None


def _tokens(text: str, env: _Env | None, *, wildcards: bool) -> tuple[_Token, ...] | None:
    """The tokens of a policy string; None when a variable in it cannot be resolved.

    ``env`` is None where variables are not substituted (policy language before
    2012-10-17, or an operator that takes no variables).
    """
    if env is None:
        return tuple(_wildcard_tokens(text, wildcards=wildcards))
    tokens: list[_Token] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        tokens += _wildcard_tokens(text[position : match.start()], wildcards=wildcards)
        value = _variable(match.group(1), env)
        if value is None:
            return None
        tokens.append((False, value))
        position = match.end()
    tokens += _wildcard_tokens(text[position:], wildcards=wildcards)
    return tuple(tokens)


@functools.lru_cache(maxsize=2048)
def _regex(tokens: tuple[_Token, ...], ignore_case: bool) -> re.Pattern[str]:
    body = "".join(
        (".*" if text == "*" else ".") if wildcard else re.escape(text) for wildcard, text in tokens
    )
    return re.compile(body, re.DOTALL | re.IGNORECASE if ignore_case else re.DOTALL)


def _literal(tokens: tuple[_Token, ...]) -> str:
    return "".join(text for _, text in tokens)


def _glob(pattern: str, value: str, env: _Env | None, *, ignore_case: bool = False) -> bool:
    tokens = _tokens(pattern, env, wildcards=True)
    return tokens is not None and _regex(tokens, ignore_case).fullmatch(value) is not None


def _arn_components(tokens: tuple[_Token, ...]) -> list[tuple[_Token, ...]]:
    """Split at colons into at most six components; the resource (sixth) keeps its colons."""
    components: list[list[_Token]] = [[]]
    for wildcard, text in tokens:
        pieces = [text] if wildcard else text.split(":")
        for index, piece in enumerate(pieces):
            if index and len(components) < 6:
                components.append([])
            elif index:
                components[-1].append((False, ":"))
            if piece:
                components[-1].append((wildcard, piece))
    return [tuple(component) for component in components]


# Base comparisons: does one context value match one policy value? Negation, IfExists and
# the set operators are applied around them by _Condition.holds.
_Compare = Callable[[str, str, _Env | None], bool]


def _string_equals(actual: str, expected: str, env: _Env | None) -> bool:
    tokens = _tokens(expected, env, wildcards=False)
    return tokens is not None and _literal(tokens) == actual


def _string_equals_ignore_case(actual: str, expected: str, env: _Env | None) -> bool:
    tokens = _tokens(expected, env, wildcards=False)
    return tokens is not None and _literal(tokens).casefold() == actual.casefold()


def _string_like(actual: str, expected: str, env: _Env | None) -> bool:
    return _glob(expected, actual, env)


def _arn_like(actual: str, expected: str, env: _Env | None) -> bool:
    """Match each of the six ARN components alone ("Amazon Resource Name (ARN) condition operators")."""
    tokens = _tokens(expected, env, wildcards=True)
    if tokens is None:
        return False
    patterns = _arn_components(tokens)
    components = actual.split(":", 5)
    if len(patterns) != 6 or len(components) != 6:
        return False
    return all(_regex(p, False).fullmatch(c) is not None for p, c in zip(patterns, components, strict=True))


def _bool(actual: str, expected: str, env: _Env | None) -> bool:
    tokens = _tokens(expected, env, wildcards=False)
    return tokens is not None and _literal(tokens).lower() == actual.lower()


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _instant(text: str) -> datetime | None:
    """An ISO 8601 date and time or an epoch time ("Date condition operators"); naive means UTC."""
    try:
        moment = (
            datetime.fromtimestamp(float(text), UTC)
            if _EPOCH.fullmatch(text)
            else datetime.fromisoformat(text)
        )
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ordered[Value](
    parse: Callable[[str], Value | None], relation: Callable[[Value, Value], bool]
) -> _Compare:
    """A Numeric or Date comparison: a side that does not parse matches nothing."""

    def compare(actual: str, expected: str, _env: _Env | None) -> bool:
        left, right = parse(actual), parse(expected)
        return left is not None and right is not None and relation(left, right)

    return compare


def _ip_address(actual: str, expected: str, _env: _Env | None) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
    except ValueError:
        return False


def _check_bool(value: str) -> bool:
    return value.lower() in ("true", "false")


def _check_ip(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class _BaseOperator:
    compare: _Compare
    negated: bool = False
    variables: bool = False  # "Where you can use policy variables": string, ARN and Bool operators
    valid: Callable[[str], bool] | None = None  # checks a policy value, when it holds no variable


# The Numeric and the Date operators are the same six comparisons, of numbers or of instants.
_COMPARISONS: Final[Mapping[str, tuple[Callable[[Any, Any], bool], bool]]] = {
    "Equals": (operator.eq, False),
    "NotEquals": (operator.eq, True),
    "LessThan": (operator.lt, False),
    "LessThanEquals": (operator.le, False),
    "GreaterThan": (operator.gt, False),
    "GreaterThanEquals": (operator.ge, False),
}


def _ordered_operators[Value](family: str, parse: Callable[[str], Value | None]) -> dict[str, _BaseOperator]:
    """``family``'s six operators (NumericLessThan, ...); a policy value must parse."""

    def valid(value: str) -> bool:
        return parse(value) is not None

    return {
        f"{family}{comparison}": _BaseOperator(_ordered(parse, relation), negated=negated, valid=valid)
        for comparison, (relation, negated) in _COMPARISONS.items()
    }


_OPERATORS: Final[Mapping[str, _BaseOperator]] = {
    "StringEquals": _BaseOperator(_string_equals, variables=True),
    "StringNotEquals": _BaseOperator(_string_equals, negated=True, variables=True),
    "StringEqualsIgnoreCase": _BaseOperator(_string_equals_ignore_case, variables=True),
    "StringNotEqualsIgnoreCase": _BaseOperator(_string_equals_ignore_case, negated=True, variables=True),
    "StringLike": _BaseOperator(_string_like, variables=True),
    "StringNotLike": _BaseOperator(_string_like, negated=True, variables=True),
    # "The ArnEquals and ArnLike condition operators behave identically."
    "ArnEquals": _BaseOperator(_arn_like, variables=True),
    "ArnLike": _BaseOperator(_arn_like, variables=True),
    "ArnNotEquals": _BaseOperator(_arn_like, negated=True, variables=True),
    "ArnNotLike": _BaseOperator(_arn_like, negated=True, variables=True),
    "Bool": _BaseOperator(_bool, variables=True, valid=_check_bool),
    **_ordered_operators("Numeric", _number),
    **_ordered_operators("Date", _instant),
    "IpAddress": _BaseOperator(_ip_address, valid=_check_ip),
    "NotIpAddress": _BaseOperator(_ip_address, negated=True, valid=_check_ip),
}
_NULL: Final = "Null"


def _strings(value: object, element: str) -> tuple[str, ...]:
    """A JSON string or non-empty list of strings ("a single string or an array")."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and value and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ValueError(f"{element} must be a string or a non-empty list of strings")


def _scalar(value: object, element: str) -> str:
    # JSON policies may write Bool and Numeric values unquoted: {"aws:SecureTransport": false}.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise ValueError(f"{element}: {value!r} is not a string, number or boolean")


@dataclass(frozen=True)
class _Condition:
    """One key under one operator: ``"StringEquals": {"aws:PrincipalOrgID": ["o-1", "o-2"]}``."""

    operator: str
    base: _BaseOperator | None  # None for Null
    set_operator: str | None
    if_exists: bool
    key: str  # lower case
    values: tuple[str, ...]

    def holds(self, env: _Env, *, variables: bool) -> bool:
        """Whether the condition holds ("Condition operators", "Single-valued vs. multivalued context keys")."""
        value = env.context.get(self.key)
        if self.base is None:
            # Null: "true" asks that the key be absent; an empty multivalued key counts as absent.
            absent = value is None or value == ()
            return any((expected.lower() == "true") == absent for expected in self.values)
        base = self.base
        substitute = env if variables and base.variables else None

        def matches(actual: str) -> bool:
            # Values for one key are ORed; for a negated operator that means "matches none of them".
            hit = any(base.compare(actual, expected, substitute) for expected in self.values)
            return not hit if base.negated else hit

        if value is None:
            # A missing key: true with IfExists; otherwise true only for a negated operator
            # ("...the condition is true" when "the policy condition requires that the key is not
            # matched") and for ForAllValues ("also returns true if there are no context keys").
            if self.if_exists:
                return True
            if self.set_operator is None:
                return base.negated
            return self.set_operator == "ForAllValues"
        if self.set_operator is None:
            if not isinstance(value, str):
                raise ValueError(
                    f"Condition {self.operator}: context key {self.key!r} has several values; "
                    "a multivalued key needs ForAnyValue: or ForAllValues:"
                )
            return matches(value)
        # A single-valued key under a set operator is a set of one; an empty string is the empty set.
        if isinstance(value, str):
            members: tuple[str, ...] = (value,) if value else ()
        else:
            members = value
        if self.set_operator == "ForAllValues":
            return all(matches(member) for member in members)
        return any(matches(member) for member in members)


def _conditions(block: object) -> list[_Condition]:
    if block is None:
        return []
    if not isinstance(block, Mapping):
        raise ValueError("Condition must be an object of operators")
    conditions: list[_Condition] = []
    for name, keys in block.items():
        match = _OPERATOR.fullmatch(name) if isinstance(name, str) else None
        if match is None:
            raise ValueError(f"Condition: {name!r} is not a condition operator")
        base_name = match.group("base")
        base = _OPERATORS.get(base_name)
        if base is None and base_name != _NULL:
            raise ValueError(f"Condition: operator {name!r} is not supported by this evaluator")
        if base is None and (match.group("set") or match.group("if_exists")):
            raise ValueError(f"Condition: {name!r}: Null takes neither IfExists nor a set operator")
        if not isinstance(keys, Mapping) or not keys:
            raise ValueError(f"Condition {name}: must map condition keys to values")
        for key, raw in keys.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"Condition {name}: {key!r} is not a condition key")
            listed = list(raw) if isinstance(raw, list | tuple) else [raw]
            if not listed:
                raise ValueError(f"Condition {name}: {key} has no values")
            values = tuple(_scalar(item, f"Condition {name}: {key}") for item in listed)
            check = _check_bool if base is None else base.valid
            for value in values:
                if check is not None and "${" not in value and not check(value):
                    raise ValueError(f"Condition {name}: {key}: {value!r} is not a valid value")
            conditions.append(
                _Condition(
                    name, base, match.group("set"), bool(match.group("if_exists")), key.lower(), values
                )
            )
    return conditions


def _aws_principal(value: str, element: str) -> _Link | None:
    """One ``"AWS"`` principal as a link of a principal's chain; None for one that matches nobody."""
    if value == "*":
        return _ANY
    if _ACCOUNT_ID.fullmatch(value):
        return ("account", value)
    if "*" in value or "?" in value:
        raise ValueError(f"{element}: {value!r}: a wildcard cannot match part of a principal")
    if _UNIQUE_ID.fullmatch(value):
        return None
    principal = _parse_principal(value, element)
    if principal.kind == "root":
        # "Using the account ARN ... does not limit permissions to only the root user of the account."
        return ("account", principal.account)
    if principal.kind == "role":
        # A role is unique by name within its account, whatever its path; its sessions act for it.
        return ("role", principal.account, principal.name)
    return ("arn", principal.arn)


def _principal_links(value: object, element: str) -> list[_Link | None]:
    if value == "*":
        return [_ANY]
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"{element} must be '*' or an object such as {{'AWS': ...}}")
    links: list[_Link | None] = []
    for kind, names in value.items():
        listed = _strings(names, f"{element}.{kind}")
        if kind == "AWS":
            links += [_aws_principal(name, element) for name in listed]
        elif kind in ("Service", "Federated", "CanonicalUser"):
            # Services, identity providers and S3 canonical users are never an IAM principal ARN.
            links += [None for _ in listed]
        else:
            raise ValueError(f"{element}: unknown principal type {kind!r}")
    return links


def _principal_grant(statement: Mapping[str, object], principal: _Principal, effect: str) -> _Grant:
    """How Principal or NotPrincipal names the request's principal ("AWS JSON policy elements: Principal")."""
    if ("Principal" in statement) == ("NotPrincipal" in statement):
        raise ValueError("a resource-based policy statement needs exactly one of Principal and NotPrincipal")
    chain = principal.chain()
    if "Principal" in statement:
        links = _principal_links(statement["Principal"], "Principal")
        grants = [
            _LINK_GRANTS[link[0]] for link in links if link is not None and (link == _ANY or link in chain)
        ]
        return max(grants, default=_Grant.NONE)
    listed = _principal_links(statement["NotPrincipal"], "NotPrincipal")
    named = [_ANY in listed or link in listed for link in chain]
    # "NotPrincipal With Deny": AWS may check the account, the role and the session in turn, so
    # a Deny spares only a principal whose every link is listed. An Allow, read the same
    # fail-closed way, grants nothing to a principal any of whose links is listed.
    excluded = all(named) if effect == "Deny" else any(named)
    return _Grant.NONE if excluded else _Grant.ACCOUNT


def _pair(
    statement: Mapping[str, object], name: str, negated: str, *, required: bool
) -> tuple[str, ...] | None:
    if name in statement and negated in statement:
        raise ValueError(f"a statement cannot have both {name} and {negated}")
    key = name if name in statement else negated if negated in statement else None
    if key is None:
        if required:
            raise ValueError(f"a statement needs {name} or {negated}")
        return None
    return _strings(statement[key], key)


def _check_resources(patterns: tuple[str, ...]) -> None:
    for pattern in patterns:
        variable_at = pattern.find("${")
        if variable_at >= 0 and pattern.count(":", 0, variable_at) < 5:
            # "Variables and tags", "Resource element": not in the service, region or account.
            raise ValueError(f"Resource {pattern!r}: a policy variable may only appear after the fifth colon")


def _resource_matches(patterns: tuple[str, ...], resource: str, env: _Env | None) -> bool:
    # Case-sensitive; "*" matches anything, including the "*" of an action that takes no resource.
    return any(_glob(pattern, resource, env) for pattern in patterns)


def _json_object(value: object, known: frozenset[str], element: str) -> Mapping[str, object]:
    """``value``, a JSON object whose elements are all ``known`` (so its keys are strings). Fail-closed: an
    element it does not know is refused, not ignored."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{element}: not a JSON object")
    unknown = sorted(str(key) for key in value if key not in known)
    if unknown:
        raise ValueError(f"{element}: unknown element(s) {', '.join(unknown)}")
    return value


def _statement(
    statement: object, env: _Env, *, principal_must_match: bool, variables: bool
) -> tuple[str, _Grant]:
    """The statement's effect, and how it names the principal (NONE when it does not apply)."""
    statement = _json_object(statement, _STATEMENT_KEYS, "Statement")
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise ValueError(f"Effect must be 'Allow' or 'Deny', not {effect!r}")
    if not principal_must_match and ("Principal" in statement or "NotPrincipal" in statement):
        raise ValueError("Principal and NotPrincipal belong in resource-based policies only")
    actions = _pair(statement, "Action", "NotAction", required=True) or ()
    for action in actions:
        if not _POLICY_ACTION.fullmatch(action):
            raise ValueError(f"Action {action!r} is not '*' or 'service:action'")
    # A resource-based policy is attached to its resource: Resource may be left out.
    resources = _pair(statement, "Resource", "NotResource", required=not principal_must_match)
    if resources is not None and variables:
        _check_resources(resources)
    conditions = _conditions(statement.get("Condition"))
    grant = (
        _principal_grant(statement, env.principal, str(effect)) if principal_must_match else _Grant.PRINCIPAL
    )

    substitute = env if variables else None
    action_hit = any(_glob(action, env.request.action, None, ignore_case=True) for action in actions)
    if action_hit == ("NotAction" in statement):
        return str(effect), _Grant.NONE
    if resources is not None and _resource_matches(resources, env.request.resource, substitute) == (
        "NotResource" in statement
    ):
        return str(effect), _Grant.NONE
    # All operators, and all keys within one, must hold: they are ANDed.
    if not all(condition.holds(env, variables=variables) for condition in conditions):
        return str(effect), _Grant.NONE
    return str(effect), grant


def statement_applies(
    statement: Mapping[str, object], request: Request, *, principal_must_match: bool
) -> bool:
    """Whether one statement applies to the request, whatever its Effect.

    ``principal_must_match`` is True for a statement of a resource-based policy (it must
    carry Principal or NotPrincipal, and may leave out Resource); False for an identity
    policy, permissions boundary or SCP statement (which must not carry a principal).
    Policy variables are substituted, as in a policy of version 2012-10-17.
    """
    _, grant = _statement(
        statement, _Env.of(request), principal_must_match=principal_must_match, variables=True
    )
    return grant is not _Grant.NONE


def _statements(policy: object) -> tuple[list[object], bool]:
    """The statements of a policy document, and whether its language version has variables."""
    document: object = policy
    if isinstance(policy, str):
        try:
            document = json.loads(policy)
        except json.JSONDecodeError as error:
            raise ValueError(f"policy document is not JSON: {error}") from error
    document = _json_object(document, _DOCUMENT_KEYS, "policy document")
    version = document.get("Version")
    if version is not None and version not in _VERSIONS:
        raise ValueError(f"Version {version!r} is not 2012-10-17 or 2008-10-17")
    if "Statement" not in document:
        raise ValueError("policy document has no Statement")
    statements = document["Statement"]
    if isinstance(statements, Mapping):
        return [statements], version == _VARIABLES_VERSION
    if isinstance(statements, list):
        return list(statements), version == _VARIABLES_VERSION
    raise ValueError("Statement must be an object or a list of objects")


@dataclass(frozen=True)
class _Outcome:
    decision: Decision
    grant: _Grant = _Grant.NONE


def _evaluate_document(policy: object, env: _Env, *, resource_based: bool) -> _Outcome:
    statements, variables = _statements(policy)
    denied = False
    grant = _Grant.NONE
    # Every statement is evaluated, never cut short, so that a malformed one raises whatever comes before it.
    for statement in statements:
        effect, applies = _statement(statement, env, principal_must_match=resource_based, variables=variables)
        if applies is _Grant.NONE:
            continue
        if effect == "Deny":
            denied = True
        else:
            grant = max(grant, applies)
    if denied:
        return _Outcome(Decision.EXPLICIT_DENY)
    if grant is not _Grant.NONE:
        return _Outcome(Decision.ALLOWED, grant)
    return _Outcome(Decision.IMPLICIT_DENY)


def evaluate_policy(policy: PolicyDocument, request: Request, *, resource_based: bool = False) -> Decision:
    """One policy document alone: EXPLICIT_DENY if a Deny applies, else ALLOWED if an Allow does.

    ``policy`` is a mapping or its JSON text. With ``resource_based=True`` each
    statement names its principals with Principal or NotPrincipal, which must match
    the request's principal; the statement may leave out Resource.
    """
    return _evaluate_document(policy, _Env.of(request), resource_based=resource_based).decision


def _documents(policies: object, argument: str) -> list[object]:
    # A policy is a Mapping or a str, and both would iterate quietly as if they were a list.
    if isinstance(policies, Mapping | str) or not isinstance(policies, Sequence):
        raise ValueError(f"{argument} must be a list of policy documents")
    return list(policies)


def evaluate(
    request: Request,
    *,
    identity_policies: Sequence[PolicyDocument] = (),
    service_control_policies: Sequence[Sequence[PolicyDocument]] = (),
    permissions_boundaries: Sequence[PolicyDocument] = (),
    resource_policy: PolicyDocument | None = None,
    same_account: bool = True,
) -> Decision:
    """Decide a request against every policy that applies ("Policy evaluation logic").

    1. An explicit Deny in any policy wins.
    2. ``service_control_policies`` lists levels from the root through each OU to the
       account, each level the SCPs attached there. At every level some SCP must Allow
       ("SCP evaluation"). Pass none for the management account, which SCPs never limit.
    3. Within one account an Allow in the identity policies or in ``resource_policy``
       suffices. A resource policy that names the IAM user or the role session itself
       is not limited by the identity policies or a permissions boundary; one that names
       the role (or ``"*"``) is limited by the boundary; one that names the account only
       delegates, so an identity policy must Allow too.
    4. Every permissions boundary given must Allow, unless the resource policy named
       the user or session itself.
    5. Across accounts (``same_account=False``) both the identity policies and
       the resource policy must Allow.

    The account root user needs no identity policy ("By default, all requests are
    implicitly denied with the exception of the AWS account root user").
    """
    env = _Env.of(request)
    identity = [
        _evaluate_document(p, env, resource_based=False)
        for p in _documents(identity_policies, "identity_policies")
    ]
    levels = [
        [
            _evaluate_document(p, env, resource_based=False)
            for p in _documents(level, "service_control_policies: each level")
        ]
        for level in _documents(service_control_policies, "service_control_policies")
    ]
    boundaries = [
        _evaluate_document(p, env, resource_based=False)
        for p in _documents(permissions_boundaries, "permissions_boundaries")
    ]
    resource = (
        None if resource_policy is None else _evaluate_document(resource_policy, env, resource_based=True)
    )

    outcomes = [*identity, *(o for level in levels for o in level), *boundaries]
    if resource is not None:
        outcomes.append(resource)
    if any(o.decision is Decision.EXPLICIT_DENY for o in outcomes):
        return Decision.EXPLICIT_DENY
    if not all(any(o.decision is Decision.ALLOWED for o in level) for level in levels):
        return Decision.IMPLICIT_DENY

    identity_allows = env.principal.kind == "root" or any(o.decision is Decision.ALLOWED for o in identity)
    grant = resource.grant if resource is not None else _Grant.NONE
    boundary_allows = all(o.decision is Decision.ALLOWED for o in boundaries)
    if not same_account:
        allowed = identity_allows and boundary_allows and grant is not _Grant.NONE
    elif grant is _Grant.DIRECT:
        allowed = True
    else:
        allowed = boundary_allows and (identity_allows or grant is _Grant.PRINCIPAL)
    return Decision.ALLOWED if allowed else Decision.IMPLICIT_DENY


def trust_allows(
    trust_policy: PolicyDocument, principal_arn: str, context: Mapping[str, ContextValue] = _EMPTY_CONTEXT
) -> bool:
    """Whether a role's trust policy lets the principal call ``sts:AssumeRole``.

    A trust policy is resource-based and must itself Allow the principal ("Policy
    evaluation logic": IAM role trust policies are an exception to the rule that an
    identity policy allow suffices). True only if an Allow applies and no Deny does.
    A trust policy that names an account delegates to it: AWS also requires the
    principal's own identity policies to allow ``sts:AssumeRole``, which this function
    does not check (use :func:`evaluate` for that).
    """
    statements, _ = _statements(trust_policy)
    for statement in statements:
        if isinstance(statement, Mapping) and ("Resource" in statement or "NotResource" in statement):
            raise ValueError("a role trust policy cannot have Resource or NotResource")
    request = Request(principal_arn, "sts:AssumeRole", "*", context)
    return evaluate_policy(trust_policy, request, resource_based=True) is Decision.ALLOWED

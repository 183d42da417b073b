"""The Billing API orgvend calls (GetBillingPreferences, UpdateBillingPreferences), served beside moto.

moto has no Billing service: in-process its stubber answers ``404 Not yet implemented``, its server a
500 page of HTML. This module is a Billing backend moto dispatches to like one of its own: its URL
pattern joins ``moto.backend_index`` (both the in-process stubber and the server's dispatcher match
requests against it) and ``moto.backends.get_backend`` learns its name. Preferences are kept per
management account (the payer of a consolidated billing family) and per feature; requests are
checked against botocore's model of the API; every error, an unknown operation's included, is a
JSON 1.0 error of the model's shapes (``__type``, ``message``; ``reason`` and ``fieldList`` for a
ValidationException).
"""

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

import botocore.session
from botocore.exceptions import ClientError
from botocore.model import ListShape, OperationModel, ServiceModel, Shape, StructureShape
from botocore.validate import ParamValidator
from moto import backend_index, backends
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.responses import TYPE_RESPONSE, BaseResponse
from moto.organizations import models as organizations_models

from orgvend_local.parity.patch import CANARY_REGION, Emulator, Patcher, declared, still, stock_moto

SERVICE: Final = "billing"
URL_PATTERN: Final = re.compile(r"https?://billing\.[^/]+/?$")
# Features whose keys are member account IDs and whose value says whether the account shares
# (RI / Savings Plans discounts, credits); on for every account until turned off, as in AWS.
ACCOUNT_SHARING_FEATURES: Final = frozenset({"RI_SHARING", "CREDIT_SHARING"})
SHARING_DEFAULT: Final = "ENABLED"
DEFAULT_PAGE_SIZE: Final = 50  # the model's maximum of maxResults
ACCOUNT_NAME_MAX: Final = 50  # the model's AccountName length
EMULATED: Final = ("GetBillingPreferences", "UpdateBillingPreferences")


@cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model(SERVICE)


class BillingError(Exception):
    """An error of the model's shapes, answered as JSON 1.0 (``__type`` is the shape's name)."""

    def __init__(self, code: str, message: str, *, status: int = 400, **members: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.members = code, message, status, members

    def response(self) -> TYPE_RESPONSE:
        body = {"__type": self.code, "message": self.message[:1024], **self.members}
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": self.code}
        return self.status, headers, json.dumps(body)


def validation(message: str, reason: str, fields: list[dict[str, str]] | None = None) -> BillingError:
    members: dict[str, Any] = {"reason": reason}
    if fields:
        members["fieldList"] = fields
    return BillingError("ValidationException", message, **members)


def constraint_errors(shape: Shape, value: Any, name: str) -> list[dict[str, str]]:
    """What botocore's validator leaves out of the model: enums and string patterns."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        return [
            error
            for member, member_shape in shape.members.items()
            if member in value
            for error in constraint_errors(member_shape, value[member], f"{name}.{member}".lstrip("."))
        ]
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [error for item in value for error in constraint_errors(shape.member, item, name)]
    if shape.type_name == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            return [{"name": name, "message": f"{value!r} is not one of {', '.join(shape.enum)}"}]
        pattern = shape.metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            return [{"name": name, "message": f"{value!r} does not match {pattern}"}]
    return []


def validated(operation: OperationModel, params: Any) -> dict[str, Any]:
    """The request, checked against the operation's input shape: botocore's validator (required
    members, lengths, ranges, types), then enums and patterns."""
    if not isinstance(params, dict):
        raise validation("The request body is not a JSON object", "cannotParse")
    shape = operation.input_shape
    if shape is None:  # every Billing operation has an input shape; none means nothing to check
        return params
    report = ParamValidator().validate(params, shape)
    # botocore keeps the errors of its report unexposed but for the text
    fields = [{"name": str(name) or "request", "message": str(kind)} for kind, name, *_ in report._errors]
    messages = [report.generate_report()] if fields else []
    for error in constraint_errors(shape, params, ""):
        fields.append(error)
        messages.append(f"{error['name']}: {error['message']}")
    if fields:
        raise validation("; ".join(messages), "fieldValidationFailed", fields)
    return params


@dataclass(frozen=True)
class Family:
    """A consolidated billing family: the organization of a management account, its accounts by ID."""

    management_account: str
    names: dict[str, str]


def family_of(account_id: str) -> Family:
    """The billing family the caller pays for; AccessDeniedException unless it is a management account
    (AWS: sharing preferences are set by the management account of a consolidated billing family)."""
    backend = organizations_models.organizations_backends[account_id]["aws"]
    if backend.org is None or backend.org.master_account_id != account_id:
        raise BillingError(
            "AccessDeniedException",
            f"Account {account_id} is not the management account of a consolidated billing family",
            status=403,
        )
    return Family(account_id, {account.id: account.name for account in backend.accounts})


class BillingBackend(BaseBackend):
    """One management account's preferences: (feature, key) → value, only those set."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.preferences: dict[tuple[str, str], str] = {}

    @property
    def urls(self) -> dict[str, Callable[..., TYPE_RESPONSE]]:  # the in-process stubber's routes
        return {URL_PATTERN.pattern: BillingResponse.dispatch}

    @property
    def flask_paths(self) -> dict[str, Callable[..., TYPE_RESPONSE]]:  # the server's routes
        return {"/": BillingResponse.dispatch}

    def get_billing_preferences(self, family: Family, request: dict[str, Any]) -> dict[str, Any]:
        [feature] = request["features"]
        supported(feature)
        keys = list(family.names)
        for billing_filter in request.get("filters") or []:
            wanted = list(dict.fromkeys(billing_filter["value"]))
            members(family, wanted, "filters.value")
            keys = [key for key in keys if key in wanted]
        start = page_start(request.get("nextToken"))
        size = request.get("maxResults") or DEFAULT_PAGE_SIZE
        page = keys[start : start + size]
        answer: dict[str, Any] = {
            "billingPreferences": [
                {
                    "feature": feature,
                    "key": key,
                    "value": self.preferences.get((feature, key), SHARING_DEFAULT),
                    "accountId": key,
                    "accountName": family.names[key][:ACCOUNT_NAME_MAX],
                }
                for key in page
            ]
        }
        if start + size < len(keys):
            answer["nextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return answer

    def update_billing_preferences(self, family: Family, request: dict[str, Any]) -> dict[str, Any]:
        feature = request["feature"]
        supported(feature)
        entries = request["billingPreferencesPerKey"]
        keys = [entry["key"] for entry in entries]
        if duplicated := sorted({key for key in keys if keys.count(key) > 1}):
            # AWS: the keys of one request "must not be duplicated"
            raise validation(
                f"Duplicated keys: {', '.join(duplicated)}",
                "fieldValidationFailed",
                [
                    {"name": "billingPreferencesPerKey.key", "message": f"{key} is duplicated"}
                    for key in duplicated
                ],
            )
        members(family, keys, "billingPreferencesPerKey.key")
        for entry in entries:  # all checked first: a refused request changes nothing
            self.preferences[(feature, entry["key"])] = entry["value"]
        return {}


def supported(feature: str) -> None:
    if feature not in ACCOUNT_SHARING_FEATURES:
        raise validation(
            f"Feature {feature} is not emulated by the embedded AWS "
            f"(only {', '.join(sorted(ACCOUNT_SHARING_FEATURES))})",
            "other",
            [{"name": "feature", "message": "not emulated"}],
        )


def members(family: Family, keys: list[str], field: str) -> None:
    """Every key is an account of the family; a ValidationException naming the others."""
    strangers = [key for key in keys if key not in family.names]
    if strangers:
        raise validation(
            f"Not accounts of the billing family of {family.management_account}: {', '.join(strangers)}",
            "fieldValidationFailed",
            [
                {"name": field, "message": f"{key} is not an account of the billing family"}
                for key in strangers
            ],
        )


def page_start(token: str | None) -> int:
    if token is None:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except ValueError:
        raise validation(
            "Invalid nextToken", "fieldValidationFailed", [{"name": "nextToken", "message": "invalid"}]
        ) from None


billing_backends = BackendDict(BillingBackend, SERVICE, use_boto3_regions=False, additional_regions=["aws"])


class BillingResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name=SERVICE)

    def _dispatch(self, request: Any, full_url: str | None = None, headers: Any = None) -> TYPE_RESPONSE:
        try:
            self.setup_class(request, full_url, headers)
            return self.answer()
        except BillingError as error:
            return error.response()

    def answer(self) -> TYPE_RESPONSE:
        target = str(self.headers.get("X-Amz-Target") or "")
        prefix = f"{service_model().metadata['targetPrefix']}."
        name = target.removeprefix(prefix) if target.startswith(prefix) else ""
        if name not in service_model().operation_names:
            raise validation(f"Unknown operation {target or '(no X-Amz-Target)'}", "unknownOperation")
        if name not in EMULATED:
            raise validation(f"Billing operation {name} is not emulated by the embedded AWS", "other")
        try:
            params = json.loads(self.body or "{}")
        except ValueError:
            raise validation("The request body is not JSON", "cannotParse") from None
        request = validated(service_model().operation_model(name), params)
        family = family_of(self.current_account)
        backend: BillingBackend = billing_backends[family.management_account]["aws"]
        handler = (
            backend.get_billing_preferences if name == EMULATED[0] else backend.update_billing_preferences
        )
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(handler(family, request))


def apply_billing_preferences(patcher: Patcher, _emulator: Emulator) -> None:
    """Billing joins moto's services: its URL among the patterns both dispatchers match (the list is
    changed in place: the server's dispatcher holds the list itself), its backend by name."""
    entry = (SERVICE, URL_PATTERN)
    backend_index.backend_url_patterns.append(entry)
    patcher.on_undo(lambda: backend_index.backend_url_patterns.remove(entry))
    original: Callable[[str], Any] = backends.get_backend

    def get_backend(name: str) -> Any:
        return billing_backends if name == SERVICE else original(name)

    patcher.replace(backends, "get_backend", get_backend)
    patcher.on_undo(billing_backends.reset)  # stock moto again forgets the preferences


def canary_billing_preferences() -> None:
    """moto knows no Billing service: GetBillingPreferences answers no Billing answer or error."""
    with stock_moto() as session:
        still(
            all(service != SERVICE for service, _ in backend_index.backend_url_patterns),
            "moto routes Billing requests",
        )
        # moto's stubber lets requests to hosts outside amazonaws.com (Billing's is api.aws) through
        # to the network: the canary names the amazonaws.com host moto answers for unknown services.
        billing = session.client(SERVICE, endpoint_url=f"https://billing.{CANARY_REGION}.amazonaws.com")
        try:
            answer = billing.get_billing_preferences(features=["RI_SHARING"])
        except ClientError as error:
            code = str(error.response["Error"]["Code"])
            known = {
                shape.name for shape in service_model().operation_model("GetBillingPreferences").error_shapes
            }
            still(code not in known, f"it answered Billing's {code}")
        else:
            still(False, f"it answered {answer}")


BILLING_PREFERENCES = declared(
    "billing-preferences", apply=apply_billing_preferences, canary=canary_billing_preferences
)

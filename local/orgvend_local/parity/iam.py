"""IAM calls moto does not implement that orgvend reads."""

from typing import Any

from moto.core.responses import ActionResult
from moto.iam.responses import IamResponse
from moto.organizations import models as organizations_models

from orgvend_local.parity.organizations import canary_organization
from orgvend_local.parity.patch import Emulator, Patcher, declared, still_unimplemented, stock_moto


def list_organizations_features(response: IamResponse) -> ActionResult:
    """The embedded organization runs without centralised root access management, as a new AWS
    organization does: no features enabled."""
    organization = organizations_models.organizations_backends[response.current_account]["aws"].org
    result: dict[str, Any] = {"EnabledFeatures": []}
    if organization is not None:
        result["OrganizationId"] = organization.id
    return ActionResult(result)


def apply_organizations_features(patcher: Patcher, _emulator: Emulator) -> None:
    patcher.replace(IamResponse, "list_organizations_features", list_organizations_features)


def canary_organizations_features() -> None:
    with stock_moto() as session:
        canary_organization(session)
        still_unimplemented(session.client("iam").list_organizations_features, "has not been implemented")


ORGANIZATIONS_FEATURES = declared(
    "iam-list-organizations-features",
    apply=apply_organizations_features,
    canary=canary_organizations_features,
)

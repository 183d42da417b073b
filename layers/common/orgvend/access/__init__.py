"""People's access through IAM Identity Center: the access rules, the permission sets orgvend keeps, the
account assignments it makes and keeps true (README, "Access").

``access_setup`` and ``identity_center`` read the stack's configuration from a function's Settings;
both are None when the stack names no Identity Center instance, and then orgvend assigns nothing.
"""

from orgvend import aws
from orgvend.access.assignments import AccessSetup
from orgvend.access.identity_center import IdentityCenter
from orgvend.access.rules import parse_access_rules
from orgvend.settings import Settings

__all__ = ["access_setup", "identity_center", "portal_url"]


def portal_url(settings: Settings) -> str | None:
    """The AWS access portal: the stack's AccessPortalUrl, else the Identity Store's default address."""
    if settings.access_portal_url:
        return settings.access_portal_url
    if settings.identity_store_id:
        return f"https://{settings.identity_store_id}.awsapps.com/start"
    return None


def access_setup(settings: Settings) -> AccessSetup | None:
    if not settings.identity_center_instance_arn:
        return None
    return AccessSetup(
        rules=parse_access_rules(settings.access_rules or ()),
        create_missing_groups=bool(settings.create_missing_groups),
        portal_url=portal_url(settings) or "",
        sso_region=settings.required(settings.identity_center_region, "identity_center_region"),
    )


def identity_center(settings: Settings) -> IdentityCenter | None:
    if not settings.identity_center_instance_arn:
        return None
    region = settings.required(settings.identity_center_region, "identity_center_region")
    return IdentityCenter(
        sso_admin=aws.identity_center_client("sso-admin", region),
        identity_store=aws.identity_center_client("identitystore", region),
        instance_arn=settings.identity_center_instance_arn,
        identity_store_id=settings.required(settings.identity_store_id, "identity_store_id"),
    )

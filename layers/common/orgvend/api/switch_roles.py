"""``/switch-roles``: access to every account, in the format of each tool people switch roles (or sign in) with."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from orgvend import rules
from orgvend.api.dependencies import AccountsService, Dependencies
from orgvend.api.errors import ERRORS
from orgvend.api.parameters import SlugFilter
from orgvend.exports import DEFAULT_PROFILE_REGION, ExportFormat, ExportOptions

router = Router()
MEDIA_TYPES = ("text/plain", "text/html", "text/csv", "application/json")


@router.get(
    "/switch-roles",
    summary="Every account's access: ~/.aws/config (role or SSO profiles), the extension's INI, bookmarks, "
    "a page, CSV, JSON",
    description="format=aws-config-sso gives AWS CLI profiles that sign in through the AWS access portal "
    "(IAM Identity Center): one [sso-session], and a profile <client>-<project>-<permission set> for each "
    "permission set orgvend assigned in an account; accounts without such access get none. A stack without "
    "an Identity Center instance answers it 409 NoIdentityCenter. The other formats assume the access role.",
    responses={
        200: {
            "description": "The export, as a file to save",
            "content": {
                media: {"schema": {"type": "object" if media == "application/json" else "string"}}
                for media in MEDIA_TYPES
            },
        },
        **ERRORS,
    },
)
def get_switch_roles(
    *,
    accounts: AccountsService,
    provided: Dependencies,
    format: Annotated[
        ExportFormat,
        Query(
            description="aws-config (role profiles), aws-config-sso (profiles through the AWS access "
            "portal), extend-switch-roles, bookmarks, html, csv or json"
        ),
    ] = ExportFormat.AWS_CONFIG,
    client: SlugFilter = None,
    project: SlugFilter = None,
    sourceProfile: Annotated[str, Query(pattern=rules.SOURCE_PROFILE_PATTERN.pattern)] = "default",
    region: Annotated[
        str | None,
        Query(
            pattern=rules.REGION_PATTERN.pattern,
            description=f"The profiles' region: default {DEFAULT_PROFILE_REGION}, "
            "or Identity Center's Region for aws-config-sso",
        ),
    ] = None,
) -> Response[str]:
    options = ExportOptions(
        source_profile=sourceProfile,
        region=region,
        management_account_id=provided.management_account_id(),
        sso_start_url=provided.access_portal_url(),
        sso_region=provided.identity_center_region(),
    )
    export = accounts.export(format, client, project, options)
    return Response(
        status_code=200,
        content_type=export.media_type,
        body=export.content,
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )

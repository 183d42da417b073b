"""``/switch-roles``: switch-role access to every account, in the format of each tool people switch roles with."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from orgvend import rules
from orgvend.api.dependencies import AccountsService, Dependencies
from orgvend.api.errors import ERRORS
from orgvend.api.parameters import SlugFilter
from orgvend.exports import ExportFormat, ExportOptions

router = Router()
MEDIA_TYPES = ("text/plain", "text/html", "text/csv", "application/json")


@router.get(
    "/switch-roles",
    summary="Switch-role access for every account: ~/.aws/config, the extension's INI, bookmarks, a page, CSV, JSON",
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
    format: Annotated[ExportFormat, Query()] = ExportFormat.AWS_CONFIG,
    client: SlugFilter = None,
    project: SlugFilter = None,
    sourceProfile: Annotated[str, Query(pattern=rules.SOURCE_PROFILE_PATTERN.pattern)] = "default",
    region: Annotated[str, Query(pattern=rules.REGION_PATTERN.pattern)] = "us-east-1",
) -> Response[str]:
    options = ExportOptions(
        source_profile=sourceProfile, region=region, management_account_id=provided.management_account_id()
    )
    export = accounts.export(format, client, project, options)
    return Response(
        status_code=200,
        content_type=export.media_type,
        body=export.content,
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )

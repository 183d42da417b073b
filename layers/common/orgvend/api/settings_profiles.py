"""``/settings-profiles``: the profiles accounts are set up with (orgvend.account_settings), read and written.

A write is optimistic: ``If-Match`` carries the version the writer read, and a write from a stale read
is answered 409 (read it again). Absent ``If-Match``, the profile must not exist yet.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from orgvend.account_settings.models import SettingsProfile
from orgvend.api.dependencies import SettingsProfilesService
from orgvend.api.errors import answers
from orgvend.api.parameters import IfMatch, SettingsProfileNamePath, version_in
from orgvend.observability import logger
from orgvend.workflows.models import SettingsProfileBody, SettingsProfileList

router = Router()


@router.get(
    "/settings-profiles",
    summary="Every settings profile, with its version",
    responses=answers(200, SettingsProfileList, "The profiles"),
)
def get_settings_profiles(profiles: SettingsProfilesService) -> SettingsProfileList:
    return profiles.list()


@router.get(
    "/settings-profiles/<name>",
    summary="One settings profile, with its version",
    responses=answers(200, SettingsProfile, "The profile"),
)
def get_settings_profile(name: SettingsProfileNamePath, profiles: SettingsProfilesService) -> SettingsProfile:
    return profiles.get(name)


@router.put(
    "/settings-profiles/<name>",
    summary="Write a settings profile: its next version (If-Match: the version you read)",
    responses=answers(200, SettingsProfile, "The profile as stored, with its new version", body=True),
)
def put_settings_profile(
    *,
    name: SettingsProfileNamePath,
    body: Annotated[SettingsProfileBody, Body()],
    profiles: SettingsProfilesService,
    if_match: IfMatch = None,
) -> SettingsProfile:
    written = profiles.put(body.named(name), version_in(if_match))
    logger.info("Settings profile written", extra={"profile": name, "version": written.version})
    return written

"""Read and write settings profiles for the API: the registry's, with their versions.

A write names the version it replaces (the API's ``If-Match``): a write from a stale read is refused
(409) rather than losing someone's change. The built-in ``default`` has a version too
(``DEFAULT_PROFILE.version``): replacing it is writing the first stored ``default``.
"""

from orgvend.account_settings.models import DEFAULT_PROFILE, SettingsProfile
from orgvend.errors import WriteContention
from orgvend.refusals import Conflict, NotFound
from orgvend.registry import Registry
from orgvend.workflows.models import SettingsProfileList

VERSION_FIELD = "If-Match"


class SettingsProfileCatalog:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def list(self) -> SettingsProfileList:
        return SettingsProfileList(items=self._registry.list_settings_profiles())

    def get(self, name: str) -> SettingsProfile:
        profile = self._registry.get_settings_profile(name)
        if profile is None:
            raise NotFound(f"settings profile {name!r}", "name")
        return profile

    def put(self, profile: SettingsProfile, version: int | None) -> SettingsProfile:
        """Store ``profile`` as the next version, if ``version`` is still the stored one (None: none is)."""
        built_in = profile.name == DEFAULT_PROFILE.name and version == DEFAULT_PROFILE.version
        try:
            return self._registry.put_settings_profile(profile, replacing=None if built_in else version)
        except WriteContention:
            read_again = (
                f"read it again (GET /settings-profiles/{profile.name}) and send its version in If-Match"
            )
            if version is None:
                raise Conflict(
                    "SettingsProfileExists",
                    f"settings profile {profile.name!r} exists: {read_again}",
                    VERSION_FIELD,
                ) from None
            raise Conflict(
                "SettingsProfileChanged",
                f"settings profile {profile.name!r} is no longer version {version}: {read_again}",
                VERSION_FIELD,
            ) from None

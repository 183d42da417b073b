"""Console switch-role links: the registry is the source, not a five-entry browser cookie."""

from urllib.parse import urlencode

SWITCH_ROLE_ENDPOINT = "https://signin.aws.amazon.com/switchrole"
DISPLAY_NAME_MAX_LENGTH = 64
CONSOLE_COLOURS = ("F2B0A9", "FBBF93", "FAD791", "B7CA9D", "99BCE3")


def display_name(client: str, project: str) -> str:
    return f"{client}/{project}"[:DISPLAY_NAME_MAX_LENGTH]


def switch_role_url(account_id: str, role_name: str, display: str, colour: str | None = None) -> str:
    query = {"account": account_id, "roleName": role_name, "displayName": display[:DISPLAY_NAME_MAX_LENGTH]}
    if colour:
        query["color"] = colour
    return f"{SWITCH_ROLE_ENDPOINT}?{urlencode(query)}"

"""Console switch-role links, computed from what the registry keeps and never stored.

A link is a function of the account's ID, its access role's name and its client and
project (the display name), so it follows a renamed role or a moved account at once.
Every reader builds it here: the API's and the workflow's account JSON
(``AccountRecord.switch_role_url``), the operators' messages, the CLI and the exports.
Standard library only: the CLI imports it too.
"""

import unicodedata
from urllib.parse import urlencode

SWITCH_ROLE_ENDPOINT = "https://signin.aws.amazon.com/switchrole"
# The console's display-name field counts UTF-16 code units (JavaScript's string length).
DISPLAY_NAME_MAX_LENGTH = 64
CONSOLE_COLOURS = ("F2B0A9", "FBBF93", "FAD791", "B7CA9D", "99BCE3")

# Invisible characters that can reorder or hide text in a display name.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ZERO_WIDTH_JOINER = "\u200d"
_ELLIPSIS = "\u2026"


def clean_text(text: str) -> str:
    """NFC text without control characters (a newline becomes a space) and bidi overrides."""
    if text.isascii() and text.isprintable():  # the usual case, 20 times faster
        return " ".join(text.split())
    text = unicodedata.normalize("NFC", text)
    kept = []
    for character in text:
        if character in _BIDI_CONTROLS:
            continue
        category = unicodedata.category(character)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif category not in ("Cs", "Co", "Cn"):
            kept.append(character)
    return " ".join("".join(kept).split())


def _utf16_length(character: str) -> int:
    return 2 if ord(character) > 0xFFFF else 1


def _attaches_to_previous(character: str) -> bool:
    """A mark, joiner or modifier that belongs to the character before it."""
    return (
        unicodedata.category(character) in ("Mn", "Mc", "Me")
        or character == _ZERO_WIDTH_JOINER
        or "\ufe00" <= character <= "\ufe0f"  # variation selectors
        or "\U0001f3fb" <= character <= "\U0001f3ff"  # skin-tone modifiers
        or "\U000e0020" <= character <= "\U000e007f"  # tag sequences (subdivision flags)
    )


def truncate_display_name(text: str, limit: int = DISPLAY_NAME_MAX_LENGTH) -> str:
    """``text`` cleaned and cut to ``limit`` UTF-16 code units (what the console's field counts).

    A cut text ends with an ellipsis and never splits a character from its
    combining marks, an emoji sequence or a surrogate pair.
    """
    text = clean_text(text)
    if len(text) <= limit and (text.isascii() or sum(map(_utf16_length, text)) <= limit):
        return text
    budget, cut = limit - 1, 0  # one unit for the ellipsis
    for character in text:
        budget -= _utf16_length(character)
        if budget < 0:
            break
        cut += 1
    # text[cut] is the first character dropped: back off while it belongs to the one before.
    while cut > 0 and (_attaches_to_previous(text[cut]) or text[cut - 1] == _ZERO_WIDTH_JOINER):
        cut -= 1
    return text[:cut].rstrip() + _ELLIPSIS


def display_name(client: str, project: str, client_label: str | None = None) -> str:
    """The console's display name of an account: ``<client label>/<project>``, at most 64 UTF-16 units.

    ``client_label`` is shown instead of the client's slug when given (an export's client setting).
    """
    return truncate_display_name(f"{client_label or client}/{project}")


def switch_role_url(
    account_id: str,
    role_name: str,
    client: str,
    project: str,
    *,
    client_label: str | None = None,
    colour: str | None = None,
) -> str:
    """The console's switch-role link of an account, from the registry's account ID, role, client, project.

    The one place a link is made. ``client_label`` and ``colour`` are what an export may add (its client
    settings and palette); an account's own link (API, messages, CLI) has neither.
    """
    query = {
        "account": account_id,
        "roleName": role_name,
        "displayName": display_name(client, project, client_label),
    }
    if colour:
        query["color"] = colour
    return f"{SWITCH_ROLE_ENDPOINT}?{urlencode(query)}"

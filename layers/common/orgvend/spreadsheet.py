"""CSV that is safe to open in a spreadsheet: every CSV orgvend writes (the API's exports, the CLI) guards
its cells here.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by
Excel, LibreOffice and Google Sheets (CSV injection, OWASP "CSV Injection"); an apostrophe in front
makes it text.
"""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_guarded(text: str) -> str:
    """``text`` as a spreadsheet shows it, never runs it."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text

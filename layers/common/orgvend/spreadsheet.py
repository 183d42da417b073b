"""CSV that is safe to open in a spreadsheet: every CSV orgvend writes (the API's exports, the CLI) guards
its cells here.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by
Excel, LibreOffice and Google Sheets (CSV injection, OWASP "CSV Injection"); an apostrophe in front
makes it text.
"""

from decimal import Decimal

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_guarded(text: str) -> str:
    """``text`` as a spreadsheet shows it, never runs it."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def cell(value: object) -> str:
    """One CSV cell: a number orgvend computed (an amount, a count) as its digits, anything else as
    guarded text. A negative amount ("-3.50", a refund) is a number to every spreadsheet, never a formula:
    guarding it would make it text that no column sum adds."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    return formula_guarded(str(value))

"""The costs report as a self-contained HTML page (its CSV is ``orgvend.costs.sheet``'s, re-exported here).

Pure code: the report (``orgvend.costs.models.CostReport``) comes from the API; this module only formats
it. The page has no script and loads nothing: its bar charts are inline SVG, its style is its own, and its
Content-Security-Policy is the switch-role page's (``page_policy``).
"""

import html
from collections.abc import Sequence
from decimal import Decimal
from importlib import resources

from orgvend.costs.models import CostReport, CostRow, GroupBy, Section, money
from orgvend.costs.report import group_rows
from orgvend.costs.sheet import costs_csv
from orgvend.exports import client_colour, page_policy
from orgvend.switch_role import clean_text

MUTED = "AAB7B8"  # the bars of what belongs to no client (offboarded, unknown)
SECTION_LABELS = {Section.OFFBOARDED: "offboarded", Section.UNKNOWN: "unknown accounts"}
SECTION_TITLES = {
    Section.OFFBOARDED: "Offboarded accounts",
    Section.UNKNOWN: "Accounts the registry does not know",
}
__all__ = ["costs_csv", "costs_filename", "costs_html", "money"]
_STYLE = resources.files(__package__).joinpath("costs.css").read_text(encoding="utf-8")


def costs_filename(report: CostReport, extension: str) -> str:
    return f"orgvend-costs-{report.month}{'-' + report.client if report.client else ''}.{extension}"


# --------------------------------------------------------------------------- HTML


def _escape(text: str) -> str:
    return html.escape(clean_text(text), quote=True)


def _bars(
    caption: str, bars: Sequence[tuple[str, Decimal, str, dict[str, str]]], currency: str, chart_id: str
) -> list[str]:
    """A horizontal bar chart: (label, amount, colour, data attributes) per bar, the longest bar the largest
    amount (a negative amount, credits over costs, draws no bar)."""
    label_width, bar_width, amount_width, row_height = 230, 560, 150, 26
    width = label_width + bar_width + amount_width
    largest = max((amount for _, amount, _, _ in bars), default=Decimal(0))
    height = row_height * len(bars) + 6
    parts = [
        f'<figure class="chart" id="{chart_id}">',
        f"<figcaption>{_escape(caption)}</figcaption>",
        f'<svg class="bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{_escape(caption)}">',
    ]
    for index, (label, amount, colour, data) in enumerate(bars):
        top = 3 + index * row_height
        length = (
            (Decimal(bar_width) * amount / largest).quantize(Decimal("0.01"))
            if largest > 0 and amount > 0
            else 0
        )
        attributes = "".join(f' data-{name}="{_escape(value)}"' for name, value in data.items())
        shown = label if len(label) <= 30 else label[:29] + "…"
        parts += [
            f'<text x="0" y="{top + 17}">{_escape(shown)}</text>',
            f'<rect class="track" x="{label_width}" y="{top + 3}" width="{bar_width}" height="18" rx="3"/>',
            f'<rect class="bar" x="{label_width}" y="{top + 3}" width="{length}" height="18" rx="3" '
            f'fill="#{colour}" data-amount="{amount:f}"{attributes}>'
            f"<title>{_escape(label)}: {currency} {money(amount)}</title></rect>",
            f'<text class="amount" x="{label_width + bar_width + 10}" y="{top + 17}">{money(amount)}</text>',
        ]
    parts += ["</svg>", "</figure>"]
    return parts


def _overview(report: CostReport) -> list[str]:
    """One bar per client (its managed accounts), then the offboarded and unknown accounts' totals."""
    bars: list[tuple[str, Decimal, str, dict[str, str]]] = [
        (
            group.client or "",
            group.unblended_cost,
            client_colour(group.client or ""),
            {"client": group.client or ""},
        )
        for group in group_rows(report.accounts, GroupBy.CLIENT)
    ]
    for section in (Section.OFFBOARDED, Section.UNKNOWN):
        total = getattr(report.totals, section.value)
        if total.accounts:
            bars.append(
                (
                    SECTION_LABELS[section],
                    total.unblended_cost,
                    MUTED,
                    {"section": section.value},
                )
            )
    return _bars(f"Unblended cost per client ({report.currency})", bars, report.currency, "clients-chart")


def _budget_cells(row: CostRow) -> str:
    limit = money(row.budget_limit) if row.budget_limit is not None else "-"
    if row.budget_percent_used is None:
        used = "-"
    else:
        over = ' class="num over"' if row.budget_percent_used >= 100 else ' class="num"'
        return f'<td class="num">{limit}</td><td{over}>{row.budget_percent_used:f} %</td>'
    return f'<td class="num">{limit}</td><td class="num">{used}</td>'


def _account_table(rows: Sequence[CostRow], *, owned: bool, with_client: bool = False) -> list[str]:
    head = (
        ("<th>Client</th>" if with_client else "")
        + ("<th>Project</th>" if owned else "")
        + "<th>Account</th><th>Account ID</th>"
        + ("<th>Status</th>" if owned else "")
        + '<th class="num">Unblended</th><th class="num">Amortized</th>'
        + ('<th class="num">Budget</th><th class="num">Used</th>' if owned else "")
    )
    parts = [f"<table><thead><tr>{head}</tr></thead><tbody>"]
    for row in rows:
        parts.append(
            f'<tr data-account="{_escape(row.account_id)}">'
            + (f"<td>{_escape(row.client or '')}</td>" if with_client else "")
            + (f"<td>{_escape(row.project or '')}</td>" if owned else "")
            + f"<td>{_escape(row.account_name or '')}</td>"
            + f'<td class="mono">{_escape(row.account_id)}</td>'
            + (f'<td class="status">{_escape(str(row.status or ""))}</td>' if owned else "")
            + f'<td class="num">{money(row.unblended_cost)}</td><td class="num">{money(row.amortized_cost)}</td>'
            + (_budget_cells(row) if owned else "")
            + "</tr>"
        )
    total_unblended = sum((row.unblended_cost for row in rows), Decimal("0.00"))
    total_amortized = sum((row.amortized_cost for row in rows), Decimal("0.00"))
    span = (4 if owned else 2) + with_client
    parts.append(
        f'</tbody><tfoot><tr><td colspan="{span}">Total</td>'
        f'<td class="num">{money(total_unblended)}</td><td class="num">{money(total_amortized)}</td>'
        + ("<td></td><td></td>" if owned else "")
        + "</tr></tfoot></table>"
    )
    return parts


def _client_section(client: str, rows: Sequence[CostRow], report: CostReport) -> list[str]:
    projects = group_rows(rows, GroupBy.PROJECT)
    total = sum((row.unblended_cost for row in rows), Decimal("0.00"))
    colour = client_colour(client)
    parts = [
        f'<section class="client" data-client="{_escape(client)}">',
        f'<h2>{_escape(client)}<span class="n">{len(rows)} account{"s" if len(rows) != 1 else ""}</span>'
        f'<span class="sum">{report.currency} {money(total)}</span></h2>',
    ]
    if len(projects) > 1:
        parts += _bars(
            f"{client}: unblended cost per project",
            [
                (group.project or "", group.unblended_cost, colour, {"project": group.project or ""})
                for group in projects
            ],
            report.currency,
            f"projects-{client}",
        )
    return [*parts, *_account_table(rows, owned=True), "</section>"]


def _other_section(section: Section, rows: Sequence[CostRow], report: CostReport) -> list[str]:
    total = getattr(report.totals, section.value)
    why = (
        "Detached or closed before the month ended: listed here, not under their client."
        if section == Section.OFFBOARDED
        else "Cost Explorer reports them, orgvend's registry does not know them (the management account, "
        "accounts outside orgvend's scope)."
    )
    return [
        f'<section class="other" data-section="{section.value}">',
        f'<h2>{SECTION_TITLES[section]}<span class="n">{total.accounts} account{"s" if total.accounts != 1 else ""}</span>'
        f'<span class="sum">{report.currency} {money(total.unblended_cost)}</span></h2>',
        f'<p class="note">{why}</p>',
        *_account_table(rows, owned=section == Section.OFFBOARDED, with_client=section == Section.OFFBOARDED),
        "</section>",
    ]


def costs_html(report: CostReport, title: str = "AWS costs") -> str:
    """A page a person reads at a glance: the month's total, a bar per client, each client's projects and
    accounts with their budgets, then the offboarded and unknown accounts."""
    page_title = f"{title}: {report.month}" + (f" ({report.client})" if report.client else "")
    state = (
        '<span class="badge estimated" id="state">estimated</span>'
        if report.estimated
        else '<span class="badge" id="state">final</span>'
    )
    clients = [group.client or "" for group in group_rows(report.accounts, GroupBy.CLIENT)]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{_escape(page_policy(_STYLE))}">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_escape(page_title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_escape(page_title)}</h1>",
        state,
        f'<span class="total" id="total">{report.currency} {money(report.totals.all.unblended_cost)}</span>',
        "</header>",
        "<main>",
        f'<p class="intro">{report.totals.all.accounts} account{"s" if report.totals.all.accounts != 1 else ""}, '
        f"{len(clients)} client{'s' if len(clients) != 1 else ''}: {report.currency} "
        f"{money(report.totals.all.unblended_cost)} unblended, {money(report.totals.all.amortized_cost)} amortized "
        f"(Cost Explorer, {report.retrieved_at:%Y-%m-%d %H:%M} UTC). "
        + (
            "The month is not final yet: Cost Explorer may still change these figures. "
            if report.estimated
            else ""
        )
        + "Each account's cost is rounded to the cent; every total is the sum of its rows.</p>",
        *_overview(report),
    ]
    for client in clients:
        parts += _client_section(client, [row for row in report.accounts if row.client == client], report)
    for section in (Section.OFFBOARDED, Section.UNKNOWN):
        rows = report.offboarded if section == Section.OFFBOARDED else report.unknown
        if rows:
            parts += _other_section(section, rows, report)
    if not report.rows():
        parts.append('<p class="intro" id="empty">Cost Explorer reported no costs for this month.</p>')
    parts += ["</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"

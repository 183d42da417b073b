"""What each client costs: one month's Cost Explorer answer joined with the registry.

- ``query``: the one paginated ``GetCostAndUsage`` of a month (all accounts, grouped by ``LINKED_ACCOUNT``),
  never a call per account;
- ``budgets``: every orgvend budget's limit, read from the management account's Budgets (``orgvend-<id>``);
- ``report``: the join (client, project, name, status, budget limit and percent used), the sections
  (managed accounts, ``offboarded``, ``unknown``) and totals that add up exactly (``Decimal`` throughout),
  and ``CostReports``, which keeps a month's answer in the registry so that a burst of reports is one query;
- ``models``: what a report says (the API's JSON, the CLI's and the scheduled report's input).

Import the modules themselves: this package's ``__init__`` imports nothing, so that the registry can
use ``orgvend.costs.models`` without importing the report (which uses the registry).
"""

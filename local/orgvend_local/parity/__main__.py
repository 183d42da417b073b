"""``python -m orgvend_local.parity``: the parity table, and the canaries on stock moto.

--markdown        print README.md's parity section, generated from the registry
--update-readme   write it into README.md, between its markers
--canaries        run every canary on stock moto: which patches moto still needs
"""

import argparse
import sys

from orgvend_local.parity.patch import PatchNoLongerNeeded
from orgvend_local.parity.registry import PATCHES, markdown, readme_with_table
from orgvend_local.template import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"


def run_canaries() -> int:
    droppable = 0
    for patch in PATCHES:
        try:
            patch.run_canary()
        except PatchNoLongerNeeded as finding:
            droppable += 1
            print(f"DROP   {patch.name}: {finding}")
        else:
            print(f"needed {patch.name}")
    return 1 if droppable else 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m orgvend_local.parity", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--markdown", action="store_true", help="print the parity table (Markdown)")
    action.add_argument("--update-readme", action="store_true", help="write the table into README.md")
    action.add_argument("--canaries", action="store_true", help="run the canaries on stock moto")
    arguments = parser.parse_args()
    if arguments.markdown:
        sys.stdout.write(markdown())
    elif arguments.update_readme:
        README.write_text(readme_with_table(README.read_text()))
        print(f"{README}: parity table updated")
    else:
        sys.exit(run_canaries())


if __name__ == "__main__":
    main()

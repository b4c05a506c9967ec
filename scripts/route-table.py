"""Regenerate the table of routes and the role each needs in docs/security.md, from the application.

    .venv/bin/python scripts/route-table.py          # print it
    .venv/bin/python scripts/route-table.py --write  # write it into docs/security.md

tests/test_security_routes.py fails while the document and the code disagree. This entry point
lives here rather than in plume.security.route_table: security must not import the application,
which sits above it (tests/test_architecture.py).
"""

import sys
import tempfile

from plume.app import create_app
from plume.config import load_settings
from plume.security.route_table import DOC, embed, markdown

if __name__ == "__main__":
    table = markdown(create_app(load_settings(data_dir=tempfile.mkdtemp())))
    if "--write" in sys.argv:
        DOC.write_text(embed(DOC.read_text(), table))
    else:
        print(table)

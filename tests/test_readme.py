"""The README's permission table is the code's table: one policy, documented as enforced."""

import re
from pathlib import Path

from mktsales.access import PERMISSIONS, ROLES

README = Path(__file__).parent.parent / "README.md"


def test_readme_permission_table_matches_the_code() -> None:
    text = README.read_text(encoding="utf-8")
    header = re.search(r"^\| may … \| permission \| (.+) \|$", text, re.MULTILINE)
    assert header, "the permission table is missing from the README"
    roles = [r.strip() for r in header.group(1).split("|")]
    assert roles == list(ROLES)
    documented = {}
    for line in re.findall(r"^\| [^|]+ \| `([a-z_.]+)` \|(.*)\|$", text, re.MULTILINE):
        key, cells = line
        marks = [c.strip() for c in cells.split("|")]
        documented[key] = frozenset(r for r, m in zip(roles, marks, strict=True) if m == "✓")
    assert documented == PERMISSIONS

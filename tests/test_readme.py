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


ROOT = README.parent


def test_every_setting_the_code_reads_is_in_the_configuration_table() -> None:
    code = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "mktsales").rglob("*.py"))
    read = set(re.findall(r"MKTSALES_[A-Z_]+", code))
    table = README.read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert read - set(re.findall(r"`(MKTSALES_[A-Z_]+)`", table)) == set()


def test_the_security_page_names_only_tests_and_pages_that_exist() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(tests/[\w/]+\.py)`", text))
    linked = {f"docs/{p}" for p in re.findall(r"\]\((security/[\w.-]+\.md)\)", text)}
    assert len(named) >= 15 and len(linked) >= 7
    assert sorted(p for p in named | linked if not (ROOT / p).exists()) == []

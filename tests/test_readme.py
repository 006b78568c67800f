"""The documentation is the code's: the permission and configuration tables, and links that lead somewhere."""

import re
from pathlib import Path

from mktsales.access import PERMISSIONS, ROLES

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
ROLES_DOC = ROOT / "docs" / "roles.md"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"


def test_the_documented_permission_table_matches_the_code() -> None:
    text = ROLES_DOC.read_text(encoding="utf-8")
    header = re.search(r"^\| may … \| permission \| (.+) \|$", text, re.MULTILINE)
    assert header, "the permission table is missing from docs/roles.md"
    roles = [r.strip() for r in header.group(1).split("|")]
    assert roles == list(ROLES)
    documented = {}
    for line in re.findall(r"^\| [^|]+ \| `([a-z_.]+)` \|(.*)\|$", text, re.MULTILINE):
        key, cells = line
        marks = [c.strip() for c in cells.split("|")]
        documented[key] = frozenset(r for r, m in zip(roles, marks, strict=True) if m == "✓")
    assert documented == PERMISSIONS


def test_every_setting_the_code_reads_is_in_the_configuration_table() -> None:
    code = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "mktsales").rglob("*.py"))
    read = set(re.findall(r"MKTSALES_[A-Z_]+", code))
    table = OPERATIONS_DOC.read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert read - set(re.findall(r"`(MKTSALES_[A-Z_]+)`", table)) == set()


def test_the_security_page_names_only_tests_and_pages_that_exist() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(tests/[\w/]+\.py)`", text))
    linked = {f"docs/{p}" for p in re.findall(r"\]\((security/[\w.-]+\.md)\)", text)}
    assert len(named) >= 15 and len(linked) >= 7
    assert sorted(p for p in named | linked if not (ROOT / p).exists()) == []


def test_every_relative_link_in_the_readme_and_docs_leads_to_a_file() -> None:
    pages = [README, *sorted((ROOT / "docs").rglob("*.md"))]
    broken = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'<img src="([^"]+)"', text)
        for target in targets:
            path, _, anchor = target.partition("#")
            if re.match(r"[a-z]+:", path):
                continue  # http(s), mailto: not ours to check
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to dashes."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}

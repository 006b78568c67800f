"""The SQL scope filter is written once (issue 15): the ``in_scope(id, ids)`` macro (migration 010).

Every SQL text of the package (its .sql files but the migrations, and every string literal of
mktsales/**/*.py that holds a statement) that reads a region-scoped table (one with a ``region_id``
column, found from the migrated schema) in a FROM or JOIN must filter with ``in_scope(``. The statements that
are deliberately unscoped are listed below, each with why; a new unscoped read fails this test.
The check is per statement text: a statement that filters one of its reads but forgets another
still passes, so a reviewer reads the queries too.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mktsales.db import Database

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mktsales"

# Tables with a region_id column that are not region-scoped data.
NOT_SCOPED_TABLES: dict[str, str] = {
    "regions": "the reference list itself: names and codes; what a user may pick is filtered by visible()",
    "user_regions": "an account's own regions: read to sign the user in and by the admin's account pages",
}

# Whole modules that read every region by design.
UNSCOPED_MODULES: dict[str, str] = {
    "mktsales/demo.py": "the demo generator fills the whole database; no user",
    "mktsales/demo_board.py": "the demo generator fills the whole database; no user",
    "mktsales/demo_promotions.py": "the demo generator fills the whole database; no user",
    "mktsales/summaries.py": "maintains the summary tables for every region; the reads of them are scoped",
    "mktsales/accounts.py": "account management (admin only) and sign-in: the accounts' own regions",
}

# (module, function): why its statements read a region-scoped table without in_scope.
UNSCOPED_STATEMENTS: dict[tuple[str, str], str] = {
    # one row by id, after (or for) a permission check done in Python with visible()/access
    (
        "mktsales/board.py",
        "_load",
    ): "a post's regions and acks by post id; callers check visibility",
    ("mktsales/board.py", "_post_regions"): "a post's regions by post id; callers check visibility",
    ("mktsales/board.py", "_thread"): "the thread of one post the caller may see (checked before)",
    ("mktsales/board.py", "_acks"): "the acknowledgements of one post the caller may see (checked before)",
    ("mktsales/board.py", "post"): "a customer's region, to check it against the author's regions",
    ("mktsales/cli_promotions.py", "_effect"): "a promotion's regions, to refuse one outside the user's",
    (
        "mktsales/entries.py",
        "_top_category",
    ): "a customer's usual category, the customer's region checked",
    ("mktsales/entries.py", "_check_promotion"): "is the promotion in this region: a check, returns a count",
    (
        "mktsales/entries.py",
        "_check_payment",
    ): "a payment's order by id; its region checked in Python",
    ("mktsales/entries.py", "open_orders"): "one customer's orders, after the customer's region is checked",
    ("mktsales/promotions.py", "_person"): "one person by id, for an owner the caller names",
    (
        "mktsales/promotions.py",
        "_promotion",
    ): "one promotion by id; not_found outside the user's regions",
    ("mktsales/promotions.py", "_current_plan"): "the plan of one promotion already loaded by _promotion",
    ("mktsales/promotions.py", "_set_owners"): "writes by promotion id after the permission check",
    ("mktsales/promotions.py", "update_plan.work"): "writes by promotion id after the permission check",
    (
        "mktsales/promotions.py",
        "consult.work",
    ): "one region's consultation, the region checked first",
    ("mktsales/promotions.py", "report_execution.work"): "a customer's region, checked against the user's",
    (
        "mktsales/promotions.py",
        "photo",
    ): "one report by id; its region checked in Python",
    (
        "mktsales/promotions.py",
        "detail",
    ): "one promotion by id, refused by _seen outside the user's regions",
    (
        "mktsales/promotions.py",
        "report",
    ): "owners of the promotions listed in scope, by their ids",
    ("mktsales/importer.py", "_write_refs"): "the import's own writes (admin only)",
    (
        "mktsales/importer.py",
        "export_query",
    ): "a promotion's region codes, in a row the WHERE scopes",
    # effect measurement: baselines and controls need every region; results are cut to the user's
    ("mktsales/effect.py", "_ran"): "every promotion that ran contaminates baselines, whoever asks",
    ("mktsales/effect.py", "_promotions"): "promotions by id, already filtered to the user's regions",
    ("mktsales/effect.py", "_cube"): "orders of the regions the caller passes (its region_ids list)",
    ("mktsales/effect.py", "_measure_all"): "the data's first day: a date, no region's figures",
}

SQL_WORD = re.compile(r"\b(SELECT|UPDATE|DELETE|INSERT|MERGE)\b", re.IGNORECASE)
READS = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)", re.IGNORECASE)


def _scoped_tables() -> frozenset[str]:
    with Database(":memory:") as db:
        found = db.rows("SELECT DISTINCT table_name FROM duckdb_columns() WHERE column_name = 'region_id'")
    return frozenset(t for (t,) in found) - set(NOT_SCOPED_TABLES)


def _literals(tree: ast.AST, qualname: str = "") -> Iterator[tuple[str, str]]:
    """(enclosing function's dotted name, text) of every string literal; an f-string's fields as {}."""
    for child in ast.iter_child_nodes(tree):
        name = qualname
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{qualname}.{child.name}" if qualname else child.name
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            yield qualname or "<module>", child.value
        elif isinstance(child, ast.JoinedStr):
            parts = (v.value if isinstance(v, ast.Constant) else "{}" for v in child.values)
            yield qualname or "<module>", "".join(str(p) for p in parts)
            continue
        yield from _literals(child, name)


def _sql_texts() -> Iterator[tuple[str, str, str]]:
    """(module path, function, text) of every SQL text of the package."""
    sql_files = [p for p in sorted(PACKAGE.rglob("*.sql")) if "migrations" not in p.parts]
    assert len(sql_files) > 10, "the named queries moved: point this test at them"
    for path in sql_files:
        yield path.relative_to(ROOT).as_posix(), "-", path.read_text(encoding="utf-8")
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(ROOT).as_posix()
        for function, text in _literals(ast.parse(path.read_text(encoding="utf-8"))):
            if SQL_WORD.search(text):
                yield module, function, text


def unscoped_reads(text: str, scoped: frozenset[str]) -> list[str]:
    """The region-scoped tables ``text`` reads without any in_scope( filter."""
    if "in_scope(" in text:
        return []
    return sorted({t for t in READS.findall(text) if t in scoped})


def test_every_read_of_a_region_scoped_table_uses_in_scope() -> None:
    scoped = _scoped_tables()
    leaks = [
        f"{module}:{function}: {tables} in {' '.join(text.split())[:100]!r}"
        for module, function, text in _sql_texts()
        if module not in UNSCOPED_MODULES
        and (module, function) not in UNSCOPED_STATEMENTS
        and (tables := unscoped_reads(text, scoped))
    ]
    assert not leaks, "reads without in_scope(...) (or allow-list them with why):\n" + "\n".join(leaks)


def test_the_allow_list_names_only_statements_that_exist() -> None:
    scoped = _scoped_tables()
    still_unscoped = {
        (module, function) for module, function, text in _sql_texts() if unscoped_reads(text, scoped)
    }
    stale = sorted(set(UNSCOPED_STATEMENTS) - still_unscoped)
    assert not stale, f"allow-listed but scoped now or gone (remove them): {stale}"
    assert all((ROOT / module).is_file() for module in UNSCOPED_MODULES)


def test_the_detector_sees_a_forgotten_filter() -> None:
    scoped = _scoped_tables()
    assert {"orders", "daily_orders", "promotion_regions", "post_regions"} <= scoped
    assert unscoped_reads("SELECT sum(amount) FROM daily_orders WHERE day >= $start", scoped) == [
        "daily_orders"
    ]
    assert unscoped_reads("SELECT 1 FROM x JOIN orders o ON o.id = x.id", scoped) == ["orders"]
    assert unscoped_reads("SELECT 1 FROM orders WHERE in_scope(region_id, $regions)", scoped) == []
    assert unscoped_reads("SELECT name_en FROM regions", scoped) == []


@pytest.mark.parametrize(
    ("ids", "expected"),
    [(None, [1, 2, 3]), ([2], [2]), ([], []), ([1, 3, 9], [1, 3])],
)
def test_the_macro_is_no_filter_for_null_and_membership_otherwise(ids: list[int] | None, expected) -> None:
    with Database(":memory:") as db:
        found = db.rows(
            "SELECT i FROM (VALUES (1), (2), (3)) t(i) WHERE in_scope(i, $ids) ORDER BY i", {"ids": ids}
        )
    assert [i for (i,) in found] == expected

"""The import contract (issue 15): which modules may import which.

Every module's imports are read with ``ast`` (at the top and inside functions), plus the module
names a module hands to ``importlib.import_module`` as string constants. The rules:

- only ``mktsales/ui/``, the page folder, ``app.py`` and ``serve.py`` import Streamlit;
- the core (database, audit, scope, access, config, i18n) imports nothing above it;
- the demo is imported only by itself, the command line, and the app's opening code for the
  demo's own upgrade step (``demo.upgrade``); the domain never depends on the demo;
- the database knows nothing of the summaries (they hook into it through a commit hook);
- the code lists (vocabulary.py) import nothing of the package;
- no import cycles among the package's modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "mktsales"

CORE = frozenset(f"{PACKAGE}.{name}" for name in ("db", "audit", "scope", "access", "config", "i18n"))
CORE_MAY_IMPORT = CORE | {f"{PACKAGE}.locales", f"{PACKAGE}.migrations"}
STREAMLIT_OUTSIDE_UI = frozenset({"app", "serve"})  # and the page folder (app_pages.*)
DEMO_UPGRADE = (f"{PACKAGE}.ui.data", f"{PACKAGE}.demo", frozenset({"upgrade"}))  # importer, module, names

# Cycles that remain inside one family of flat modules, each tied together by a registry of module
# names as strings (cli.EXTENSIONS, demo.EXTENSIONS). They go away when the families become
# packages with explicit imports (issue 15); a new cycle anywhere fails this test.
KNOWN_CYCLES = (
    frozenset({"cli", "cli_backup", "cli_board", "cli_data", "cli_promotions"}),
    frozenset({"demo", "demo_board", "demo_promotions"}),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    files = [*(ROOT / PACKAGE).rglob("*.py"), *(ROOT / "app_pages").glob("*.py")]
    files += [ROOT / "app.py", ROOT / "serve.py"]
    return {_module_name(p): p for p in sorted(files)}


SOURCES = _sources()


def _imports(name: str, path: Path) -> Iterator[tuple[str, frozenset[str]]]:
    """(module imported, names taken from it) for every import in the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    uses_importlib = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                uses_importlib |= alias.name == "importlib"
                yield alias.name, frozenset()
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            uses_importlib |= base == "importlib"
            submodules = [alias.name for alias in node.names if f"{base}.{alias.name}" in SOURCES]
            for sub in submodules:  # from mktsales import board: the module mktsales.board
                yield f"{base}.{sub}", frozenset()
            names = frozenset(alias.name for alias in node.names if alias.name not in submodules)
            if names or not submodules:
                yield base, names
    if uses_importlib:  # a registry of module names handed to importlib.import_module
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in SOURCES:
                yield node.value, frozenset()


IMPORTS: dict[str, list[tuple[str, frozenset[str]]]] = {
    name: list(_imports(name, path)) for name, path in SOURCES.items()
}


def _internal(name: str) -> set[str]:
    """The package's modules that ``name`` imports (the package itself left out)."""
    return {m for m, _ in IMPORTS[name] if m in SOURCES and m != name and m != PACKAGE}


def _is_demo(name: str) -> bool:
    return name.startswith(f"{PACKAGE}.demo")


def test_the_contract_sees_every_module() -> None:
    assert f"{PACKAGE}.db" in SOURCES and f"{PACKAGE}.ui.data" in SOURCES and "app_pages.entry" in SOURCES
    assert f"{PACKAGE}.kpis" in _internal(f"{PACKAGE}.funnel")
    assert f"{PACKAGE}.demo" in _internal(f"{PACKAGE}.cli")  # inside a function
    assert f"{PACKAGE}.demo_board" in _internal(f"{PACKAGE}.demo")  # through importlib


def test_only_the_ui_and_the_pages_import_streamlit() -> None:
    wrong = sorted(
        name
        for name, found in IMPORTS.items()
        if any(m == "streamlit" or m.startswith("streamlit.") for m, _ in found)
        and not name.startswith((f"{PACKAGE}.ui.", "app_pages."))
        and name not in STREAMLIT_OUTSIDE_UI
    )
    assert wrong == []


def test_the_core_imports_nothing_above_it() -> None:
    wrong = {name: sorted(m for m in _internal(name) if m not in CORE_MAY_IMPORT) for name in sorted(CORE)}
    assert {name: found for name, found in wrong.items() if found} == {}


def test_only_the_demo_the_cli_and_the_demo_upgrade_import_the_demo() -> None:
    importer, module, names = DEMO_UPGRADE
    wrong = []
    for name, found in IMPORTS.items():
        if _is_demo(name) or name.startswith(f"{PACKAGE}.cli"):
            continue
        for imported, taken in found:
            if not _is_demo(imported):
                continue
            if (name, imported) == (importer, module) and taken and taken <= names:
                continue
            wrong.append((name, imported, sorted(taken)))
    assert wrong == []


def test_the_database_does_not_import_the_summaries() -> None:
    assert f"{PACKAGE}.summaries" not in _internal(f"{PACKAGE}.db")


def test_the_code_lists_import_nothing() -> None:
    assert _internal(f"{PACKAGE}.vocabulary") == set()


def _cycles() -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    graph = {name: sorted(_internal(name)) for name in SOURCES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    prefix = f"{PACKAGE}."
    known = {frozenset(prefix + m for m in cycle) for cycle in KNOWN_CYCLES}
    cycles = [sorted(c) for c in _cycles() if c not in known]
    assert cycles == []

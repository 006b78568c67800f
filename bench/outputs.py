"""The restructuring's safety net (issue 15): the reporting commands' JSON, before and after.

    python -m bench.outputs --out before/                 # build the demo, run every case, write files
    python -m bench.outputs --compare before/ after/      # every file that differs; exit 1 if any
    python -m bench.outputs --check before/               # run now (into a temporary folder) and compare
    python -m bench.outputs --db data/outputs.duckdb ...  # use (a copy of) this database; built if missing
    PYTHONPATH=/tmp/base python bench/outputs.py ...      # the same cases on another tree's mktsales

Each case is one command line of ``kpis``, ``funnel``, ``promotions``, ``board`` or
``promotion-effect`` with ``--json``, run in this process through ``mktsales.cli.main`` (the same
bytes as ``python -m mktsales ...`` prints; tests/test_outputs_script.py checks one case both ways).
Its standard output goes to ``<command>/<case>.json``; a refusal (a viewer whose role may not see a
command, a promotion outside a viewer's regions) goes to ``<command>/<case>.refused`` with its exit
status and message, so refusals are compared too. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fnmatch
import io
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# -- what is fixed: the one declared place --------------------------------------------------------------
SEED = 7
AS_OF = dt.date(2026, 3, 31)  # the demo's last day and "today" for every command
DEFAULT_ACTIVITIES = 50_000
# The environment every case runs in. Every other MKTSALES_ variable is removed for the run, so a
# setting in the shell (a handoff target, a decision target) cannot make two runs differ.
# MKTSALES_TODAY also fixes "now" (config.now(): the end of that day), which is what `promotions`
# prints as "as_of", `board` as "now", and what `funnel --cohort` and `promotion-effect` count up
# to. Nothing is masked: with this fixed, no output embeds the wall clock.
FIXED_ENV = {"MKTSALES_TODAY": AS_OF.isoformat()}

# The viewers: None is the shell with no --as-user (every region, no role check).
VIEWERS: dict[str, str | None] = {
    "shell": None,
    "ceo": "ceo",  # an executive: every region
    "sales.north": "sales.north",  # a sales head of two regions (north, northeast)
    "rep.east": "rep.east",  # a sales rep of one region (east)
    "mkt.head": "mkt.head",  # the marketing head: every region, marketing's pages
}
# The periods: [from, to), always given (the commands' defaults follow the wall clock).
PERIODS: dict[str, tuple[dt.date, dt.date]] = {
    "month": (dt.date(2026, 3, 1), dt.date(2026, 4, 1)),
    "quarter": (dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
    "nov2025": (dt.date(2025, 11, 1), dt.date(2025, 12, 1)),
}
# Extra variants per command, run for every viewer over the month (or as noted in the arguments).
VARIANTS: dict[str, dict[str, list[str]]] = {
    "kpis": {"east-beverages": ["--region", "east", "--category", "beverages"]},
    "funnel": {
        "by-region": ["--by", "region"],
        "by-category": ["--by", "category"],
        "by-source": ["--by", "source"],
        "by-campaign": ["--by", "campaign"],
        "cohort": ["--cohort"],
        "cohort-quarter": ["--cohort", "--from", "2026-01-01", "--to", "2026-04-01"],
        "handoff-24h": ["--handoff-target", "24"],
    },
    "promotions": {"live": ["--status", "live"], "year": ["--from", "2025-04-01", "--to", "2026-04-01"]},
    "board": {"field": ["--direction", "field"], "overdue": ["--status", "overdue"]},
}
COMMANDS = ("kpis", "funnel", "promotions", "board", "promotion-effect")


@dataclass(frozen=True)
class Case:
    command: str
    name: str
    argv: tuple[str, ...]  # without --db

    @property
    def path(self) -> str:
        return f"{self.command}/{self.name}"


def _period_args(start: dt.date, end: dt.date) -> list[str]:
    return ["--from", start.isoformat(), "--to", end.isoformat()]


def _viewer_args(username: str | None) -> list[str]:
    return [] if username is None else ["--as-user", username]


def cases(promotion_ids: list[int]) -> list[Case]:
    """Every case, in a fixed order: each reporting command for each viewer and period, its variants,
    and promotion-effect (with --series) for every promotion and viewer."""
    found = []
    for command in COMMANDS[:4]:
        for viewer, username in VIEWERS.items():
            for period, (start, end) in PERIODS.items():
                argv = [command, *_period_args(start, end), *_viewer_args(username), "--json"]
                found.append(Case(command, f"{viewer}.{period}", tuple(argv)))
            for variant, extra in VARIANTS.get(command, {}).items():
                month = [] if "--from" in extra else _period_args(*PERIODS["month"])
                argv = [command, *month, *extra, *_viewer_args(username), "--json"]
                found.append(Case(command, f"{viewer}.{variant}", tuple(argv)))
    for pid in promotion_ids:
        for viewer, username in VIEWERS.items():
            argv = ["promotion-effect", "--id", str(pid), *_viewer_args(username), "--series", "--json"]
            found.append(Case("promotion-effect", f"{pid:03d}.{viewer}", tuple(argv)))
    return found


@contextlib.contextmanager
def fixed_environment() -> Iterator[None]:
    """FIXED_ENV set and every other MKTSALES_ variable removed, for the duration."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("MKTSALES_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(FIXED_ENV)
    try:
        yield
    finally:
        for name in FIXED_ENV:
            os.environ.pop(name, None)
        os.environ.update(saved)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``python -m mktsales *argv`` in this process: (exit status, stdout, stderr)."""
    from mktsales import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(argv)
        except SystemExit as exc:  # argparse refusing an argument
            status = exc.code if isinstance(exc.code, int) else 2
    return status, out.getvalue(), err.getvalue()


def build_database(path: Path, activities: int) -> None:
    """The fixed demo database at ``path`` (replaced if present)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    argv = ["demo", "--db", str(path), "--activities", str(activities), "--seed", str(SEED)]
    status, _, err = run_cli([*argv, "--as-of", AS_OF.isoformat(), "--replace"])
    if status != 0:
        raise SystemExit(f"building the demo database failed: {err.strip()}")


def describe(db: Path) -> tuple[list[int], dict[str, int]]:
    """The database's promotion ids, and the rows of each of its tables (for the manifest: two
    folders made from different databases differ there first)."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        ids = [
            int(pid) for (pid,) in con.execute("SELECT promotion_id FROM promotions ORDER BY 1").fetchall()
        ]
        names = [n for (n,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        # table names come from the catalog; no value is ever put into the SQL text
        rows = {n: int(con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}
    return ids, rows


def write_outputs(db: Path, out: Path, patterns: list[str] | None = None) -> dict[str, int]:
    """Run every case (or those whose path, e.g. ``kpis/ceo.month``, matches one of the glob
    ``patterns``) against a working copy of ``db`` and write one file per case under ``out``
    (emptied first). Returns counts: cases, json files, refusals."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    ids, tables = describe(db)
    every = [c for c in cases(ids) if not patterns or any(fnmatch.fnmatchcase(c.path, p) for p in patterns)]
    counts = {"cases": len(every), "json": 0, "refused": 0}
    with tempfile.TemporaryDirectory(prefix="outputs-") as work:
        copy = Path(work) / "demo.duckdb"  # opening may upgrade a file: never the one we were given
        shutil.copyfile(db, copy)
        for case in every:
            status, stdout, stderr = run_cli([case.argv[0], "--db", str(copy), *case.argv[1:]])
            target = out / case.command
            target.mkdir(exist_ok=True)
            if status == 0 and not stderr:
                (target / f"{case.name}.json").write_text(stdout, encoding="utf-8", newline="")
                counts["json"] += 1
            else:
                text = f"exit {status}\n{stderr.replace(str(copy), '<db>')}{stdout}"
                (target / f"{case.name}.refused").write_text(text, encoding="utf-8", newline="")
                counts["refused"] += 1
    manifest = {"env": FIXED_ENV, **counts, "promotions": ids, "tables": tables}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return counts


# -- comparing two folders --------------------------------------------------------------------------
def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _first_difference(a: bytes, b: bytes) -> str:
    lines_a, lines_b = a.splitlines(keepends=True), b.splitlines(keepends=True)
    for number, (line_a, line_b) in enumerate(zip(lines_a, lines_b, strict=False), start=1):
        if line_a != line_b:
            return f"line {number}:\n    - {_show(line_a)}\n    + {_show(line_b)}"
    number = min(len(lines_a), len(lines_b)) + 1
    longer = "the first" if len(lines_a) > len(lines_b) else "the second"
    extra = (lines_a if len(lines_a) > len(lines_b) else lines_b)[number - 1 : number]
    return f"line {number}: only in {longer}: {_show(extra[0]) if extra else '(end of file differs)'}"


def _show(line: bytes, limit: int = 160) -> str:
    text = repr(line.decode("utf-8", errors="replace"))
    return text if len(text) <= limit else text[:limit] + "…"


def compare(a: Path, b: Path, *, partial: bool = False) -> list[str]:
    """One message per file that differs between the folders (missing on one side included). With
    ``partial``, ``b`` holds some cases only (--cases): only its case files are compared."""
    for folder in (a, b):
        if not (folder / "manifest.json").is_file():
            raise SystemExit(f"{folder} is not an output folder (no manifest.json)")
    files_a, files_b = _files(a), _files(b)
    if partial:
        files_b.discard("manifest.json")
        files_a &= files_b
    problems = [f"{name}: only in {a}" for name in sorted(files_a - files_b)]
    problems += [f"{name}: only in {b}" for name in sorted(files_b - files_a)]
    for name in sorted(files_a & files_b):
        left, right = (a / name).read_bytes(), (b / name).read_bytes()
        if left != right:
            problems.append(f"{name}: differs at {_first_difference(left, right)}")
    return problems


def report_comparison(a: Path, b: Path, *, partial: bool = False) -> int:
    problems = compare(a, b, partial=partial)
    for problem in problems:
        print(problem)
    total = len(_files(b) - {"manifest.json"}) if partial else len(_files(a) | _files(b))
    if problems:
        print(f"{len(problems)} of {total} files differ")
        return 1
    print(f"all {total} files are byte-identical")
    return 0


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.outputs", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="write the outputs to this folder (emptied first)")
    parser.add_argument("--check", type=Path, metavar="BASELINE", help="run, then compare with BASELINE")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("DIR_A", "DIR_B"), help="only compare")
    parser.add_argument("--db", type=Path, help="use (a copy of) this demo database; built here if missing")
    parser.add_argument(
        "--activities",
        type=int,
        default=DEFAULT_ACTIVITIES,
        help=f"demo size (default {DEFAULT_ACTIVITIES:,})",
    )
    parser.add_argument(
        "--cases", nargs="+", metavar="GLOB", help="only the cases whose path matches, e.g. 'kpis/ceo.*'"
    )
    args = parser.parse_args(argv)
    if args.compare:
        return report_comparison(*args.compare)
    if args.out is None and args.check is None:
        parser.error("give --out DIR, --check BASELINE or --compare DIR_A DIR_B")
    started = time.perf_counter()
    with fixed_environment(), tempfile.TemporaryDirectory(prefix="outputs-db-") as scratch:
        db = args.db
        if db is None or not db.exists():
            db = db or Path(scratch) / "demo.duckdb"
            build_database(db, args.activities)
        built = time.perf_counter()
        out = args.out or Path(scratch) / "outputs"
        counts = write_outputs(db, out, args.cases)
        done = time.perf_counter()
        import mktsales

        print(
            f"mktsales from {Path(mktsales.__file__).parent}: "
            f"{counts['cases']} cases ({counts['json']} JSON, {counts['refused']} refused), "
            f"{_size(out) / 1e6:.1f} MB in {out if args.out else 'a temporary folder'}; "
            f"database {built - started:.1f} s, commands {done - built:.1f} s",
            file=sys.stderr,
        )
        if args.check is not None:
            return report_comparison(args.check, out, partial=bool(args.cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())

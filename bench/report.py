"""The issue's targets, judged per size, and the one table the suite prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TextIO

TARGET_SIZE = 10_000_000  # the targets are set for ten million activities


@dataclass(frozen=True)
class Line:
    name: str
    target: str
    unit: str  # ms, s, x, /s, MB, yes/no
    get: Any  # size result -> value (None: not measured)
    ok: Any  # value -> bool; None for an informational line


def _page(page: str, variant: str, key: str) -> Any:
    def get(r: dict[str, Any]) -> float | None:
        for row in r.get("pages", []):
            if row["page"] == page and row["variant"] == variant:
                return row[key] * 1000
        return None

    return get


def lines(results: dict[str, Any]) -> list[Line]:
    """Every line of the table, pages first (in the order measured)."""
    out: list[Line] = []
    first = next(iter(results["sizes"].values()), {})
    for row in first.get("pages", []):
        label = f"{row['page']} [{row['variant']}]"
        out.append(
            Line(
                f"{label} warm",
                "<= 100 ms",
                "ms",
                _page(row["page"], row["variant"], "warm_s"),
                lambda v: v <= 100,
            )
        )
        out.append(
            Line(
                f"{label} cold",
                "<= 1000 ms",
                "ms",
                _page(row["page"], row["variant"], "cold_s"),
                lambda v: v <= 1000,
            )
        )
    b = lambda key: lambda r: r.get("baselines", {}).get(key)  # noqa: E731
    w = lambda run, key: lambda r: r.get("writes", {}).get(run, {}).get(key)  # noqa: E731
    out += [
        Line("overview cold vs pandas (x faster)", ">= 20x", "x", b("pandas_ratio"), lambda v: v >= 20),
        Line("  pandas: load + compute", "", "ms", lambda r: _ms(b("pandas_s")(r)), None),
        Line("overview cold vs plain SQL (x faster)", ">= 1x", "x", b("plain_sql_ratio"), lambda v: v >= 1),
        Line("  plain SQL: one query per KPI", "", "ms", lambda r: _ms(b("plain_sql_s")(r)), None),
        Line(
            "baselines agree with the overview",
            "yes",
            "yes/no",
            lambda r: not r["baselines"]["disagreements"] if "baselines" in r else None,
            lambda v: v,
        ),
        Line("entries/s, 20 writers", ">= 300/s", "/s", w("twenty", "per_second"), lambda v: v >= 300),
        Line(
            "  20 writers: each stored exactly once",
            "yes",
            "yes/no",
            w("twenty", "exactly_once"),
            lambda v: v,
        ),
        Line("entries/s, 1 writer", "", "/s", w("one", "per_second"), None),
        Line("  1 writer: median order submit", "", "ms", w("one", "median_latency_ms"), None),
        Line(
            "write visible in overview",
            "<= 1000 ms",
            "ms",
            lambda r: _ms(r.get("writes", {}).get("delay", {}).get("median_s")),
            lambda v: v <= 1000,
        ),
        Line(
            "peak RSS during page data",
            "<= 1536 MB",
            "MB",
            lambda r: r.get("rss", {}).get("pages_peak_mb"),
            lambda v: v <= 1536,
        ),
        Line("  peak RSS, pandas baseline phase", "", "MB", b("pandas_peak_rss_mb"), None),
        Line("demo build", "<= 180 s", "s", lambda r: r.get("build", {}).get("seconds"), lambda v: v <= 180),
        Line(
            "browser: overview tiles after a write",
            "<= 3000 ms",
            "ms",
            lambda r: _ms(r.get("browser", {}).get("cold_s")),
            lambda v: v <= 3000,
        ),
        Line(
            "browser: overview tiles, reopened",
            "<= 3000 ms",
            "ms",
            lambda r: _ms(r.get("browser", {}).get("warm_s")),
            lambda v: v <= 3000,
        ),
        Line(
            "import 1M orders from CSV: check + write",
            "<= 60 s",
            "s",
            lambda r: r.get("import", {}).get("import_s"),
            lambda v: v <= 60,
        ),
        Line("  import: the dry run alone", "", "s", lambda r: r.get("import", {}).get("check_s"), None),
        Line(
            "  import: the same file again (all updates)",
            "",
            "s",
            lambda r: r.get("import", {}).get("reimport_s"),
            None,
        ),
        Line(
            "  import: each row stored once",
            "yes",
            "yes/no",
            lambda r: (
                r["import"]["inserted"] == r["import"]["rows"] == r["import"]["updated_again"]
                and r["import"]["inserted_again"] == 0
                if "import" in r
                else None
            ),
            lambda v: v,
        ),
        Line(
            "  browser: first session of a fresh server",
            "",
            "ms",
            lambda r: _ms(r.get("browser", {}).get("fresh_server_s")),
            None,
        ),
    ]
    return out


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each line with its value and PASS/MISS per size (informational lines have no status)."""
    out = []
    for line in lines(results):
        values, status = {}, {}
        for size, r in results["sizes"].items():
            value = line.get(r)
            values[size] = value
            if line.ok is not None and value is not None:
                status[size] = "PASS" if line.ok(value) else "MISS"
        out.append(
            {"name": line.name, "target": line.target, "unit": line.unit, "values": values, "status": status}
        )
    return out


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "yes/no":
        return "yes" if value else "NO"
    if unit == "x":
        return f"{value:,.1f}x"
    if unit == "ms":
        return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:,.1f} s"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return str(value)


def _size(n: str) -> str:
    n_int = int(n)
    return f"{n_int // 1_000_000}M" if n_int % 1_000_000 == 0 else f"{n_int:,}"


def print_table(results: dict[str, Any], out: TextIO) -> None:
    """One table: target, the value at each size, and PASS/MISS at the largest size measured."""
    sizes = list(results["sizes"])
    largest = max(sizes, key=int)
    header = ["measure", "target", *(_size(s) for s in sizes), f"at {_size(largest)}"]
    rows = []
    for t in results["targets"]:
        rows.append(
            [
                t["name"],
                t["target"],
                *(_fmt(t["values"][s], t["unit"]) for s in sizes),
                t["status"].get(largest, ""),
            ]
        )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    m = results["machine"]
    out.write(
        f"\nmktsales benchmark {results['generated_at']} · {m['cores']} cores, "
        f"{m['mem_total_kb'] / 2**20:.1f} GiB · {m['cpu']} · commit {m['commit']}\n"
    )
    for s in sizes:
        r = results["sizes"][s]
        demo = f"reused (built {r['build']['built_at']})" if r["build"]["reused"] else "built now"
        out.write(
            f"  {_size(s)}: load average {r['load_before'][0]:.2f} before, {r['load_after'][0]:.2f} after;"
            f" demo {demo}\n"
        )
    if int(largest) < TARGET_SIZE:
        out.write(f"  (targets are set for {TARGET_SIZE:,} activities; smaller sizes only show the trend)\n")
    out.write("\n")
    for i, row in enumerate([header, *rows]):
        out.write(
            "  ".join(
                str(c).ljust(widths[j]) if j < 2 else str(c).rjust(widths[j]) for j, c in enumerate(row)
            ).rstrip()
            + "\n"
        )
        if i == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")
    misses = [t["name"] for t in results["targets"] if t["status"].get(largest) == "MISS"]
    if misses:
        out.write(f"\nMISSED at {_size(largest)}: " + "; ".join(misses) + "\n")
    for s in sizes:
        d = results["sizes"][s].get("baselines", {}).get("disagreements")
        if d:
            out.write(f"\nWARNING {_size(s)}: a baseline disagrees with the overview: {d}\n")

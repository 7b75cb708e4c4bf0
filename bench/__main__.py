"""`python -m bench [-k NAME] [--members N] [--rows N] [--seconds S]`: run the benchmarks, print one table, save JSON."""
from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import bench
from bench import DEFAULT_MEMBERS, BenchError, Context, Result, postgres_url

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def discover(pattern: str | None) -> list[str]:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    if pattern:
        names = [n for n in names if pattern.lower() in n.lower()]
    return names


def _value(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:,.2f} s"
    if unit == "ms":
        return f"{value:,.1f} ms" if value >= 1 or value == 0 else f"{value:.2g} ms"  # 0.031 ms, not 0.0 ms
    if unit in ("rows/s", "MB"):
        return f"{value:,.0f} {unit}"
    return f"{value:,.3g} {unit}"


def _ratio(ratio: float) -> str:
    if ratio == float("inf"):
        return "–"  # a count with nothing to compare against (e.g. errors: baseline 0)
    return f"{ratio:,.2f}×" if ratio < 10 else f"{ratio:,.1f}×"


def render_table(results: list[Result]) -> str:
    header = ("benchmark", "measured", "baseline", "× baseline (measured ÷ baseline)")
    rows = [(r.name, _value(r.measured, r.unit), _value(r.baseline, r.unit), _ratio(r.ratio)) for r in results]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]

    def line(row):
        return " | ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("-k", dest="pattern", metavar="NAME",
                        help="run only the benchmarks whose module name contains NAME")
    parser.add_argument("--members", type=int, default=None,
                        help=f"size of the demo region (default {DEFAULT_MEMBERS:,})")
    parser.add_argument("--rows", type=int, default=None,
                        help="rows of the generated export for the import benchmark (default 1,000,000); "
                             "contacts for the calls benchmark (default 1,000,000); contacts for the reports benchmark, "
                             "with 5 actions each (default 1,000,000); rows of the generated "
                             "postcode directory for the lookup benchmark (default 2,700,000)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="length of each timed load phase, for the benchmarks that have one (calls: default 60; act: default 30)")
    args = parser.parse_args(argv)
    members_given = args.members is not None
    if not members_given:
        args.members = DEFAULT_MEMBERS
    if args.members < 1:
        parser.error("--members must be at least 1")
    if args.rows is not None and args.rows < 1000:
        parser.error("--rows must be at least 1000")
    if args.seconds is not None and args.seconds <= 0:
        parser.error("--seconds must be positive")

    names = discover(args.pattern)
    if not names:
        raise BenchError(f"no benchmark module matches {args.pattern!r}")
    database_url = postgres_url()
    started = time.perf_counter()
    results: list[Result] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="branchline-bench-") as workdir:
        ctx = Context(members=args.members, workdir=Path(workdir), database_url=database_url)
        ctx.rows = args.rows  # None: each benchmark's own default
        ctx.seconds = args.seconds  # None: each benchmark's own default
        # Whether --members was given (a benchmark with a bigger default size of its own keeps it otherwise).
        ctx.members_given = members_given
        print(f"Benchmarks on {ctx.engine_name} with {args.members:,} members: {', '.join(names)}",
              file=sys.stderr, flush=True)
        try:
            for name in names:
                print(f"{name}…", file=sys.stderr, flush=True)
                module = importlib.import_module(f"bench.{name}")
                results.extend(module.run(ctx))
                notes.extend(getattr(module, "NOTES", []))
        finally:
            ctx.close()
    total = time.perf_counter() - started

    print()
    print(render_table(results))
    for note in notes:
        print(f"  {note}")
    print(f"\n{ctx.engine_name}, {args.members:,} members, {total:.0f} s in all")

    RESULTS_DIR.mkdir(exist_ok=True)
    report = {
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "engine": ctx.engine_name,
        "members": args.members,
        "rows": args.rows,
        "benchmarks": names,
        "total_seconds": round(total, 2),
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "ratio": "measured / baseline: for s, ms and MB how many times the baseline (lower is better); "
                 "for rows/s the fraction of the baseline's rate (higher is better)",
        "results": [
            {"name": r.name, "measured": round(r.measured, 4), "baseline": round(r.baseline, 4), "unit": r.unit,
             "ratio": round(r.ratio, 2) if r.ratio != float("inf") else None}
            for r in results
        ],
    }
    path = RESULTS_DIR / "latest.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"Saved {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

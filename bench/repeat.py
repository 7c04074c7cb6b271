"""Run a benchmark several times and print its table as median (min-max) of the runs.

Run: ``.venv/bin/python -m bench.repeat 5 bench.kiosk [its arguments]``.

One run of a benchmark on a shared machine is one sample of the machine's mood:
a figure quoted without its spread cannot be checked by someone who gets a
different one. Each run is a fresh process (its own broker, ledger, boards), so
the runs are independent. Every table the benchmark prints comes back with each
figure that varied between runs as ``median (min-max)``; the spread of a p99 row
is the min-max of the runs' p99s. The machine's load (1-minute load average, as
``uptime`` shows it) before each run is printed above the tables, since the same
code measures slower on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: A figure: an optional comparison sign, a number (thousands commas allowed), the unit after it.
_FIGURE = re.compile(r"^(?P<sign>[<>=~≤≥ ]*)(?P<number>-?\d[\d,]*(?:\.\d+)?)(?P<unit>.*)$")


@dataclass
class Table:
    """One Markdown table a benchmark printed: its heading, header row and body rows (cells)."""

    title: str
    header: list[str]
    rows: list[list[str]]


def parse_tables(output: str) -> list[Table]:
    """The Markdown tables in a benchmark's output, each with the ``###`` heading above it."""
    tables: list[Table] = []
    title = ""
    current: Table | None = None
    for line in output.splitlines():
        if line.startswith("#"):
            title, current = line, None
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if current is None:
                current = Table(title, cells, [])
                tables.append(current)
            elif not all(set(c) <= set("-: ") for c in cells):  # not the |---| line
                current.rows.append(cells)
        else:
            current = None
    return tables


def spread_cell(values: list[str]) -> str:
    """One cell across runs: as is when every run printed the same, else ``median (min-max)``."""
    if len(set(values)) == 1:
        return values[0]
    parsed = [_FIGURE.match(v) for v in values]
    if any(p is None for p in parsed) or len({(p["sign"], p["unit"]) for p in parsed if p}) != 1:
        return " / ".join(values)  # not one kind of figure: show every run's
    first = parsed[0]
    assert first is not None
    numbers = [float(p["number"].replace(",", "")) for p in parsed if p]
    decimals = len(first["number"].partition(".")[2])
    commas = "," in "".join(p["number"] for p in parsed if p)

    def fmt(x: float) -> str:
        return f"{x:,.{decimals}f}" if commas else f"{x:.{decimals}f}"

    return (f"{first['sign']}{fmt(statistics.median(numbers))}{first['unit']}"
            f" ({fmt(min(numbers))}-{fmt(max(numbers))})")


def merge(runs: list[list[Table]]) -> list[Table]:
    """The tables of several runs of one benchmark as one set of tables with spreads."""
    shapes = {tuple((t.title, len(t.rows)) for t in tables) for tables in runs}
    if len(shapes) != 1:
        raise SystemExit(f"the runs printed different tables: {sorted(shapes)}")
    merged = []
    for i, table in enumerate(runs[0]):
        rows = []
        for r, row in enumerate(table.rows):
            cells = [row[0]]  # what was measured: the first run's wording
            for c in range(1, len(row)):
                cells.append(spread_cell([tables[i].rows[r][c] for tables in runs]))
            rows.append(cells)
        merged.append(Table(table.title, table.header, rows))
    return merged


def print_tables(tables: list[Table]) -> None:
    for table in tables:
        print(f"\n{table.title}\n")
        print("| " + " | ".join(table.header) + " |")
        print("|" + "---|" * len(table.header))
        for row in table.rows:
            print("| " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=int, help="how many times to run the benchmark (e.g. 5)")
    parser.add_argument("module", help="the benchmark module, e.g. bench.kiosk")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the benchmark")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("runs must be at least 1")
    runs: list[list[Table]] = []
    loads: list[float] = []
    for i in range(args.runs):
        loads.append(os.getloadavg()[0])
        print(f"run {i + 1}/{args.runs}: {args.module} {' '.join(args.args)}".rstrip(), file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, "-m", args.module, *args.args], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, check=False)
        if done.returncode != 0:
            raise SystemExit(f"run {i + 1} of {args.module} failed with exit code {done.returncode}")
        runs.append(parse_tables(done.stdout))
    print(f"{args.runs} runs of `{args.module}`; figures that varied are median (min-max) of the runs.")
    print(f"Machine: {os.cpu_count()} cores; 1-minute load average before each run: "
          + ", ".join(f"{x:.1f}" for x in loads) + ".")
    print_tables(merge(runs))


if __name__ == "__main__":
    main()

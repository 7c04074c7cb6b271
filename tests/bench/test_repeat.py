"""bench.repeat: a benchmark's tables from several runs come back as median (min-max)."""

from __future__ import annotations

from bench.repeat import merge, parse_tables, spread_cell

RUN = """starting...
### Kiosk (bench/kiosk.py)

| measure | result | target |
|---|---|---|
| press, p99 | {p99} ms | <= 30 ms |
| operations/s | {rate} | >= 2,000 |
| tickets issued | 520 | 520 |
done
"""


def test_spread_is_median_with_min_and_max_in_the_printed_precision() -> None:
    assert spread_cell(["4.42 ms", "8.50 ms", "4.10 ms", "5.00 ms", "4.90 ms"]) == "4.90 ms (4.10-8.50)"
    assert spread_cell(["2,999", "1,200", "3,100"]) == "2,999 (1,200-3,100)"
    assert spread_cell(["0.4% of a core", "1.2% of a core", "0.5% of a core"]) == "0.5% of a core (0.4-1.2)"


def test_a_cell_every_run_printed_alike_stays_as_it_is() -> None:
    assert spread_cell(["<= 30 ms"] * 3) == "<= 30 ms"
    assert spread_cell(["520", "520"]) == "520"


def test_cells_that_are_not_one_kind_of_figure_show_every_run() -> None:
    assert spread_cell(["4 ms", "4 s"]) == "4 ms / 4 s"
    assert spread_cell(["ok", "failed"]) == "ok / failed"


def test_tables_of_several_runs_merge_row_by_row() -> None:
    runs = [parse_tables(RUN.format(p99=p99, rate=rate)) for p99, rate in (("12.04", "2,999"), ("29.10", "2,450"),
                                                                            ("14.00", "3,050"))]
    [table] = merge(runs)
    assert table.title == "### Kiosk (bench/kiosk.py)"
    assert table.header == ["measure", "result", "target"]
    assert table.rows == [
        ["press, p99", "14.00 ms (12.04-29.10)", "<= 30 ms"],
        ["operations/s", "2,999 (2,450-3,050)", ">= 2,000"],
        ["tickets issued", "520", "520"],
    ]

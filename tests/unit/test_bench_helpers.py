"""The benchmark's pure helpers: the peer's ratio rows, its schema fix, the curve's figures."""

from __future__ import annotations

import pytest

from bench import curve, peer


def test_the_peer_row_gives_medians_and_their_ratio() -> None:
    rows = peer.workload_results("chain of 10", [0.9, 0.7, 0.8], [12.0, 13.0, 11.0])
    by_figure = {row.figure: row for row in rows}
    assert by_figure["ours (local)"].value == pytest.approx(0.8)
    assert by_figure["IHME Jobmon (sequential)"].value == pytest.approx(12.0)
    assert by_figure["peer / ours"].value == pytest.approx(15.0)
    # the table says how the peer was run, and how spread the runs were
    assert "1 s" in by_figure["IHME Jobmon (sequential)"].detail
    assert "0.700-0.900 s" in by_figure["ours (local)"].detail


def test_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    assert peer.median([4.0, 1.0, 3.0, 2.0]) == pytest.approx(2.5)


def test_the_peers_length_checks_are_relaxed_and_nothing_else() -> None:
    schema = ('CREATE TABLE task (hash VARCHAR(150) CHECK (length(hash) <= 50), '
              'name VARCHAR(255) CHECK (length(name) <= 255), '
              'arg VARCHAR(50) CHECK (length("arg") <= 50));')
    relaxed, count = peer.relax_length_checks(schema)
    assert count == 2
    assert "length(hash)" not in relaxed and 'length("arg")' not in relaxed
    assert "CHECK (length(name) <= 255)" in relaxed


def test_curve_sizes_are_read_with_k_and_m() -> None:
    assert curve.parse_sizes("1M, 10k,100K") == (10_000, 100_000, 1_000_000)
    for bad in ("ten", "10x", "5", "", "1.5M"):
        with pytest.raises(ValueError, match="bad curve size"):
            curve.parse_sizes(bad)


def test_cost_per_task_and_flatness() -> None:
    small = {"tasks": 10_000, "build_seconds": 0.1, "bind_seconds": 0.2, "run_seconds": 0.7,
             "seconds": 1.0, "client_peak_rss": 1e8}
    large = {"tasks": 1_000_000, "build_seconds": 10.0, "bind_seconds": 30.0,
             "run_seconds": 110.0, "seconds": 150.0, "client_peak_rss": 1e9}
    assert curve.per_task(small)["total"] == pytest.approx(1e-4)
    assert curve.per_task(large)["bind"] == pytest.approx(3e-5)
    assert curve.flatness([large, small]) == pytest.approx(1.5)
    rows = curve.curve_results([large, small], quick=False)
    assert [row.value for row in rows[:2]] == pytest.approx([100.0, 150.0])  # us per task
    assert rows[-1].passed is True  # 1.5x is within the target
    assert curve.curve_results([{**large, "seconds": 160.0}, small], quick=False)[-1].passed \
        is False

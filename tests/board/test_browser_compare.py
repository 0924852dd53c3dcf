"""Chromium tests of Compare (issue 11): several metrics at once, distinct colours for
many runs, a wide config table that scrolls in its box with the key column sticky."""

from __future__ import annotations

import pytest
from shots import check_view

N_RUNS = 12


@pytest.fixture
def many(backend, serve):
    """A board over twelve runs with different settings."""
    for i in range(1, N_RUNS + 1):
        backend.write(
            i,
            config={"lr": 0.1 / i, "width": 16 * i, "name": f"setting-{i}" * 3},
            metrics={
                "loss": (list(range(50)), [1.0 / (s + i) for s in range(50)]),
                "acc": (list(range(0, 50, 10)), [s / 60 + i / 100 for s in range(0, 50, 10)]),
            },
        )
    return serve(backend.open())


def test_compare_many_runs_several_metrics_distinct_colours(page, many, tmp_path):
    """Compare of twelve runs opens on loss, adds acc as a second plot, gives every run
    its own colour, and scrolls its config table inside its box."""
    pg = page.page
    pg.set_viewport_size({"width": 900, "height": 900})
    ids = ",".join(str(i) for i in range(1, N_RUNS + 1))
    pg.goto(many.url + f"#/compare?ids={ids}")
    pg.wait_for_selector(".compare-view .plot-panel[data-metric=loss] canvas")
    pg.check("input.compare-metric-pick[value=acc]")
    pg.wait_for_selector(".compare-view .plot-panel[data-metric=acc] canvas")
    assert pg.locator(".compare-view .plot-panel").count() == 2
    colours = pg.locator(".compare-view .plot-panel[data-metric=loss]").evaluate(
        "el => Array.from(el.querySelectorAll('.u-legend .u-series')).slice(1)"
        ".map(s => getComputedStyle(s.querySelector('.u-marker')).borderColor)"
    )
    assert len(colours) == N_RUNS and len(set(colours)) == N_RUNS, colours
    sizes = pg.evaluate(
        "() => { const w = document.querySelector('.scroll-box'), d = document.documentElement;"
        " return [d.scrollWidth, d.clientWidth, w.scrollWidth, w.clientWidth]; }"
    )
    assert sizes[0] <= sizes[1] and sizes[2] > sizes[3], sizes
    pg.evaluate("document.querySelector('.scroll-box').scrollLeft = 10000")
    box = pg.locator(".scroll-box").bounding_box()
    key = pg.locator("table.compare-config td.key", has_text="lr").first.bounding_box()
    assert box["x"] <= key["x"] < box["x"] + 40
    check_view(page, ".compare-view .plot-panel[data-metric=loss]", tmp_path, "compare-12")
    page.assert_clean()

"""Chromium tests of the board's analysis views (issue 11), through the page, on file
storage and MongoDB: groups with aggregates, group curves and Welch's test; parallel
coordinates (brushing filters the table), scatter and importance; saved views and links;
CSV export; only differences; the pinned baseline; the metric grid and the x axis; config
origin and docs. Screenshots of each new view are saved and checked."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from shots import check_view

LRS = (0.1, 0.01)
WIDTHS = (16, 64)
SEEDS = 3

SOURCE = """from sacred import Experiment
ex = Experiment("sweep")

@ex.config
def cfg():
    lr = 0.1  # the learning rate
    width = 16  # hidden units
    seed = 0

@ex.named_config
def wide():
    width = 64
"""


def write_sweep(backend):
    """Twelve runs: lr x width x three seeds; loss falls faster with the larger lr."""
    run_id = 0
    for lr in LRS:
        for width in WIDTHS:
            for seed in range(SEEDS):
                run_id += 1
                speed = lr * 10 + seed * 0.01
                fields = {}
                if width == 64:
                    fields["config_updates"] = {}
                backend.write(
                    run_id,
                    name="sweep",
                    config={"lr": lr, "width": width, "seed": seed},
                    metrics={
                        "loss": (list(range(40)), [1.0 / (1 + speed * s) for s in range(40)]),
                        "train/acc": (list(range(0, 40, 4)), [speed * s / 40 for s in range(10)]),
                        "system/cpu_percent": (list(range(80)), [50.0 + s % 7 for s in range(80)]),
                    },
                    result={"final": 1.0 / (1 + speed * 39)},
                    source_files={"train.py": SOURCE},
                    **fields,
                )
    return run_id


@pytest.fixture
def sweep(backend, serve):
    write_sweep(backend)
    return serve(backend.open())


def open_table(pg, board, suffix=""):
    pg.goto(board.url + suffix)
    pg.wait_for_selector("table.runs tbody tr[data-id]")


def add_column(pg, key):
    pg.click(".columns-panel summary")
    pg.fill("input.col-add", key)
    pg.click("text=Add column")
    pg.wait_for_selector(f"th[data-key='{key}']")
    pg.click(".columns-panel summary")


def test_groups_with_aggregates_curves_and_welch(page, sweep, tmp_path):
    """Grouping by config.lr shows a row per group with its count and mean ± std, Welch's
    test between the groups, and the groups' curves with a band, members on demand."""
    pg = page.page
    open_table(pg, sweep)
    add_column(pg, "metric:loss:last")
    pg.fill("input.group-add", "config.lr")
    pg.click("button.group-btn")
    pg.wait_for_selector("table.groups tr.group-row")
    assert pg.locator("table.groups tr.group-row").count() == 2
    assert pg.locator("table.groups td.group-count").all_inner_texts() == ["6", "6"]
    aggs = pg.locator("table.groups td.group-agg").all_inner_texts()
    assert len(aggs) == 2 and all(" ± " in a for a in aggs), aggs
    pg.click("button.welch-run")
    pg.wait_for_selector(".welch-result td.welch-p")
    p_text = pg.inner_text(".welch-result td.welch-p")
    assert "significant at 5%" in p_text and float(p_text.split()[0]) < 0.05
    assert re.match(r"\[-?[\d.e-]+, -?[\d.e-]+\]", pg.inner_text(".welch-result td.welch-ci"))
    pg.wait_for_selector(".group-plot[data-series] canvas")
    assert pg.get_attribute(".group-plot", "data-groups") == "2"
    assert pg.get_attribute(".group-plot", "data-metric") == "loss"
    check_view(page, ".group-plot", tmp_path, "group-curves-minmax")
    with pg.expect_request(re.compile(r"/api/groups/metric\?.*band=std")):
        pg.select_option("select.band-kind", "std")
    pg.check("input.show-members")
    pg.wait_for_function(
        "document.querySelector('.group-plot').dataset.series === String(2 * 3 + 12)"
    )
    check_view(page, ".group-plot", tmp_path, "group-curves-members")
    check_view(page, ".groups-view", tmp_path, "groups-table", canvases=False)
    pg.click("table.groups tr.group-row >> nth=0 >> button.group-runs")
    pg.wait_for_function(
        "document.querySelectorAll('table.runs:not(.groups) tbody tr').length === 6"
    )
    assert pg.locator("table.groups").count() == 0
    page.assert_clean()


def test_parallel_coordinates_brush_scatter_and_importance(page, sweep, tmp_path):
    """Parallel coordinates draw a line per run; brushing the lr axis around 0.1 filters
    the table to those runs; the scatter and the importance list show lr moving loss."""
    pg = page.page
    open_table(pg, sweep)
    pg.click("button.an-toggle[data-kind=parallel]")
    pg.wait_for_selector("canvas.parallel-canvas[data-rows='12']")
    assert pg.get_attribute("canvas.parallel-canvas", "data-shown") == "12"
    check_view(page, ".parallel", tmp_path, "parallel")
    box = pg.locator("canvas.parallel-canvas").bounding_box()
    x = box["x"] + 60  # the first axis: config.lr (config.seed is left out by default)
    pg.mouse.move(x, box["y"] + 20)
    pg.mouse.down()
    pg.mouse.move(x, box["y"] + 60, steps=4)
    pg.mouse.up()
    pg.wait_for_selector(".active-filter")
    pg.wait_for_function("document.querySelectorAll('table.runs tbody tr[data-id]').length === 6")
    assert "config.lr" in pg.inner_text(".filters")
    pg.wait_for_selector("canvas.parallel-canvas[data-rows='6']")
    pg.click(".active-filter button.x >> nth=0")
    pg.click(".active-filter button.x >> nth=0")
    pg.wait_for_function("document.querySelectorAll('table.runs tbody tr[data-id]').length === 12")
    pg.wait_for_selector("canvas.parallel-canvas[data-rows='12']")
    # the metric axis (the last) filters too: its top holds the slow runs (lr=0.01)
    box = pg.locator("canvas.parallel-canvas").bounding_box()
    x = box["x"] + box["width"] - 60
    pg.mouse.move(x, box["y"] + 20)
    pg.mouse.down()
    pg.mouse.move(x, box["y"] + 120, steps=4)
    pg.mouse.up()
    pg.wait_for_function("document.querySelectorAll('table.runs tbody tr[data-id]').length === 6")
    assert "loss (last) ≥" in pg.inner_text(".filters")
    ids = pg.locator("table.runs tbody tr[data-id]").evaluate_all("rs => rs.map(r => r.dataset.id)")
    assert sorted(int(i) for i in ids) == list(range(7, 13))  # the runs with lr=0.01
    pg.click(".active-filter button.x >> nth=0")
    pg.click(".active-filter button.x >> nth=0")
    pg.wait_for_function("document.querySelectorAll('table.runs tbody tr[data-id]').length === 12")
    pg.click("button.an-toggle[data-kind=scatter]")
    pg.wait_for_selector("canvas.scatter-canvas[data-points='12']")
    check_view(page, ".scatter", tmp_path, "scatter")
    pg.click("button.an-toggle[data-kind=importance]")
    pg.wait_for_selector("table.importance tr[data-key]")
    keys = pg.locator("table.importance tr[data-key]").evaluate_all(
        "rs => rs.map(r => r.dataset.key)"
    )
    assert keys[0] == "config.lr", keys
    check_view(
        page,
        "table.importance",
        tmp_path,
        "importance",
        min_width=150,
        min_height=40,
        canvases=False,
    )
    page.assert_clean()


def test_saved_views_and_links_restore_the_page(page, sweep, browser, tmp_path):
    """A view saved by name (filters, columns, grouping) is listed, opens from the list and
    from #/?view=NAME in a fresh browser, and can be deleted; the page's URL alone restores
    the same view too."""
    pg = page.page
    open_table(pg, sweep)
    add_column(pg, "config.width")
    pg.fill("input.f-path", "config.width")
    pg.select_option("select.f-op", "eq")
    pg.fill("input.f-value", "64")
    pg.click("text=Add filter")
    pg.wait_for_function("document.querySelectorAll('table.runs tbody tr[data-id]').length === 6")
    pg.fill("input.view-name", "wide runs")
    pg.click("button.view-save")
    pg.wait_for_selector("select.view-select option[value='wide runs']", state="attached")
    link = pg.url
    other = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        fresh = other.new_page()
        fresh.goto(sweep.url + "#/?view=" + "wide%20runs")
        fresh.wait_for_selector("th[data-key='config.width']")
        fresh.wait_for_function(
            "document.querySelectorAll('table.runs tbody tr[data-id]').length === 6"
        )
        fresh.goto("about:blank")
        fresh.goto(link)
        fresh.wait_for_selector("th[data-key='config.width']")
        fresh.wait_for_function(
            "document.querySelectorAll('table.runs tbody tr[data-id]').length === 6"
        )
    finally:
        other.close()
    pg.click(".active-filter button.x")
    pg.wait_for_function("document.querySelectorAll('table.runs tbody tr[data-id]').length === 12")
    pg.select_option("select.view-select", "wide runs")
    pg.click("button.view-load")
    pg.wait_for_function("document.querySelectorAll('table.runs tbody tr[data-id]').length === 6")
    pg.once("dialog", lambda d: d.accept())
    pg.select_option("select.view-select", "wide runs")
    pg.click("button.view-delete")
    pg.wait_for_selector("#toast:has-text('deleted')")
    pg.wait_for_selector("select.view-select option[value='wide runs']", state="detached")
    check_view(page, ".table-view", tmp_path, "saved-view-table", canvases=False)
    page.assert_clean()


def test_export_only_differences_and_baseline(page, sweep, tmp_path):
    """Export CSV downloads every matching run (not one page) with the shown columns; only
    differences shows the config keys that vary; a pinned baseline is highlighted in the
    table and drawn in a run's plot."""
    pg = page.page
    open_table(pg, sweep)
    pg.evaluate("localStorage.clear()")
    add_column(pg, "config.lr")
    href = pg.get_attribute("a.export-csv", "href")
    assert "columns=config.lr" in href
    with pg.expect_download() as dl:
        pg.click("a.export-csv")
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text())))
    assert sorted(int(r["id"]) for r in rows) == list(range(1, 13))
    assert {r["config.lr"] for r in rows} == {"0.1", "0.01"}
    pg.check("input.only-diff")
    pg.wait_for_selector("th[data-key='config.width']")
    heads = pg.locator("table.runs th[data-key]").evaluate_all("hs => hs.map(h => h.dataset.key)")
    assert {"config.lr", "config.width", "config.seed", "id"} <= set(heads)
    assert "experiment" not in heads and "host" not in heads
    pg.uncheck("input.only-diff")
    pg.check("tr[data-id='2'] input.select")
    pg.click("#baseline-btn")
    pg.wait_for_selector("tr.baseline[data-id='2']")
    pg.goto(sweep.url + "#/run/7/metrics")
    pg.wait_for_function("document.querySelectorAll('.plots .u-legend .u-series').length === 3")
    assert "baseline #2" in pg.inner_text(".plots .u-legend")
    check_view(page, ".plots .plot-panel", tmp_path, "baseline-plot")
    page.assert_clean()


def test_metric_grid_sections_and_x_axis_choice(page, sweep, tmp_path):
    """All metrics show as small plots sectioned by prefix, system metrics in their own
    section; the x axis can be wall time, relative time or another metric."""
    pg = page.page
    pg.goto(sweep.url + "#/run/1/metrics")
    pg.wait_for_selector(".metric-grid .grid-section[data-section=system]")
    pg.locator(".grid-section[data-section=system]").scroll_into_view_if_needed()
    pg.wait_for_selector(".metric-grid .grid-section[data-section=system] .grid-cell canvas")
    sections = pg.locator(".metric-grid .grid-section").evaluate_all(
        "s => s.map(x => x.dataset.section)"
    )
    assert sections[-1] == "system" and "train" in sections, sections
    assert pg.get_attribute(".plots .plot-panel", "data-metric") == "loss"
    check_view(page, ".grid-section[data-section=system]", tmp_path, "grid-system")
    with pg.expect_response(re.compile(r"/metrics/loss\?.*x=relative")) as resp:
        pg.select_option(".plots select.x-kind", "relative")
    assert resp.value.json()["x_kind"] == "relative"
    pg.wait_for_function("document.querySelector('.plots .plot-panel').dataset.xmax === '39'")
    with pg.expect_response(re.compile(r"/metrics/loss\?.*x=metric%3Atrain%2Facc")) as resp:
        pg.select_option(".plots select.x-kind", "metric:train/acc")
    assert resp.value.ok
    pg.wait_for_selector(".plots .plot-panel canvas")
    check_view(page, ".plots .plot-panel", tmp_path, "x-other-metric")
    page.assert_clean()


def test_config_named_config_and_docs(backend, serve, page):
    """Keys set by a named config are highlighted with its name and config docs (trailing
    comments of the config scope) are shown next to their keys."""
    backend.write(
        1,
        name="sweep",
        config={"lr": 0.05, "width": 64, "seed": 0},
        config_updates={"lr": 0.05},
        source_files={"train.py": SOURCE},
    )
    if backend.kind == "file":
        import json

        path = backend.target / "1" / "run.json"
        doc = json.loads(path.read_text())
        doc["meta"]["named_configs"] = ["wide"]
        path.write_text(json.dumps(doc))
    else:
        backend.target.runs.update_one({"_id": 1}, {"$set": {"meta.named_configs": ["wide"]}})
    board = serve(backend.open())
    pg = page.page
    pg.goto(board.url + "#/run/1/config")
    pg.wait_for_selector(".key.named[data-path=width]")
    assert "wide" in pg.get_attribute(".key.named[data-path=width]", "title")
    assert pg.locator(".key.changed[data-path=lr]").count() == 1
    assert "the learning rate" in pg.inner_text("li:has(> .key[data-path=lr])")
    assert "hidden units" in pg.inner_text("li:has(> .key[data-path=width])")
    page.assert_clean()


def test_new_views_run_under_the_page_csp(sweep, browser):
    """With the page's strict CSP enforced (the other tests bypass it to evaluate script),
    grouping by experiment name, the analysis panels, the metric grid and compare raise no
    CSP violation or page error."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        pg = context.new_page()
        errors = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        pg.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
        pg.set_default_timeout(10_000)
        open_table(pg, sweep)
        pg.fill("input.group-add", "experiment.name")
        pg.click("button.group-btn")
        pg.wait_for_selector("table.groups tr.group-row td.group-count:text-is('12')")
        pg.wait_for_selector(".group-plot[data-series] canvas")
        # no metric column shown: the main metric's last and min are aggregated
        assert pg.locator("table.groups td.group-agg").count() == 2
        pg.click(".group-chip button.x")
        pg.click("button.an-toggle[data-kind=parallel]")
        pg.wait_for_selector("canvas.parallel-canvas[data-rows='12']")
        pg.click("button.an-toggle[data-kind=importance]")
        pg.wait_for_selector("table.importance tr[data-key] .bar .fill")
        pg.goto(sweep.url + "#/run/1/metrics")
        pg.wait_for_selector(".plots .plot-panel canvas")
        pg.wait_for_selector(".metric-grid .grid-cell canvas")
        pg.goto(sweep.url + "#/compare?ids=1,2,3")
        pg.wait_for_selector(".compare-view .plot-panel canvas")
        pg.wait_for_timeout(300)
        assert errors == []
    finally:
        context.close()

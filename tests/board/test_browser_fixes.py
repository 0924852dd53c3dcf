"""Chromium tests of the board's fixed behaviour (issue 11, "Broken" and "Awkward"), on file
storage and MongoDB: each fails on the board as it was before the fix."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import runbuilder
from shots import check_view

LOSS_MAX_STEP = 99  # the standard runs log loss at steps 0..99 and acc at 0, 10, .., 90


@pytest.fixture(scope="module")
def ro_board(shared):
    """One board per backend over the shared standard runs (tests here change nothing)."""
    from board_server import BoardServer

    server = BoardServer(shared.open())
    yield server
    server.stop()


def x_range(page, scope=".plots"):
    return page.locator(f"{scope} .plot-panel").first.evaluate(
        "el => [Number(el.dataset.xmin), Number(el.dataset.xmax)]"
    )


def drag_zoom(page, scope=".plots", a=0.3, b=0.6):
    box = page.locator(f"{scope} .plot-holder .u-over").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * a, box["y"] + 50)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * b, box["y"] + 50, steps=5)
    page.mouse.up()


def test_reset_zoom_resets_the_axis(page, ro_board, tmp_path):
    """After a drag-zoom, "Reset zoom" shows every step again (it used to stay zoomed)."""
    pg = page.page
    pg.goto(ro_board.url + "#/run/1/metrics")
    pg.wait_for_function("document.querySelector('.plots .plot-panel')?.dataset.xmax === '99'")
    assert x_range(pg) == [0, LOSS_MAX_STEP]
    drag_zoom(pg)
    pg.wait_for_function("Number(document.querySelector('.plots .plot-panel').dataset.xmax) < 99")
    lo, hi = x_range(pg)
    assert 0 < lo < hi < LOSS_MAX_STEP
    pg.click(".plots button.reset-zoom")
    pg.wait_for_function("document.querySelector('.plots .plot-panel').dataset.xmax === '99'")
    assert x_range(pg) == [0, LOSS_MAX_STEP]
    check_view(page, ".plots .plot-panel", tmp_path, "reset-zoom")
    page.assert_clean()


def test_plot_opens_on_the_most_logged_metric_then_the_last_picked(page, ro_board):
    """The metrics tab opens on loss (100 points), not on acc (alphabetically first, 10
    points); after the user picks acc, acc is what plots open on."""
    pg = page.page
    pg.goto(ro_board.url + "#/run/1/metrics")
    pg.wait_for_selector(".plots .plot-panel[data-metric]")
    assert pg.get_attribute(".plots .plot-panel", "data-metric") == "loss"
    pg.uncheck(".plots input.metric-pick[value=loss]")
    pg.check(".plots input.metric-pick[value=acc]")
    pg.wait_for_selector(".plots .plot-panel[data-metric=acc]")
    pg.goto(ro_board.url + "#/run/2/metrics")
    pg.wait_for_selector(".plots .plot-panel[data-metric]")
    assert pg.get_attribute(".plots .plot-panel", "data-metric") == "acc"
    page.assert_clean()


def test_step_axis_has_integer_ticks(backend, serve, page):
    """A metric logged at steps 0, 1, 2 gets whole-number ticks on its step axis."""
    backend.write(1, metrics={"acc": ([0, 1, 2], [0.1, 0.5, 0.7])})
    board = serve(backend.open())
    pg = page.page
    pg.goto(board.url + "#/run/1/metrics")
    pg.wait_for_selector(".plots .plot-panel[data-xticks]")
    ticks = [float(t) for t in pg.get_attribute(".plots .plot-panel", "data-xticks").split(",")]
    assert len(ticks) >= 2 and all(t == int(t) for t in ticks), ticks
    page.assert_clean()


def _live_run(backend, steps):
    now = datetime.now(timezone.utc)
    values = [1.0 / (s + 1) for s in steps]
    common = dict(status="RUNNING", heartbeat=now, start=now - timedelta(seconds=30))
    if backend.kind == "file":
        stamps = [runbuilder.iso(now)] * len(steps)
        chunk = {"loss": {"steps": list(steps), "values": values, "timestamps": stamps}}
        return backend.write(1, jsonl_metrics=[chunk], output="first line\n", **common)
    return backend.write(
        1, metrics={"loss": (list(steps), values)}, output="first line\n", **common
    )


def _append_points(backend, where, steps):
    values = [1.0 / (s + 1) for s in steps]
    now = datetime.now(timezone.utc)
    if backend.kind == "file":
        line = {
            "loss": {
                "steps": list(steps),
                "values": values,
                "timestamps": [runbuilder.iso(now)] * len(steps),
            }
        }
        with open(where / "metrics.jsonl", "a") as fh:
            fh.write(json.dumps(line) + "\n")
    else:
        stamps = [now.replace(tzinfo=None)] * len(steps)
        backend.target.metrics.update_one(
            {"run_id": 1, "name": "loss"},
            {
                "$push": {
                    "steps": {"$each": list(steps)},
                    "values": {"$each": values},
                    "timestamps": {"$each": stamps},
                }
            },
        )
        backend.target.runs.update_one(
            {"_id": 1}, {"$set": {"heartbeat": now.replace(tzinfo=None)}}
        )


def test_running_run_plot_and_rollups_follow_new_points(backend, serve, page, tmp_path):
    """On a RUNNING run the plot's x range grows with new points and the last/min/max
    table refreshes; once the user zooms, new points no longer move the x range. A compare
    holding the running run follows its new points too."""
    where = _live_run(backend, range(10))
    board = serve(backend.open())
    pg = page.page
    pg.goto(board.url + "#/run/1/metrics")
    pg.wait_for_function("document.querySelector('.plots .plot-panel')?.dataset.xmax === '9'")
    assert pg.inner_text(".rollups tr[data-metric=loss] td:last-child") == "10"
    _append_points(backend, where, range(10, 20))
    pg.wait_for_function("document.querySelector('.plots .plot-panel').dataset.xmax === '19'")
    pg.wait_for_function(
        "document.querySelector('.rollups tr[data-metric=loss] td:last-child').textContent === '20'"
    )
    drag_zoom(pg, a=0.2, b=0.5)
    pg.wait_for_function("Number(document.querySelector('.plots .plot-panel').dataset.xmax) < 19")
    zoomed = x_range(pg)
    _append_points(backend, where, range(20, 30))
    with pg.expect_response(re.compile(r"/metrics/loss\?.*start=")):  # the next refresh
        pg.wait_for_function(
            "document.querySelector('.rollups tr[data-metric=loss] td:last-child')"
            ".textContent === '30'"
        )
    pg.wait_for_timeout(200)
    assert x_range(pg) == zoomed
    pg.click(".plots button.reset-zoom")
    pg.wait_for_function("document.querySelector('.plots .plot-panel').dataset.xmax === '29'")
    check_view(page, ".plots .plot-panel", tmp_path, f"live-{backend.kind}")
    backend.write(2, metrics={"loss": (list(range(10)), [0.5] * 10)})
    pg.goto(board.url + "#/compare?ids=1,2")
    pg.wait_for_function(
        "document.querySelector('.compare-view .plot-panel')?.dataset.xmax === '29'"
    )
    _append_points(backend, where, range(30, 40))
    pg.wait_for_function(
        "document.querySelector('.compare-view .plot-panel').dataset.xmax === '39'"
    )
    page.assert_clean()


def test_live_note_on_the_output_tab_stays(backend, serve, page):
    """The output tab of a RUNNING run says it is live after the output has loaded (the
    note used to be overwritten by the output's size line)."""
    _live_run(backend, range(3))
    board = serve(backend.open())
    pg = page.page
    pg.goto(board.url + "#/run/1/output")
    pg.wait_for_function("document.querySelector('pre.output')?.textContent.includes('first line')")
    pg.wait_for_timeout(300)
    assert "Live" in pg.inner_text(".tab-body p.muted")
    page.assert_clean()


def test_dead_run_duration_stops_at_its_last_heartbeat(backend, serve, page):
    """A RUNNING run whose heartbeat stopped an hour ago shows PROBABLY_DEAD and the time
    from start to its last heartbeat, in the table and on its page."""
    now = datetime.now(timezone.utc)
    backend.write(
        1, status="RUNNING", start=now - timedelta(hours=3), heartbeat=now - timedelta(hours=1)
    )
    board = serve(backend.open())
    pg = page.page
    pg.goto(board.url)
    pg.wait_for_selector("tr[data-id='1']")
    assert pg.inner_text("tr[data-id='1'] .status") == "PROBABLY_DEAD"
    assert pg.inner_text("tr[data-id='1'] td.c-duration") == "2h 0m"
    pg.goto(board.url + "#/run/1")
    pg.wait_for_selector(".overview")
    assert "2h 0m" in pg.inner_text(".overview")
    page.assert_clean()


def test_dict_result_is_key_values_and_offered_as_columns(backend, serve, page):
    """A dict result is shown as key/value rows, and result.acc can be added as a column."""
    backend.write(1, result={"acc": 0.93, "loss": {"val": 0.2}})
    backend.write(2, result={"acc": 0.81, "loss": {"val": 0.4}})
    board = serve(backend.open())
    pg = page.page
    pg.goto(board.url + "#/run/1")
    pg.wait_for_selector("table.kv-result")
    assert pg.inner_text("table.kv-result tr[data-key=acc] td") == "0.93"
    assert pg.inner_text("table.kv-result tr[data-key='loss.val'] td") == "0.2"
    pg.goto(board.url)
    pg.wait_for_selector("tr[data-id='1']")
    pg.wait_for_selector("#column-keys option[value='result.acc']", state="attached")
    pg.click("text=Columns")
    pg.fill("input.col-add", "result.acc")
    pg.click("text=Add column")
    pg.wait_for_selector("th[data-key='result.acc']")
    assert pg.inner_text("tr[data-id='2'] td.c-result_acc") == "0.81"
    page.assert_clean()


def test_columns_panel_shows_new_columns_and_keeps_the_pager(page, ro_board):
    """Opening the Columns panel does not move the pager; a column added shows in the list
    in view (not in a small scroll box)."""
    pg = page.page
    pg.goto(ro_board.url)
    pg.wait_for_selector("table.runs tbody tr[data-id]")
    before = pg.locator(".pager").bounding_box()
    pg.click(".columns-panel summary")
    for key in [
        "config.lr",
        "config.batch",
        "config.optimizer.name",
        "info.best",
        "metric:loss:min",
    ]:
        pg.fill("input.col-add", key)
        pg.click("text=Add column")
        pg.wait_for_selector(f"th[data-key='{key}']")
    after = pg.locator(".pager").bounding_box()
    assert (after["x"], after["y"]) == (before["x"], before["y"])
    item = pg.locator(".col-list li[data-key='metric:loss:min']")
    box, panel = item.bounding_box(), pg.locator(".col-body").bounding_box()
    assert panel["y"] <= box["y"] and box["y"] + box["height"] <= panel["y"] + panel["height"]
    assert box["y"] + box["height"] <= pg.viewport_size["height"]
    assert pg.locator(".col-list li").count() == 15
    page.assert_clean()


def test_wide_table_scrolls_in_its_box_with_a_sticky_id(page, ro_board):
    """With many columns the table scrolls inside its box, not the page, and the ID column
    stays in view."""
    pg = page.page
    pg.set_viewport_size({"width": 700, "height": 800})
    pg.goto(ro_board.url)
    pg.wait_for_selector("table.runs tbody tr[data-id]")
    pg.click(".columns-panel summary")
    for key in ["config.lr", "config.batch", "config.optimizer.name", "info.best"]:
        pg.fill("input.col-add", key)
        pg.click("text=Add column")
        pg.wait_for_selector(f"th[data-key='{key}']")
    pg.click(".columns-panel summary")
    sizes = pg.evaluate(
        "() => { const w = document.querySelector('.table-wrap'), d = document.documentElement;"
        " return [d.scrollWidth, d.clientWidth, w.scrollWidth, w.clientWidth]; }"
    )
    assert sizes[0] <= sizes[1] and sizes[2] > sizes[3], sizes
    pg.evaluate("document.querySelector('.table-wrap').scrollLeft = 10000")
    wrap = pg.locator(".table-wrap").bounding_box()
    cell = pg.locator("tr[data-id='1'] td.c-id").bounding_box()
    assert wrap["x"] <= cell["x"] < wrap["x"] + 80
    assert pg.inner_text("tr[data-id='1'] td.c-id") == "1"
    page.assert_clean()

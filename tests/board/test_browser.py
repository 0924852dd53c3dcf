"""End-to-end tests of the board in headless Chromium, on file storage and MongoDB."""

import re

import pytest
import runbuilder

from sacredlite.store import open_store


@pytest.fixture
def board(populated, serve):
    """The board over the six standard runs of this test alone (writable)."""
    return serve(populated.open())


@pytest.fixture(scope="module")
def ro_board(shared):
    """One board per backend over shared runs, for tests that change nothing stored."""
    from board_server import BoardServer

    server = BoardServer(shared.open())
    yield server
    server.stop()


def row_ids(page):
    return [
        int(x)
        for x in page.locator("table.runs tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.id)"
        )
    ]


def open_table(probe, board):
    probe.page.goto(board.url)
    probe.page.wait_for_selector("table.runs tbody tr[data-id]")


def test_table_lists_and_sorts(page, ro_board):
    """The runs table shows every run, newest first, and sorts by a clicked column."""
    open_table(page, ro_board)
    assert row_ids(page.page) == [6, 5, 4, 3, 2, 1]
    page.page.click("th[data-key=id]")
    page.page.wait_for_function("document.querySelector('table.runs tbody tr').dataset.id === '1'")
    assert row_ids(page.page) == [1, 2, 3, 4, 5, 6]
    page.page.click("th[data-key=experiment]")
    page.page.wait_for_selector("th[data-key=experiment].asc")
    names = page.page.locator("table.runs tbody td.c-experiment").all_inner_texts()
    assert names == sorted(names)
    assert page.page.locator("tr[data-id='3'] .status").inner_text() == "RUNNING"
    page.assert_clean()


def test_table_filters_by_status_text_and_value(page, ro_board):
    """Status chips, the search box and a column filter narrow the table."""
    open_table(page, ro_board)
    page.page.check("input.status-filter[value=FAILED]")
    page.page.wait_for_function("document.querySelectorAll('table.runs tbody tr').length === 1")
    assert row_ids(page.page) == [2]
    page.page.uncheck("input.status-filter[value=FAILED]")
    page.page.fill("input.f-path", "config.batch")
    page.page.select_option("select.f-op", "gt")
    page.page.fill("input.f-value", "100")
    page.page.click("text=Add filter")
    page.page.wait_for_function("document.querySelectorAll('table.runs tbody tr').length === 3")
    assert row_ids(page.page) == [6, 5, 4]
    page.page.fill("input.search", "number 5")
    page.page.wait_for_function("document.querySelectorAll('table.runs tbody tr').length === 1")
    page.assert_clean()


def test_added_column_is_shown_and_remembered(page, ro_board):
    """A config column added in the column panel appears and survives a reload."""
    open_table(page, ro_board)
    page.page.click("text=Columns")
    page.page.fill("input.col-add", "config.lr")
    page.page.click("text=Add column")
    page.page.wait_for_selector("th[data-key='config.lr']")
    assert page.page.locator("tr[data-id='2'] td.c-config_lr").inner_text() == "0.05"
    page.page.reload()
    page.page.wait_for_selector("th[data-key='config.lr']")
    page.assert_clean()


def test_run_page_draws_a_metric_plot(page, ro_board):
    """Opening a run and its metrics tab draws a uPlot canvas of the most-logged metric;
    zooming fetches a step window."""
    open_table(page, ro_board)
    page.page.click("tr[data-id='1'] a.run-link")
    page.page.wait_for_selector(".run-head .run-name")
    assert page.page.locator(".run-name").inner_text() == "mnist"
    page.page.click("nav.tabs a[data-tab=metrics]")
    page.page.wait_for_selector(".plots .plot-holder canvas")
    page.page.wait_for_function(
        "document.querySelector('.plots .plot-info').textContent.includes('points')"
    )
    box = page.page.locator(".plots .plot-holder .u-over").bounding_box()
    with page.page.expect_request(re.compile(r"/metrics/loss\?.*start=")):
        page.page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 50)
        page.page.mouse.down()
        page.page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + 50, steps=5)
        page.page.mouse.up()
    page.page.check(".plots input.metric-pick[value=acc]")
    page.page.wait_for_function(
        "document.querySelectorAll('.plots .u-legend .u-series').length === 3"
    )
    page.assert_clean()


def test_run_page_shows_output_config_and_fail_trace(page, ro_board):
    """The overview shows the fail trace, and the output and config tabs show their data."""
    page.page.goto(ro_board.url + "#/run/2")
    page.page.wait_for_selector("pre.fail-trace")
    assert "ValueError: boom" in page.page.inner_text("pre.fail-trace")
    page.page.click("nav.tabs a[data-tab=output]")
    page.page.wait_for_function(
        "document.querySelector('pre.output')?.textContent.includes('hello')"
    )
    page.page.click("nav.tabs a[data-tab=config]")
    page.page.wait_for_selector(".key.changed")
    assert page.page.locator(".key.changed").first.inner_text() == "lr"
    page.assert_clean()


def test_tags_and_notes_round_trip(page, board):
    """A tag and notes added on the run page are there after a reload and in the table."""
    page.page.goto(board.url + "#/run/4")
    page.page.wait_for_selector("input.tag-input")
    page.page.fill("input.tag-input", "keeper")
    page.page.press("input.tag-input", "Enter")
    page.page.wait_for_selector(".tag-editor .tag:has-text('keeper')")
    page.page.fill("textarea.notes", "best so far")
    page.page.click("button.save-notes")
    page.page.wait_for_selector("#toast:has-text('Notes saved')")
    page.page.reload()
    page.page.wait_for_selector(".tag-editor .tag:has-text('keeper')")
    assert page.page.input_value("textarea.notes") == "best so far"
    page.page.click("#nav-runs")
    page.page.wait_for_selector("tr[data-id='4'] .tag:has-text('keeper')")
    assert page.page.inner_text("tr[data-id='4'] .notes-cell") == "best so far"
    page.assert_clean()


def test_compare_two_runs(page, ro_board):
    """Selecting two runs and pressing Compare overlays their metric and diffs config and output."""
    open_table(page, ro_board)
    page.page.check("tr[data-id='1'] input.select")
    page.page.check("tr[data-id='2'] input.select")
    page.page.click("#compare-btn")
    page.page.wait_for_selector(".compare-view .plot-holder canvas")
    page.page.wait_for_function("document.querySelectorAll('.u-legend .u-series').length === 3")
    legend = page.page.inner_text(".u-legend")
    assert "run 1" in legend and "run 2" in legend
    assert page.page.locator("table.compare-config tr.differs").count() == 3
    page.page.wait_for_selector("pre.diff span.add")
    page.assert_clean()


def test_artifacts_are_viewable(page, ro_board):
    """An image artifact is shown inline and a text artifact as text."""
    page.page.goto(ro_board.url + "#/run/1/artifacts")
    page.page.click("a.artifact-link:has-text('plot.png')")
    page.page.wait_for_function("document.querySelector('img.artifact-img')?.naturalWidth === 1")
    page.page.click("a.artifact-link:has-text('model.txt')")
    page.page.wait_for_selector("pre.artifact-text:has-text('weights')")
    page.page.goto(ro_board.url + "#/run/1/sources")
    page.page.click("a.source-link")
    page.page.wait_for_selector("table.code td.ln")
    page.assert_clean()


def test_delete_asks_for_confirmation(page, board):
    """Delete does nothing when the confirmation is dismissed and removes the run when accepted."""
    open_table(page, board)
    page.page.check("tr[data-id='5'] input.select")
    page.page.once("dialog", lambda d: d.dismiss())
    page.page.click("#delete-btn")
    page.page.wait_for_timeout(300)
    assert 5 in row_ids(page.page)
    page.page.once("dialog", lambda d: d.accept())
    page.page.click("#delete-btn")
    page.page.wait_for_function("!document.querySelector(\"tr[data-id='5']\")")
    assert row_ids(page.page) == [6, 4, 3, 2, 1]
    page.assert_clean()


def test_run_content_is_escaped(backend, serve, page):
    """A run named like an HTML tag and output holding <script> execute nothing."""
    backend.write(
        1,
        name="<img src=x onerror=alert(1)>",
        comment="<b>bold</b>",
        output="<script>alert(2)</script>\n<img src=y onerror=alert(3)>\n",
        config={"<i>k</i>": "<svg onload=alert(4)>"},
    )
    page.page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    board = serve(backend.open())
    open_table(page, board)
    assert page.page.inner_text("tr[data-id='1'] td.c-experiment") == "<img src=x onerror=alert(1)>"
    assert page.page.locator("table.runs img, table.runs b").count() == 0
    page.page.goto(board.url + "#/run/1/output")
    page.page.wait_for_function(
        "document.querySelector('pre.output')?.textContent.includes('alert(2)')"
    )
    assert page.page.locator("pre.output script, pre.output img").count() == 0
    page.page.goto(board.url + "#/run/1/config")
    page.page.wait_for_selector("ul.tree")
    assert page.page.locator("ul.tree svg, ul.tree i").count() == 0
    page.page.wait_for_timeout(200)
    assert page.dialogs == []
    page.assert_clean()


def test_read_only_board_hides_writes(populated, serve, page):
    """In read-only mode there is no delete button and tags cannot be edited."""
    board = serve(populated.open(read_only=True))
    open_table(page, board)
    assert page.page.locator("#delete-btn").count() == 0
    assert page.page.locator("button.view-save, button.view-delete").count() == 0
    page.page.goto(board.url + "#/run/1")
    page.page.wait_for_selector(".run-head")
    assert page.page.locator("input.tag-input, #delete-run").count() == 0
    page.assert_clean()


def test_live_run_output_is_tailed(tmp_path, serve, page):
    """While a run is RUNNING, output it appends shows up on the open output tab."""
    from datetime import datetime, timezone

    root = tmp_path / "live"
    run_dir = runbuilder.write_file_run(
        root, 1, status="RUNNING", heartbeat=datetime.now(timezone.utc), output="first line\n"
    )
    board = serve(open_store(root))
    page.page.goto(board.url + "#/run/1/output")
    page.page.wait_for_function(
        "document.querySelector('pre.output')?.textContent.includes('first line')"
    )
    with open(run_dir / "cout.txt", "a") as fh:
        fh.write("second <b>line</b>\n")
    page.page.wait_for_function(
        "document.querySelector('pre.output').textContent.includes('second <b>line</b>')"
    )
    assert page.page.locator("pre.output b").count() == 0
    page.assert_clean()


def test_notes_over_the_limit_are_refused_with_the_limit_named(page, board):
    """Saving notes one character over the limit shows the limit in a toast; nothing is stored."""
    page.page.goto(board.url + "#/run/4")
    page.page.wait_for_selector("textarea.notes")
    page.page.fill("textarea.notes", "n" * 100_001)
    page.page.click("button.save-notes")
    toast = page.page.wait_for_selector("#toast.error")
    assert toast.inner_text() == "Characters of notes: at most 100,000 characters, got 100,001."
    page.page.reload()
    page.page.wait_for_selector("textarea.notes")
    assert page.page.input_value("textarea.notes") == ""
    assert all("413" in e for e in page.errors + page.failed), (page.errors, page.failed)


def test_runs_with_nan_and_infinity_are_shown(backend, serve, page):
    """A run holding NaN and ±Infinity shows them in the table, overview, config, info and
    metrics tabs, and draws its plot, without a page error."""
    from test_api import write_non_finite_run

    write_non_finite_run(backend)
    board = serve(backend.open())
    open_table(page, board)
    page.page.click("text=Columns")
    page.page.fill("input.col-add", "config.lr")
    page.page.click("text=Add column")
    page.page.wait_for_selector("th[data-key='config.lr']")
    assert page.page.inner_text("tr[data-id='1'] td.c-config_lr") == "NaN"
    page.page.goto(board.url + "#/run/1")
    page.page.wait_for_selector("pre.result")
    assert page.page.inner_text("pre.result") == "NaN"
    page.page.goto(board.url + "#/run/1/config")
    page.page.wait_for_selector("nav.tabs a.active[data-tab=config]")
    tree_text = page.page.inner_text(".tab-body ul.tree")
    assert "lr: NaN" in tree_text and "clip: Infinity" in tree_text and "-Infinity" in tree_text
    page.page.goto(board.url + "#/run/1/info")
    page.page.wait_for_selector("nav.tabs a.active[data-tab=info]")
    assert "best: -Infinity" in page.page.inner_text(".tab-body ul.tree")
    page.page.goto(board.url + "#/run/1/metrics")
    page.page.wait_for_selector(".plots .plot-holder canvas")
    page.page.wait_for_selector(".rollups td")
    assert page.page.locator(".rollups tr").nth(1).inner_text().split("\t") == [
        "loss",
        "-Infinity",
        "1",
        "1",
        "4",
    ]
    page.assert_clean()

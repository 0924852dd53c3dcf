"""The analysis API (issue 11): groups, group plots, Welch's test, parallel coordinates,
importance, CSV export and other x axes, on both backends, through the app."""

import csv
import io
import json
import math
import statistics

import pytest
from starlette.testclient import TestClient

from sacredlite.board.app import create_app
from sacredlite.store import limits
from sacredlite.store.stats import incomplete_beta, t_two_sided_p


@pytest.fixture(scope="module")
def client(seeds):
    with TestClient(create_app(seeds.open())) as c:
        yield c


def _losses(client, lr, opt=None):
    flt = [["config.lr", "eq", lr]] + ([["config.opt", "eq", opt]] if opt else [])
    rows = client.get(
        "/api/runs",
        params={"filter": json.dumps(flt), "columns": "metric:loss:last", "limit": 100},
    ).json()["rows"]
    return [r["cols"]["metric:loss:last"] for r in rows]


def test_groups_carry_counts_ids_and_aggregates(client):
    """Runs grouped by two config keys: one group per pair, mean/std/min/max/n per column."""
    data = client.get(
        "/api/groups",
        params={"by": "config.lr,config.opt", "columns": "metric:loss:last,result.score"},
    ).json()
    assert data["by"] == ["config.lr", "config.opt"] and data["total"] == 12
    assert [g["label"] for g in data["groups"]] == [
        "lr=0.01, opt=adam",
        "lr=0.01, opt=sgd",
        "lr=0.1, opt=adam",
        "lr=0.1, opt=sgd",
    ]
    group = data["groups"][2]
    assert group["key"] == {"config.lr": 0.1, "config.opt": "adam"}
    assert group["count"] == 3 and sorted(group["ids"]) == [1, 2, 3]
    losses = _losses(client, 0.1, "adam")
    agg = group["aggregates"]["metric:loss:last"]
    assert agg["n"] == 3 and agg["mean"] == pytest.approx(statistics.mean(losses))
    assert agg["std"] == pytest.approx(statistics.stdev(losses))
    assert (agg["min"], agg["max"]) == (min(losses), max(losses))
    assert group["aggregates"]["result.score"]["n"] == 3


def test_groups_honour_the_filter_and_refuse_bad_requests(client):
    """The runs list's filters apply; no `by` is a 400; too many `by` columns a 413."""
    data = client.get(
        "/api/groups",
        params={"by": "experiment.name", "filter": json.dumps([["config.opt", "eq", "sgd"]])},
    ).json()
    assert data["total"] == 6 and [g["count"] for g in data["groups"]] == [6]
    assert data["groups"][0]["label"] == "experiment.name=sweep"
    assert client.get("/api/groups").status_code == 400
    many = ",".join(f"config.k{i}" for i in range(limits.MAX_GROUP_BY + 1))
    resp = client.get("/api/groups", params={"by": many})
    assert resp.status_code == 413 and "Columns grouped by" in resp.json()["error"]


@pytest.mark.parametrize("band", ["minmax", "std"])
def test_group_metric_is_the_mean_with_a_band(client, band):
    """Each group's curve is the members' mean per x, with min/max or +-std around it."""
    data = client.get(
        "/api/groups/metric",
        params={"by": "config.lr", "name": "loss", "band": band, "points": 100},
    ).json()
    assert [g["label"] for g in data["groups"]] == ["lr=0.01", "lr=0.1"]
    group = data["groups"][1]
    assert group["x"] == list(range(50)) and group["count"] == 6
    rows = client.get("/api/runs", params={"columns": "config.lr", "limit": 100}).json()["rows"]
    ids = [r["id"] for r in rows if r["cols"]["config.lr"] == 0.1]
    assert sorted(group["members"]) == sorted(ids)
    at_10 = [client.get(f"/api/runs/{i}/metrics/loss").json()["values"][10] for i in ids]
    assert group["mean"][10] == pytest.approx(statistics.mean(at_10))
    if band == "minmax":
        assert (group["lo"][10], group["hi"][10]) == (pytest.approx(min(at_10)), max(at_10))
    else:
        spread = statistics.stdev(at_10)
        assert group["lo"][10] == pytest.approx(statistics.mean(at_10) - spread)
        assert group["hi"][10] == pytest.approx(statistics.mean(at_10) + spread)


def test_group_metric_resamples_onto_a_grid_and_checks_its_input(client):
    """Fewer points than steps: an even grid over the x range; bad band/x/limits refused."""
    data = client.get(
        "/api/groups/metric", params={"by": "config.opt", "name": "loss", "points": 10}
    ).json()
    assert data["groups"][0]["x"][0] == 0 and data["groups"][0]["x"][-1] == 49
    assert len(data["groups"][0]["mean"]) == 10
    base = {"by": "config.opt", "name": "loss"}
    assert client.get("/api/groups/metric", params={**base, "band": "iqr"}).status_code == 400
    assert client.get("/api/groups/metric", params={**base, "x": "epoch"}).status_code == 400
    resp = client.get("/api/groups/metric", params={**base, "points": limits.MAX_PLOT_POINTS + 1})
    assert resp.status_code == 413
    wall = client.get("/api/groups/metric", params={**base, "x": "relative"}).json()
    assert wall["x_kind"] == "relative" and wall["groups"][0]["x"][0] == 0


def test_welch_matches_scipy(client):
    """Welch's t-test between two groups gives scipy's t, df, p and the 95% interval."""
    a, b = _losses(client, 0.1), _losses(client, 0.01)
    data = client.get(
        "/api/welch",
        params={
            "by": "config.lr",
            "a": json.dumps({"config.lr": 0.1}),
            "b": json.dumps({"config.lr": 0.01}),
            "column": "metric:loss:last",
        },
    ).json()
    assert data["a"]["n"] == 6 and data["b"]["n"] == 6
    assert data["diff"] == pytest.approx(statistics.mean(a) - statistics.mean(b))
    scipy_stats = pytest.importorskip("scipy.stats")
    ref = scipy_stats.ttest_ind(a, b, equal_var=False)
    assert data["t"] == pytest.approx(ref.statistic, rel=1e-9)
    assert data["p"] == pytest.approx(ref.pvalue, rel=1e-6)
    low, high = ref.confidence_interval(0.95)
    assert data["ci95"] == [pytest.approx(low, rel=1e-6), pytest.approx(high, rel=1e-6)]
    assert data["df"] == pytest.approx(ref.df, rel=1e-9)


def test_welch_refuses_unknown_groups_and_bad_keys(client):
    """A key that is not JSON or names other columns is a 400 naming the fix."""
    base = {"by": "config.lr", "column": "metric:loss:last", "b": '{"config.lr": 0.1}'}
    resp = client.get("/api/welch", params={**base, "a": "lr=0.1"})
    assert resp.status_code == 400 and "JSON object" in resp.json()["error"]
    resp = client.get("/api/welch", params={**base, "a": '{"config.lr": 5}'})
    assert resp.status_code == 400 and "No run" in resp.json()["error"]


@pytest.mark.parametrize(
    ("t", "df"), [(2.0, 5.0), (-0.3, 1.0), (10.0, 30.5), (1.96, 1000.0), (0.0, 3.0)]
)
def test_t_distribution_against_scipy(t, df):
    """The p-value (our incomplete beta) agrees with scipy's t distribution."""
    scipy_stats = pytest.importorskip("scipy.stats")
    assert t_two_sided_p(t, df) == pytest.approx(2 * scipy_stats.t.sf(abs(t), df), rel=1e-9)
    special = pytest.importorskip("scipy.special")
    assert incomplete_beta(2.5, 0.5, 0.3) == pytest.approx(special.betainc(2.5, 0.5, 0.3))


def test_t_distribution_textbook_values():
    """Without scipy: the 97.5% quantiles of a t table give p = 0.05."""
    for t, df in ((12.706, 1), (2.571, 5), (2.228, 10), (2.042, 30)):
        assert t_two_sided_p(t, df) == pytest.approx(0.05, abs=2e-4)
    assert math.isnan(t_two_sided_p(math.nan, 3))


def test_parallel_rows_and_categories(client):
    """Each run's values of the keys and the metric; text keys list their categories."""
    data = client.get(
        "/api/analysis/parallel",
        params={"keys": "config.lr,config.opt", "metric": "metric:loss:last", "limit": 5},
    ).json()
    assert data["keys"] == ["config.lr", "config.opt"] and len(data["rows"]) == 5
    first = data["rows"][0]
    assert set(first) == {"id", "values", "metric"} and first["id"] == 12
    assert first["values"] == {"config.lr": 0.01, "config.opt": "sgd"}
    assert first["metric"] == pytest.approx(_losses(client, 0.01, "sgd")[0])
    assert data["categories"] == {"config.opt": ["adam", "sgd"]}
    resp = client.get(
        "/api/analysis/parallel",
        params={"keys": "config.lr", "limit": limits.MAX_ANALYSIS_RUNS + 1},
    )
    assert resp.status_code == 413
    assert client.get("/api/analysis/parallel").status_code == 400


def test_importance_ranks_the_key_that_moves_the_metric_first(client):
    """lr moves the loss most, then the optimizer; seed barely; width never varies."""
    data = client.get("/api/analysis/importance", params={"metric": "metric:loss:last"}).json()
    keys = [k["key"] for k in data["keys"]]
    assert keys == ["config.lr", "config.opt", "config.seed"]
    assert data["keys"][0]["correlation"] < -0.8 and data["runs"] == 12
    assert data["forest_available"] is True
    forest = {k["key"]: k["forest"] for k in data["keys"]}
    assert forest["config.lr"] > forest["config.opt"] > forest["config.seed"]
    assert data["keys"][1]["category"] in ("adam", "sgd")
    only = client.get(
        "/api/analysis/importance", params={"metric": "metric:loss:last", "keys": "config.seed"}
    ).json()
    assert [k["key"] for k in only["keys"]] == ["config.seed"]
    assert client.get("/api/analysis/importance").status_code == 400


def test_export_csv_has_every_matching_row_and_the_table_columns(client):
    """All runs matching the filter (beyond one page), the table's columns, then extras."""
    resp = client.get(
        "/api/export.csv",
        params={
            "columns": "config.lr,metric:loss:last",
            "filter": json.dumps([["config.opt", "eq", "adam"]]),
            "limit": 2,
            "sort": "id",
        },
    )
    assert resp.headers["content-type"].startswith("text/csv")
    assert resp.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert [r["id"] for r in rows] == ["1", "2", "3", "7", "8", "9"]
    assert list(rows[0])[:6] == ["id", "status", "start_time", "stop_time", "heartbeat", "duration"]
    assert rows[0]["config.lr"] == "0.1" and rows[0]["experiment"] == "sweep"
    assert json.loads(rows[0]["result"])["epochs"] == 50
    assert float(rows[0]["metric:loss:last"]) == pytest.approx(_losses(client, 0.1, "adam")[-1])


@pytest.mark.parametrize("x", ["wall", "relative", "metric:train/acc"])
def test_metric_against_other_x_axes(client, x):
    """x = wall time, seconds since the first point, or another metric matched by step."""
    data = client.get("/api/runs/1/metrics/loss", params={"x": x}).json()
    assert data["x_kind"] == x
    if x == "metric:train/acc":
        assert data["steps"] == [s / 50 for s in range(0, 50, 5)] and data["total"] == 10
        full = client.get("/api/runs/1/metrics/loss").json()["values"]
        assert data["values"] == full[::5]
    else:
        offset = data["steps"][0] if x == "wall" else 0
        assert [s - offset for s in data["steps"]] == list(range(50))  # one point a second
    assert client.get("/api/runs/1/metrics/loss").json()["x_kind"] == "step"
    assert client.get("/api/runs/1/metrics/loss", params={"x": "epoch"}).status_code == 400
    assert client.get("/api/runs/1/metrics/loss", params={"x": "metric:nope"}).status_code == 404


@pytest.mark.parametrize("x", ["step", "wall", "metric:acc"])
def test_a_running_runs_metric_gains_points_on_every_request(backend, x):
    """No stale cache: points added to a RUNNING run are in the next answer, on any x axis."""
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    steps = list(range(10))
    backend.write(
        1,
        status="RUNNING",
        heartbeat=now,
        start=now - timedelta(seconds=5),
        metrics={
            "loss": (steps, [float(s) for s in steps]),
            "acc": (steps, [s / 10 for s in steps]),
        },
    )
    with TestClient(create_app(backend.open())) as c:
        first = c.get("/api/runs/1/metrics/loss", params={"x": x}).json()
        assert first["total"] == 10
        more = list(range(10, 15))
        if backend.kind == "file":
            path = backend.target / "1" / "metrics.json"
            doc = json.loads(path.read_text())
            for name, scale in (("loss", 1.0), ("acc", 0.1)):
                doc[name]["steps"] += more
                doc[name]["values"] += [s * scale for s in more]
                doc[name]["timestamps"] += [doc[name]["timestamps"][-1]] * len(more)
            path.write_text(json.dumps(doc))
        else:
            for name, scale in (("loss", 1.0), ("acc", 0.1)):
                backend.target.metrics.update_one(
                    {"run_id": 1, "name": name},
                    {
                        "$push": {
                            "steps": {"$each": more},
                            "values": {"$each": [s * scale for s in more]},
                            "timestamps": {"$each": [now.replace(tzinfo=None)] * len(more)},
                        }
                    },
                )
            backend.target.runs.update_one(
                {"_id": 1},
                {"$set": {"heartbeat": (now + timedelta(seconds=1)).replace(tzinfo=None)}},
            )
        second = c.get("/api/runs/1/metrics/loss", params={"x": x}).json()
        assert second["total"] == 15 and second["values"][-1] == 14


def test_metric_points_over_the_limit_are_refused(client):
    """More plotted points than MAX_PLOT_POINTS is a 413 naming the limit."""
    resp = client.get("/api/runs/1/metrics/loss", params={"points": limits.MAX_PLOT_POINTS + 1})
    assert resp.status_code == 413 and "Points of a plotted metric" in resp.json()["error"]


def test_export_never_writes_a_spreadsheet_formula(backend):
    """Text a spreadsheet would run (=, +, -, @) is exported with a leading apostrophe."""
    backend.write(1, comment='=HYPERLINK("http://evil.example")', result=-1.5)
    with TestClient(create_app(backend.open())) as c:
        rows = list(csv.DictReader(io.StringIO(c.get("/api/export.csv").text)))
    assert rows[0]["comment"] == '\'=HYPERLINK("http://evil.example")'
    assert rows[0]["result"] == "-1.5"

"""FileStorageObserver: Sacred's file layout, field by field, and what goes beyond it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from observer_backends import HOST, META, at, md5_bytes, sacred_python

from sacredlite.errors import ObserverError
from sacredlite.formats.file import (
    LIVE_LIMIT,
    METRICS_FILE,
    SIDE_FILE,
    MetricsWriter,
    dump_metrics,
    finalize_metrics,
    read_metrics,
)
from sacredlite.observers import FileStorageObserver

CONFIG = {"lr": 0.1, "seed": 3}
THIS_CHECKOUT = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]
    ),
}
"""The environment of child processes: they import sacredlite from this checkout."""


def started(obs: FileStorageObserver, ex_info: dict[str, Any], _id: Any = None) -> Any:
    """Call started_event with realistic values; return the run id."""
    return obs.started_event(ex_info, "main", HOST, at(0), CONFIG, META, _id)


def load(path: Path) -> Any:
    """Return the parsed JSON file at *path*."""
    return json.loads(path.read_text())


class TestLayout:
    def test_started_run_writes_sacred_files(self, tmp_path: Path, ex_info: dict[str, Any]) -> None:
        """started_event writes run.json, config.json and an empty cout.txt as Sacred does."""
        obs = FileStorageObserver(tmp_path / "runs")
        run_id = started(obs, ex_info)
        run_dir = tmp_path / "runs" / "1"
        assert run_id == "1" and obs.dir == str(run_dir)
        assert sorted(os.listdir(run_dir)) == ["config.json", "cout.txt", "run.json"]
        run = load(run_dir / "run.json")
        md5 = {rel: m for rel, m in ex_info["sources"]}
        diff_md5 = md5_bytes(ex_info["repositories"][0]["diff"].encode())
        assert run == {
            "experiment": {
                "name": "contract_exp",
                "base_dir": ex_info["base_dir"],
                "mainfile": "exp.py",
                "doc": "An experiment.",
                "dependencies": ["numpy==2.4.6", "sacredlite==0.1.0"],
                "sources": [
                    ["exp.py", f"_sources/exp_{md5['exp.py']}.py"],
                    ["lib/util.py", f"_sources/util_{md5['lib/util.py']}.py"],
                ],
                "repositories": [
                    {
                        "url": "git@github.com:me/proj.git",
                        "commit": "a" * 40,
                        "dirty": True,
                        "diff_file": f"_sources/proj_{diff_md5}.diff",
                    }
                ],
            },
            "command": "main",
            "host": HOST,
            "start_time": "2026-11-28T00:32:23.123000",
            "meta": META,
            "status": "RUNNING",
            "resources": [],
            "artifacts": [],
            "heartbeat": None,
        }
        assert load(run_dir / "config.json") == CONFIG
        assert (run_dir / "cout.txt").read_bytes() == b""
        assert (tmp_path / "runs" / "_sources" / f"exp_{md5['exp.py']}.py").read_bytes() == (
            b"print('hello')\n"
        )
        assert (tmp_path / "runs" / f"_sources/proj_{diff_md5}.diff").read_text() == (
            ex_info["repositories"][0]["diff"]
        )

    def test_json_files_have_sacreds_formatting(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """JSON files are laid out as Sacred writes them (sort_keys, indent=2)."""
        obs = FileStorageObserver(tmp_path)
        started(obs, ex_info)
        obs.log_metrics({"b": {"steps": [0], "values": [1.5], "timestamps": [at(1)]}}, {})
        obs.completed_event(at(2), 3)
        for name in ("run.json", "config.json", "metrics.json"):
            text = (tmp_path / "1" / name).read_text()
            assert text == json.dumps(json.loads(text), sort_keys=True, indent=2), name

    def test_heartbeat_stores_whole_output_and_rewrites_json(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """Each heartbeat carries the whole output; cout.txt equals it after every beat."""
        obs = FileStorageObserver(tmp_path)
        started(obs, ex_info)
        obs.heartbeat_event({"a": 1}, "line 1\n", at(1), None)
        assert (tmp_path / "1" / "cout.txt").read_text(encoding="utf-8") == "line 1\n"
        obs.heartbeat_event({"a": 2}, "line 1\nlínea 2\n", at(2.5), 0.25)
        run = load(tmp_path / "1" / "run.json")
        assert (run["heartbeat"], run["result"]) == ("2026-11-28T00:32:25.623000", 0.25)
        assert load(tmp_path / "1" / "info.json") == {"a": 2}
        assert (tmp_path / "1" / "cout.txt").read_text(encoding="utf-8") == "line 1\nlínea 2\n"
        assert not FileStorageObserver.incremental_output

    @pytest.mark.parametrize(
        "texts",
        [
            ["a\n", "a\nb\n", "a\nb\nc"],  # growing: appended
            ["a\n10%", "a\n50%", "a\n100%\nnext"],  # a progress bar redraws the last line
            ["ä\nbé", "ä\nb", "ä\n"],  # the last line shrinks (multi-byte characters)
            ["one\ntwo\n", "ONE\ntwo\n", ""],  # earlier text changes: cout.txt is replaced
        ],
        ids=["append", "last-line", "shrink", "replace"],
    )
    def test_cout_follows_every_heartbeat(
        self, tmp_path: Path, ex_info: dict[str, Any], texts: list[str]
    ) -> None:
        """cout.txt holds exactly the latest whole output, however it changed."""
        obs = FileStorageObserver(tmp_path)
        started(obs, ex_info)
        for i, text in enumerate(texts):
            obs.heartbeat_event({}, text, at(i), None)
            assert (tmp_path / "1" / "cout.txt").read_text(encoding="utf-8") == text

    def test_naive_times_are_stored_as_given(self, tmp_path: Path, ex_info: dict[str, Any]) -> None:
        """Naive datetimes (UTC, as Sacred passes them) are stored with isoformat()."""
        obs = FileStorageObserver(tmp_path)
        start, beat = datetime(1999, 5, 4, 3, 2, 1), datetime(1999, 5, 5, 5, 5, 5, 5)
        obs.started_event(ex_info, "main", HOST, start, CONFIG, META, None)
        obs.heartbeat_event({}, "", beat, None)
        run = load(tmp_path / "1" / "run.json")
        assert (run["start_time"], run["heartbeat"]) == (start.isoformat(), beat.isoformat())

    def test_empty_info_writes_no_info_json(self, tmp_path: Path, ex_info: dict[str, Any]) -> None:
        """Like Sacred, info.json appears only once info has content."""
        obs = FileStorageObserver(tmp_path)
        started(obs, ex_info)
        obs.heartbeat_event({}, "", at(1), None)
        assert not (tmp_path / "1" / "info.json").exists()

    def test_terminal_events(self, tmp_path: Path, ex_info: dict[str, Any]) -> None:
        """completed, failed and interrupted set status, stop_time, result and fail_trace."""
        obs = FileStorageObserver(tmp_path)
        started(obs, ex_info)
        obs.completed_event(at(9), {"acc": 1})
        started(obs, ex_info)
        obs.failed_event(at(8), ["Traceback:\n", "KeyError: 'x'\n"])
        started(obs, ex_info)
        obs.interrupted_event(at(7), "TIMEOUT")
        runs = [load(tmp_path / str(i) / "run.json") for i in (1, 2, 3)]
        picked = [(r["status"], r["stop_time"], r.get("result"), r.get("fail_trace")) for r in runs]
        assert picked == [
            ("COMPLETED", "2026-11-28T00:32:32.123000", {"acc": 1}, None),
            ("FAILED", "2026-11-28T00:32:31.123000", None, ["Traceback:\n", "KeyError: 'x'\n"]),
            ("TIMEOUT", "2026-11-28T00:32:30.123000", None, None),
        ]

    def test_non_json_values_are_jsonpickled(self, tmp_path: Path, ex_info: dict[str, Any]) -> None:
        """Tuples, datetimes, int keys and numpy values are jsonpickled as Sacred does."""
        import jsonpickle
        import jsonpickle.ext.numpy
        import numpy as np

        jsonpickle.ext.numpy.register_handlers()
        config = {"t": (1, 2), "when": datetime(2020, 1, 2), "k": {1: "one"}, "a": np.arange(3)}
        obs = FileStorageObserver(tmp_path)
        obs.started_event(ex_info, "main", HOST, at(0), config, META, None)
        obs.completed_event(at(1), np.float32(0.5))
        stored = load(tmp_path / "1" / "config.json")
        assert stored == json.loads(jsonpickle.encode(config, keys=True))
        assert stored["t"] == {"py/tuple": [1, 2]}
        restored = jsonpickle.decode(json.dumps(stored), keys=True)
        assert restored["t"] == (1, 2) and restored["k"] == {1: "one"}
        assert list(restored["a"]) == [0, 1, 2]
        result = load(tmp_path / "1" / "run.json")["result"]
        assert jsonpickle.decode(json.dumps(result), keys=True) == np.float32(0.5)

    def test_naive_and_offset_times_are_stored_as_naive_utc(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """Aware times are converted to UTC; naive times are taken as UTC already."""
        obs = FileStorageObserver(tmp_path)
        plus2 = timezone(timedelta(hours=2))
        obs.started_event(
            ex_info, "main", HOST, datetime(2026, 1, 1, 12, tzinfo=plus2), {}, {}, None
        )
        obs.completed_event(datetime(2026, 1, 1, 11, 0, 0, 5), None)
        run = load(tmp_path / "1" / "run.json")
        assert (run["start_time"], run["stop_time"]) == (
            "2026-01-01T10:00:00",
            "2026-01-01T11:00:00.000005",
        )


class TestFiles:
    def test_artifacts_and_resources(self, tmp_path: Path, ex_info: dict[str, Any]) -> None:
        """Artifacts are copied under their names; resources once into _resources."""
        obs = FileStorageObserver(tmp_path / "runs")
        started(obs, ex_info)
        (tmp_path / "plot.png").write_bytes(b"png")
        (tmp_path / "data.csv").write_bytes(b"1,2\n")
        obs.artifact_event("plots/loss.png", str(tmp_path / "plot.png"), {"k": 1}, "image/png")
        obs.artifact_event("plots/loss.png", str(tmp_path / "plot.png"))
        obs.resource_event(str(tmp_path / "data.csv"))
        started(obs, ex_info)
        obs.resource_event(str(tmp_path / "data.csv"))
        digest = md5_bytes(b"1,2\n")
        stored = os.path.join(str(tmp_path / "runs"), "_resources", f"data_{digest}.csv")
        run1 = load(tmp_path / "runs" / "1" / "run.json")
        assert run1["artifacts"] == ["plots/loss.png"]
        assert run1["resources"] == [[str(tmp_path / "data.csv"), stored]]
        assert (tmp_path / "runs" / "1" / "plots" / "loss.png").read_bytes() == b"png"
        assert os.listdir(tmp_path / "runs" / "_resources") == [os.path.basename(stored)]

    @pytest.mark.parametrize(
        "name", ["run.json", "config.json", "cout.txt", "metrics.json", "info.json"]
    )
    def test_artifact_cannot_overwrite_observer_files(
        self, tmp_path: Path, ex_info: dict[str, Any], name: str
    ) -> None:
        """An artifact named like one of the observer's files raises FileExistsError (Sacred's)."""
        obs = FileStorageObserver(tmp_path)
        started(obs, ex_info)
        (tmp_path / "x").write_text("x")
        with pytest.raises(FileExistsError, match=f"Artifact name '{name}' would overwrite"):
            obs.artifact_event(name, str(tmp_path / "x"))
        with pytest.raises(FileExistsError):
            obs.save_file(str(tmp_path / "x"), name)

    def test_artifact_cannot_leave_run_dir(self, tmp_path: Path, ex_info: dict[str, Any]) -> None:
        """An artifact name with '..' or an absolute path is refused."""
        obs = FileStorageObserver(tmp_path)
        started(obs, ex_info)
        (tmp_path / "x").write_text("x")
        for name in ("../escape.txt", "/tmp/abs.txt"):
            with pytest.raises(ObserverError, match="leaves the run directory"):
                obs.artifact_event(name, str(tmp_path / "x"))

    def test_copy_sources_false_records_original_paths(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """With copy_sources=False nothing is copied and the diff stays inline."""
        obs = FileStorageObserver(tmp_path / "runs", copy_sources=False)
        started(obs, ex_info)
        run = load(tmp_path / "runs" / "1" / "run.json")
        expected = os.path.relpath(os.path.join(ex_info["base_dir"], "exp.py"), tmp_path / "runs")
        assert run["experiment"]["sources"][0] == ["exp.py", expected]
        assert run["experiment"]["repositories"][0]["diff"] == ex_info["repositories"][0]["diff"]
        assert not (tmp_path / "runs" / "_sources").exists()

    def test_custom_resource_and_source_dirs(self, tmp_path: Path, ex_info: dict[str, Any]) -> None:
        """resource_dir and source_dir move the stores; stored paths follow them."""
        obs = FileStorageObserver(
            tmp_path / "runs", resource_dir=tmp_path / "res", source_dir=tmp_path / "src"
        )
        started(obs, ex_info)
        run = load(tmp_path / "runs" / "1" / "run.json")
        assert run["experiment"]["sources"][0][1].startswith("../src/exp_")
        assert len(os.listdir(tmp_path / "src")) == 3  # two sources and the diff

    def test_missing_source_aborts_before_run_dir(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """A source that cannot be read raises ObserverError and creates no run directory."""
        os.remove(os.path.join(ex_info["base_dir"], "exp.py"))
        obs = FileStorageObserver(tmp_path / "runs")
        with pytest.raises(ObserverError, match="cannot store source .*exp.py"):
            started(obs, ex_info)
        assert not (tmp_path / "runs" / "1").exists()

    def test_template_renders_report(self, tmp_path: Path, ex_info: dict[str, Any]) -> None:
        """A mako template is rendered to report<ext> when the run ends."""
        pytest.importorskip("mako")
        template = tmp_path / "t.txt"
        template.write_text("${run['status']} ${config['lr']} ${cout}")
        obs = FileStorageObserver(tmp_path / "runs", template=template)
        started(obs, ex_info)
        obs.heartbeat_event({}, "out", at(1), None)
        obs.completed_event(at(2), None)
        assert (tmp_path / "runs" / "1" / "report.txt").read_text() == "COMPLETED 0.1 out"

    def test_missing_template_raises_file_not_found(self, tmp_path: Path) -> None:
        """A template path that is not a file raises FileNotFoundError, as in Sacred."""
        with pytest.raises(FileNotFoundError, match="template '.*nope.html' is not a file"):
            FileStorageObserver(tmp_path / "runs", template=tmp_path / "nope.html")

    def test_default_template_in_basedir(self, tmp_path: Path, ex_info: dict[str, Any]) -> None:
        """basedir/template.html is rendered to report.html without being asked, as in Sacred."""
        pytest.importorskip("mako")
        (tmp_path / "runs").mkdir()
        (tmp_path / "runs" / "template.html").write_text("<p>${run['status']}</p>")
        obs = FileStorageObserver(tmp_path / "runs")
        started(obs, ex_info)
        obs.failed_event(at(1), ["x\n"])
        assert (tmp_path / "runs" / "1" / "report.html").read_text() == "<p>FAILED</p>"


class TestBasedir:
    def test_basedir_that_is_a_file_is_refused(self, tmp_path: Path) -> None:
        """A basedir naming a file fails at construction with the path and the fix."""
        (tmp_path / "f").write_text("")
        with pytest.raises(ObserverError, match=r"basedir '.*f' is a file, not a directory: pass"):
            FileStorageObserver(tmp_path / "f")

    def test_basedir_under_a_file_is_refused(self, tmp_path: Path) -> None:
        """A basedir that cannot be created because a parent is a file fails early."""
        (tmp_path / "f").write_text("")
        with pytest.raises(ObserverError, match="cannot be created because"):
            FileStorageObserver(tmp_path / "f" / "runs")

    def test_basedir_replaced_by_file_fails_at_start(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """If the basedir became a file after construction, started_event raises ObserverError."""
        obs = FileStorageObserver(tmp_path / "runs")
        (tmp_path / "runs").write_text("")
        with pytest.raises(ObserverError, match="is a file"):
            started(obs, ex_info)

    @pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
    def test_unwritable_basedir_is_refused(self, tmp_path: Path) -> None:
        """A basedir in a read-only directory fails at construction."""
        (tmp_path / "ro").mkdir(mode=0o555)
        with pytest.raises(ObserverError, match="is not writable"):
            FileStorageObserver(tmp_path / "ro" / "runs")

    @pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs Linux's /proc")
    def test_uncreatable_basedir_fails_before_the_run(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """A basedir that cannot be created (even by root) raises ObserverError by the start."""
        with pytest.raises(ObserverError, match="'/proc/sacredlite_runs'.*writable"):
            started(FileStorageObserver("/proc/sacredlite_runs"), ex_info)

    def test_create_is_a_deprecated_alias(self, tmp_path: Path) -> None:
        """FileStorageObserver.create warns and builds the same observer."""
        with pytest.deprecated_call():
            obs = FileStorageObserver.create(str(tmp_path), priority=5)
        assert (obs.basedir, obs.priority) == (str(tmp_path), 5)

    def test_given_id_that_exists_is_refused(self, tmp_path: Path, ex_info: dict[str, Any]) -> None:
        """Starting a run with an id whose directory holds a run raises FileExistsError."""
        obs = FileStorageObserver(tmp_path)
        assert started(obs, ex_info, _id=7) == 7  # a given id comes back as given
        with pytest.raises(FileExistsError, match="run id 7 is taken"):
            started(obs, ex_info, _id=7)

    @pytest.mark.parametrize("bad", ["../x", "a/b", "..", ""])
    def test_id_that_is_a_path_is_refused(
        self, tmp_path: Path, ex_info: dict[str, Any], bad: str
    ) -> None:
        """A given run id that would leave basedir is refused with ObserverError."""
        with pytest.raises(ObserverError, match="cannot name a directory"):
            started(FileStorageObserver(tmp_path / "runs"), ex_info, _id=bad)

    def test_started_run_takes_over_queued_dir(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """A queued run's directory is reused when the run starts with its id."""
        obs = FileStorageObserver(tmp_path)
        run_id = obs.queued_event(ex_info, "main", HOST, at(0), CONFIG, META, None)
        assert load(tmp_path / "1" / "run.json")["status"] == "QUEUED"
        assert started(obs, ex_info, _id=run_id) == "1"
        assert load(tmp_path / "1" / "run.json")["status"] == "RUNNING"

    def test_queued_run_json_has_sacreds_keys(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """A queued run's run.json holds exactly Sacred's keys (no queue time, no cout.txt)."""
        obs = FileStorageObserver(tmp_path)
        run_id = obs.queued_event(ex_info, "main", HOST, at(0), CONFIG, META, None)
        assert run_id == "1"
        run = load(tmp_path / "1" / "run.json")
        assert sorted(run) == ["command", "experiment", "host", "meta", "status"]
        assert (run["status"], run["host"], run["meta"]) == ("QUEUED", HOST, META)
        assert sorted(os.listdir(tmp_path / "1")) == ["config.json", "run.json"]

    def test_taken_id_makes_the_next_one_be_tried(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """When the next id is taken by someone else, later numbers are tried with mkdir."""
        first, other = FileStorageObserver(tmp_path), FileStorageObserver(tmp_path)
        assert started(first, ex_info) == "1"
        assert [started(other, ex_info) for _ in range(2)] == ["2", "3"]
        assert started(first, ex_info) == "4"

    def test_lagging_listing_is_overcome_by_mkdir(
        self, tmp_path: Path, ex_info: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A directory listing that misses existing runs (network file systems) still gives
        a fresh id: mkdir fails on the taken ones and the next number is tried."""
        for name in ("1", "2", "3"):
            (tmp_path / name).mkdir()

        class EmptyListing:
            def __enter__(self) -> list[Any]:
                return []

            def __exit__(self, *exc: object) -> None:
                return None

        monkeypatch.setattr(os, "scandir", lambda path: EmptyListing())
        assert started(FileStorageObserver(tmp_path), ex_info) == "4"

    def test_mkdir_that_always_fails_raises_file_exists_error(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """If every mkdir reports a taken id, the observer gives up with FileExistsError."""
        from sacredlite.formats.file import MAX_ID_ATTEMPTS

        calls = []

        def taken(path: str, mode: int = 0o777) -> None:
            calls.append(path)
            raise FileExistsError(path)

        obs = FileStorageObserver(tmp_path)
        monkeypatch.setattr(os, "mkdir", taken)
        with pytest.raises(FileExistsError, match=f"no free run id .* after {MAX_ID_ATTEMPTS}"):
            started(obs, {"name": "e", "base_dir": str(tmp_path), "sources": []})
        assert len([p for p in calls if os.path.basename(p).isdigit()]) == MAX_ID_ATTEMPTS

    def test_equal_observers_share_a_basedir(self, tmp_path: Path) -> None:
        """Observers are equal (and hash alike) when they store into the same basedir."""
        a, b, c = (FileStorageObserver(tmp_path / d) for d in ("x", "x", "y"))
        assert a == b and hash(a) == hash(b)
        assert a != c and a != "x"

    def test_numeric_ids_skip_other_entries(self, tmp_path: Path, ex_info: dict[str, Any]) -> None:
        """The next id is one more than the largest numeric directory; other names are ignored."""
        for name in ("3", "_sources", "abc", "10x"):
            (tmp_path / name).mkdir()
        (tmp_path / "99").write_text("a file, not a run")
        assert started(FileStorageObserver(tmp_path), ex_info) == "4"


RACE_SCRIPT = """
import json, os, sys, time
from datetime import datetime, timezone
from sacredlite.observers import FileStorageObserver
basedir, go, ex_info = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
obs = FileStorageObserver(basedir)
now = datetime.now(timezone.utc)
while not os.path.exists(go):  # start together, to collide as often as possible
    time.sleep(0.001)
ids = []
for _ in range(10):
    ids.append(obs.started_event(ex_info, "main", {}, now, {}, {}, None))
    obs.completed_event(now, None)
print(json.dumps(ids))
"""


def test_concurrent_processes_get_distinct_ids(tmp_path: Path, ex_info: dict[str, Any]) -> None:
    """8 processes starting 10 runs each in one directory at once never share a run id."""
    basedir, go = tmp_path / "runs", tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE_SCRIPT, str(basedir), str(go), json.dumps(ex_info)],
            stdout=subprocess.PIPE,
            text=True,
            env=THIS_CHECKOUT,
        )
        for _ in range(8)
    ]
    time.sleep(0.3)
    go.touch()
    outputs = [proc.communicate(timeout=60)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 8
    ids = sorted(int(i) for out in outputs for i in json.loads(out))
    assert ids == list(range(1, 81))
    assert all(load(basedir / str(i) / "run.json")["status"] == "COMPLETED" for i in ids)
    assert len(os.listdir(basedir / "_sources")) == 3


class TestMetrics:
    def test_metrics_json_is_complete_after_each_batch(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """While metrics are small, metrics.json holds every point after each log_metrics."""
        obs = FileStorageObserver(tmp_path)
        started(obs, ex_info)
        obs.log_metrics(
            {"loss": {"steps": [0, 1], "values": [0.5, 0.4], "timestamps": [at(1), at(2)]}}, {}
        )
        assert load(tmp_path / "1" / METRICS_FILE)["loss"]["steps"] == [0, 1]
        obs.log_metrics(
            {
                "loss": {"steps": [2], "values": [0.3], "timestamps": [at(3)]},
                "acc": {"steps": [0], "values": [1], "timestamps": [at(3)]},
            },
            {},
        )
        live = load(tmp_path / "1" / METRICS_FILE)
        assert not (tmp_path / "1" / SIDE_FILE).exists()
        obs.completed_event(at(4), None)
        assert load(tmp_path / "1" / METRICS_FILE) == live == read_metrics(tmp_path / "1")
        assert live == {
            "acc": {"steps": [0], "values": [1], "timestamps": ["2026-11-28T00:32:26.123000"]},
            "loss": {
                "steps": [0, 1, 2],
                "values": [0.5, 0.4, 0.3],
                "timestamps": [
                    "2026-11-28T00:32:24.123000",
                    "2026-11-28T00:32:25.123000",
                    "2026-11-28T00:32:26.123000",
                ],
            },
        }

    def test_empty_batch_writes_an_empty_metrics_json(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """An empty log_metrics (Sacred's Run sends one every beat) leaves metrics.json "{}"."""
        obs = FileStorageObserver(tmp_path)
        started(obs, ex_info)
        obs.log_metrics({}, {})
        assert (tmp_path / "1" / METRICS_FILE).read_text() == "{}"
        obs.log_metrics({"m": {"steps": [0], "values": [1], "timestamps": [at(1)]}}, {})
        obs.log_metrics({}, {})
        obs.completed_event(at(2), None)
        assert load(tmp_path / "1" / METRICS_FILE)["m"]["steps"] == [0]

    def test_points_past_the_bound_are_appended_to_the_side_file(self, tmp_path: Path) -> None:
        """Past live_limit, metrics.json stays put and batches go to the side file."""
        writer = MetricsWriter(tmp_path, live_limit=40)
        writer.add({"loss": {"steps": [0], "values": [0.5], "timestamps": [at(1)]}})
        first = (tmp_path / METRICS_FILE).read_text()
        writer.add({"loss": {"steps": [1, 2], "values": [0.4, 0.3], "timestamps": [at(2)] * 2}})
        writer.add({"acc": {"steps": [0], "values": [1], "timestamps": [at(3)]}})
        assert (tmp_path / METRICS_FILE).read_text() == first
        lines = [json.loads(line) for line in (tmp_path / SIDE_FILE).read_text().splitlines()]
        stamp = "2026-11-28T00:32:25.123000"
        assert lines == [
            ["base", {"loss": 1}],
            {"loss": {"steps": [1, 2], "values": [0.4, 0.3], "timestamps": [stamp, stamp]}},
            {"acc": {"steps": [0], "values": [1], "timestamps": ["2026-11-28T00:32:26.123000"]}},
        ]
        live = read_metrics(tmp_path)
        assert live["loss"]["steps"] == [0, 1, 2] and live["acc"]["steps"] == [0]
        writer.finish()
        assert sorted(os.listdir(tmp_path)) == [METRICS_FILE]
        assert load(tmp_path / METRICS_FILE) == live

    def test_observer_switches_to_the_side_file_past_live_limit(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """A run whose points outgrow LIVE_LIMIT stops rewriting metrics.json until its end."""
        obs = FileStorageObserver(tmp_path)
        started(obs, ex_info)
        points = 20_000  # about 0.8 MB of JSON per batch
        for batch in range(3):
            steps = list(range(batch * points, (batch + 1) * points))
            obs.log_metrics(
                {"m": {"steps": steps, "values": [0.5] * points, "timestamps": [at(1)] * points}},
                {},
            )
            in_json = len(load(tmp_path / "1" / METRICS_FILE)["m"]["steps"])
            assert in_json == points  # the second batch would pass LIVE_LIMIT: it is appended
            assert len(read_metrics(tmp_path / "1")["m"]["steps"]) == (batch + 1) * points
        assert (tmp_path / "1" / SIDE_FILE).stat().st_size > LIVE_LIMIT
        obs.completed_event(at(2), None)
        assert load(tmp_path / "1" / METRICS_FILE)["m"]["steps"] == list(range(3 * points))
        assert not (tmp_path / "1" / SIDE_FILE).exists()

    def test_numpy_values_and_special_floats(self, tmp_path: Path) -> None:
        """numpy scalars are stored as plain numbers; NaN and infinities survive."""
        np = pytest.importorskip("numpy")
        writer = MetricsWriter(tmp_path)
        values = [np.float32(0.5), np.int64(3), np.float64(0.25), float("nan"), float("-inf")]
        writer.add(
            {
                "m": {
                    "steps": [np.int64(i) for i in range(5)],
                    "values": values,
                    "timestamps": [at(0)] * 5,
                }
            }
        )
        writer.finish()
        stored = read_metrics(tmp_path)["m"]
        assert stored["steps"] == [0, 1, 2, 3, 4]
        assert stored["values"][:3] == [0.5, 3, 0.25] and stored["values"][4] == float("-inf")
        assert stored["values"][3] != stored["values"][3]  # NaN

    def test_final_file_matches_sacreds_bytes(self, tmp_path: Path) -> None:
        """metrics.json equals json.dumps(sort_keys=True, indent=2) of the merged series."""
        writer = MetricsWriter(tmp_path)
        writer.add(
            {"b": {"steps": [0], "values": ["text, with [brackets]"], "timestamps": [at(0)]}}
        )
        writer.add(
            {"a": {"steps": [0, 1], "values": [[1, 2], {"z": 1}], "timestamps": [at(0), at(1)]}}
        )
        writer.add({"b": {"steps": [], "values": [], "timestamps": []}})
        writer.add({"b": {"steps": [1], "values": [None], "timestamps": ["2026-01-01T00:00:00"]}})
        writer.finish()
        text = (tmp_path / METRICS_FILE).read_text()
        merged = read_metrics(tmp_path)
        assert text == json.dumps(merged, sort_keys=True, indent=2)
        assert merged["b"]["values"] == ["text, with [brackets]", None]
        assert dump_metrics(merged) == text

    def test_torn_last_line_is_ignored(self, tmp_path: Path) -> None:
        """A side file cut mid-line (a crash) still reads; the torn batch is dropped."""
        writer = MetricsWriter(tmp_path, live_limit=0)
        writer.add({"m": {"steps": [0], "values": [1.0], "timestamps": [at(0)]}})
        writer.add({"m": {"steps": [1], "values": [2.0], "timestamps": [at(1)]}})
        side = tmp_path / SIDE_FILE
        side.write_bytes(side.read_bytes()[:-15])
        assert read_metrics(tmp_path)["m"]["values"] == [1.0]
        assert finalize_metrics(tmp_path) is True
        assert load(tmp_path / METRICS_FILE)["m"]["steps"] == [0]

    def test_killed_writer_leaves_readable_side_file(self, tmp_path: Path) -> None:
        """A process killed while appending metrics leaves every complete batch readable."""
        script = (
            "import sys\n"
            "from datetime import datetime, timezone\n"
            "from sacredlite.formats.file import MetricsWriter\n"
            "w = MetricsWriter(sys.argv[1])\n"
            "now = datetime.now(timezone.utc)\n"
            "i = 0\n"
            "while True:\n"
            "    w.add({'m': {'steps': list(range(i, i + 5000)), 'values': [0.5] * 5000,\n"
            "                 'timestamps': [now] * 5000}})\n"
            "    i += 5000\n"
        )
        proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], env=THIS_CHECKOUT)
        try:
            deadline = time.monotonic() + 20
            while (
                not (tmp_path / SIDE_FILE).exists()
                or (tmp_path / SIDE_FILE).stat().st_size < 2_000_000
            ):
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.01)
        finally:
            proc.kill()
            proc.wait()
        steps = read_metrics(tmp_path)["m"]["steps"]
        assert steps == list(range(len(steps))) and len(steps) % 5000 == 0 and steps

    def test_leftover_side_file_beside_final_is_ignored(self, tmp_path: Path) -> None:
        """A side file left beside the final metrics.json (a crash) is not counted twice."""
        writer = MetricsWriter(tmp_path, live_limit=0)
        writer.add({"m": {"steps": [0], "values": [1], "timestamps": [at(0)]}})
        side = (tmp_path / SIDE_FILE).read_bytes()
        writer.finish()
        (tmp_path / SIDE_FILE).write_bytes(side)  # a crash between the two steps
        assert read_metrics(tmp_path)["m"]["steps"] == [0]
        assert finalize_metrics(tmp_path) is False and not (tmp_path / SIDE_FILE).exists()

    def test_side_file_of_earlier_versions_is_still_read(self, tmp_path: Path) -> None:
        """A side file without a base line counts only while metrics.json is missing."""
        line = {"m": {"steps": [0], "values": [1], "timestamps": ["2026-01-01T00:00:00"]}}
        (tmp_path / SIDE_FILE).write_text(json.dumps(line) + "\n")
        assert read_metrics(tmp_path) == line
        (tmp_path / METRICS_FILE).write_text(json.dumps(line))
        (tmp_path / SIDE_FILE).write_text(json.dumps(line) + "\n")
        assert read_metrics(tmp_path) == line  # metrics.json is complete: not counted twice

    def test_failed_append_is_retried_on_a_fresh_line(self, tmp_path: Path) -> None:
        """After a failed write, the retry starts a new line so the torn one is skipped."""
        writer = MetricsWriter(tmp_path, live_limit=0)
        writer.add({"m": {"steps": [0], "values": [1], "timestamps": [at(0)]}})
        with open(tmp_path / SIDE_FILE, "a") as file:
            file.write('{"m":{"steps":[1')  # what a write interrupted by ENOSPC leaves
        writer._resync = True
        writer.add({"m": {"steps": [1], "values": [2], "timestamps": [at(1)]}})
        assert read_metrics(tmp_path)["m"]["steps"] == [0, 1]

    def test_metrics_after_end_are_folded_in(self, tmp_path: Path, ex_info: dict[str, Any]) -> None:
        """Points logged after the terminal event still reach metrics.json."""
        obs = FileStorageObserver(tmp_path)
        started(obs, ex_info)
        obs.log_metrics({"m": {"steps": [0], "values": [1], "timestamps": [at(0)]}}, {})
        obs.completed_event(at(1), None)
        obs.log_metrics({"m": {"steps": [1], "values": [2], "timestamps": [at(2)]}}, {})
        assert load(tmp_path / "1" / METRICS_FILE)["m"]["steps"] == [0, 1]
        assert not (tmp_path / "1" / SIDE_FILE).exists()

    def test_spilled_points_give_the_same_file(self, tmp_path: Path) -> None:
        """Past its memory budget the writer spills to disk; metrics.json is byte-identical."""
        batches = [
            {"a": {"steps": [0, 1], "values": [0.5, "s, [x]"], "timestamps": [at(0), at(1)]}},
            {"b": {"steps": [], "values": [], "timestamps": []}},
            {"a": {"steps": [2], "values": [None], "timestamps": [at(2)]}},
            {"c": {"steps": list(range(50)), "values": [1.5] * 50, "timestamps": [at(3)] * 50}},
            {"a": {"steps": [3], "values": [[1, {"k": 2}]], "timestamps": [at(4)]}},
        ]
        texts = []
        for limit, folder in ((1 << 30, tmp_path / "memory"), (100, tmp_path / "spill")):
            folder.mkdir()
            writer = MetricsWriter(folder, memory_limit=limit)
            for batch in batches:
                writer.add(batch)
            assert (folder / ".metrics_spill").exists() == (limit == 100)
            writer.finish()
            assert sorted(os.listdir(folder)) == [METRICS_FILE]
            texts.append((folder / METRICS_FILE).read_text())
        assert texts[0] == texts[1]
        assert texts[0] == json.dumps(json.loads(texts[0]), sort_keys=True, indent=2)

    def test_points_after_finish_are_merged(self, tmp_path: Path) -> None:
        """A batch added after finish (also after spilling) is merged into metrics.json."""
        writer = MetricsWriter(tmp_path, memory_limit=10)
        writer.add({"a": {"steps": [0], "values": [1], "timestamps": [at(0)]}})
        writer.finish()
        writer.add({"a": {"steps": [1], "values": [2], "timestamps": [at(1)]}})
        writer.finish()
        assert read_metrics(tmp_path)["a"]["steps"] == [0, 1]
        assert sorted(os.listdir(tmp_path)) == [METRICS_FILE]

    def test_million_points_final_write_is_fast(self, tmp_path: Path) -> None:
        """Writing metrics.json for 1,000,000 points over 10 names takes well under 2 s."""
        writer = MetricsWriter(tmp_path)
        stamps = [f"2026-11-28T00:00:{i % 60:02}.{i:06}" for i in range(10_000)]  # cheap to add
        values = [i * 0.001 for i in range(10_000)]
        for batch in range(10):
            steps = list(range(batch * 10_000, (batch + 1) * 10_000))
            writer.add(
                {
                    f"m{n}": {"steps": steps, "values": values, "timestamps": stamps}
                    for n in range(10)
                }
            )
        begin = time.perf_counter()
        writer.finish()
        elapsed = time.perf_counter() - begin
        size = os.path.getsize(tmp_path / METRICS_FILE)
        os.remove(tmp_path / METRICS_FILE)
        assert elapsed < 2.0 and size > 50_000_000


class TestRetry:
    def test_half_written_output_is_cut_before_retry(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """Output a failed heartbeat half-appended is replaced, not duplicated, on retry."""
        obs = FileStorageObserver(tmp_path)
        started(obs, ex_info)
        obs.heartbeat_event({}, "one\n", at(1), None)
        with open(tmp_path / "1" / "cout.txt", "ab") as file:
            file.write(b"tw")  # what a write cut short by a full disk leaves
        obs.heartbeat_event({}, "one\ntwo\n", at(2), None)
        assert (tmp_path / "1" / "cout.txt").read_text() == "one\ntwo\n"

    def test_failed_events_are_retried_without_duplicates(
        self, tmp_path: Path, ex_info: dict[str, Any]
    ) -> None:
        """Through the dispatcher, events that failed to store are stored once when retried."""
        from sacredlite.events import Heartbeat, ResourceOpened, RunCompleted
        from sacredlite.observers.dispatch import Dispatcher

        obs = FileStorageObserver(tmp_path / "runs")
        dispatcher = Dispatcher([obs])
        started(obs, ex_info)
        (tmp_path / "data.csv").write_text("1\n")
        run_json = tmp_path / "runs" / "1" / "run.json"
        run_json.unlink()
        run_json.mkdir()  # run.json cannot be replaced now: every save fails
        with pytest.warns(RuntimeWarning, match="failed on ResourceOpened"):
            dispatcher.emit(ResourceOpened(run_id=1, filename=str(tmp_path / "data.csv")))
        dispatcher.emit(Heartbeat(run_id=1, time=at(1), info={}, captured_out="x", new_output="x"))
        assert dispatcher.undelivered()
        run_json.rmdir()
        dispatcher.emit(RunCompleted(run_id=1, time=at(2), result=None))
        dispatcher.finish()
        assert not dispatcher.undelivered()
        run = load(run_json)
        assert (run["status"], len(run["resources"])) == ("COMPLETED", 1)
        assert (tmp_path / "runs" / "1" / "cout.txt").read_text() == "x"


PARITY_DRIVER = """
import hashlib, os, sys
from datetime import datetime, timedelta, timezone
impl, shared = sys.argv[1], sys.argv[2]
if impl == "sacred":
    from sacred.observers import FileStorageObserver
    tz = None  # Sacred's own times are naive UTC
else:
    from sacredlite.observers import FileStorageObserver
    tz = timezone.utc
def T(s):
    return datetime(2026, 11, 28, 0, 32, 23, 123456, tzinfo=tz) + timedelta(seconds=s)
src = os.path.join(shared, "proj", "exp.py")
md5 = hashlib.md5(open(src, "rb").read()).hexdigest()
ex_info = {"name": "e", "base_dir": os.path.join(shared, "proj"), "mainfile": "exp.py",
           "doc": None, "sources": [["exp.py", md5]], "dependencies": ["a==1"],
           "repositories": [{"url": "u", "commit": "c", "dirty": False}]}
o = FileStorageObserver("runs")
o.started_event(dict(ex_info), "main", {"hostname": "h", "ENV": {}}, T(0),
                {"lr": 0.1, "t": (1, 2), "d": {"x": None}, "u": "é"},
                {"command": "main", "options": {"--comment": None}}, None)
o.heartbeat_event({"k": [1, 2]}, "out1\\n", T(1), None)
o.log_metrics({"loss": {"steps": [0, 1], "values": [0.5, float("nan")],
                        "timestamps": [T(1), T(1.5)]}}, {})
o.resource_event(os.path.join(shared, "res.txt"))
o.artifact_event("art.bin", os.path.join(shared, "art.bin"))
o.log_metrics({"loss": {"steps": [2], "values": [0.25], "timestamps": [T(2)]},
               "acc": {"steps": [0], "values": [1], "timestamps": [T(2)]}}, {})
full = impl == "sacred" or not FileStorageObserver.incremental_output
o.heartbeat_event({"k": [1, 2, 3]}, "out1\\nout2 ✓\\n" if full else "out2 ✓\\n", T(2), {"r": 1})
o.completed_event(T(3), (1, 2))
o.started_event(dict(ex_info), "main", {"hostname": "h"}, T(0), {}, {}, None)
o.failed_event(T(1), ["Traceback\\n", "E\\n"])
o.started_event(dict(ex_info), "main", {"hostname": "h"}, T(0), {}, {}, None)
o.interrupted_event(T(1), "TIMEOUT")
"""


@pytest.mark.skipif(
    sacred_python() is None, reason="no Sacred interpreter (bench/setup_sacred_venv.sh)"
)
def test_same_bytes_as_sacred(tmp_path: Path) -> None:
    """The same events give byte-identical files to Sacred 0.8's FileStorageObserver."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "exp.py").write_text("print(1)\n")
    (tmp_path / "res.txt").write_text("x\n")
    (tmp_path / "art.bin").write_bytes(b"\x00art")
    (tmp_path / "drive.py").write_text(PARITY_DRIVER)
    trees = {}
    repo = str(Path(__file__).resolve().parents[2])
    for impl, python in (("sacred", sacred_python()), ("lite", sys.executable)):
        cwd = tmp_path / impl
        cwd.mkdir()
        env = {**os.environ, "PYTHONPATH": repo}
        subprocess.run(
            [python, str(tmp_path / "drive.py"), impl, str(tmp_path)], cwd=cwd, env=env, check=True
        )
        root = cwd / "runs"
        trees[impl] = {
            str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
        }
    assert trees["lite"].keys() == trees["sacred"].keys()
    for name, data in trees["sacred"].items():
        assert trees["lite"][name] == data, name


def test_file_storage_option_stores_a_real_run(tmp_path: Path) -> None:
    """ex.run with --file_storage (the -F flag) stores the run in Sacred's layout."""
    from sacredlite import Experiment

    ex = Experiment("flag_run")

    @ex.main
    def main(_run: Any) -> str:
        print("stored")
        _run.log_scalar("x", 1.5)
        return "ok"

    run = ex.run(options={"--file_storage": str(tmp_path / "runs"), "--capture": "sys"})
    run_dir = tmp_path / "runs" / str(run._id)
    record = load(run_dir / "run.json")
    assert (record["status"], record["result"], record["experiment"]["name"]) == (
        "COMPLETED",
        "ok",
        "flag_run",
    )
    assert "stored\n" in (run_dir / "cout.txt").read_text()
    assert load(run_dir / METRICS_FILE)["x"]["values"] == [1.5]
    assert not (run_dir / SIDE_FILE).exists()
    assert sorted(os.listdir(tmp_path / "runs")) == ["1", "_sources"]

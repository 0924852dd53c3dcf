"""One contract for every observer backend: the same events give the same stored run.

Events go through the real :class:`~sacredlite.observers.base.Dispatcher` (which hands
incremental output to observers that ask for it); each backend's data is read back into
the uniform record described in ``conftest.py`` and compared with ``==``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from observer_backends import HOST, META, Backend, at, md5_bytes, naive

from sacredlite.events import (
    ArtifactAdded,
    Heartbeat,
    MetricsLogged,
    ResourceOpened,
    RunCompleted,
    RunFailed,
    RunInterrupted,
    RunQueued,
    RunStarted,
)
from sacredlite.observers.dispatch import Dispatcher

CONFIG = {"lr": 0.1, "layers": [64, 32], "opt": {"name": "adam", "betas": [0.9, 0.999]}, "seed": 7}


def start(dispatcher: Dispatcher, ex_info: dict[str, Any], run_id: Any = None) -> Any:
    """Start a run through *dispatcher* and return its id."""
    return dispatcher.start(
        RunStarted(
            run_id=run_id,
            time=at(0),
            experiment=ex_info,
            command="main",
            host=HOST,
            config=CONFIG,
            meta=META,
        )
    )


def beat(
    dispatcher: Dispatcher,
    run_id: Any,
    seconds: float,
    output: str,
    new: str,
    info: dict[str, Any],
    result: Any = None,
) -> None:
    """Send a heartbeat whose whole output is *output*, of which *new* is new."""
    dispatcher.emit(
        Heartbeat(
            run_id=run_id,
            time=at(seconds),
            info=info,
            captured_out=output,
            new_output=new,
            result=result,
        )
    )


def series(steps: list[int], values: list[Any], first: float) -> dict[str, list[Any]]:
    """Return one metric's points with timestamps 1 ms apart from ``at(first)``."""
    return {
        "steps": steps,
        "values": values,
        "timestamps": [at(first + i / 1000) for i in range(len(steps))],
    }


def full_run(dispatcher: Dispatcher, ex_info: dict[str, Any], tmp_path: Path) -> Any:
    """Drive a complete run with output, metrics, an artifact and a resource."""
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"\x00\x01weights")
    resource = tmp_path / "data.csv"
    resource.write_text("a,b\n1,2\n")
    run_id = start(dispatcher, ex_info)
    beat(dispatcher, run_id, 1, "epoch 1\n", "epoch 1\n", {"phase": "train"})
    dispatcher.emit(
        MetricsLogged(
            run_id=run_id,
            metrics={"loss": series([0, 1], [0.9, 0.7], 1), "acc": series([0], [0.5], 1)},
        )
    )
    dispatcher.emit(ArtifactAdded(run_id=run_id, name="model.bin", filename=str(artifact)))
    dispatcher.emit(ResourceOpened(run_id=run_id, filename=str(resource)))
    dispatcher.emit(
        MetricsLogged(run_id=run_id, metrics={"loss": series([2, 3], [0.5, float("inf")], 2)})
    )
    beat(dispatcher, run_id, 2, "epoch 1\nepoch 2 ✓\n", "epoch 2 ✓\n", {"phase": "eval"}, 0.5)
    dispatcher.emit(RunCompleted(run_id=run_id, time=at(3), result={"acc": 0.75}))
    dispatcher.finish()
    return run_id


class TestContract:
    def test_complete_run_is_stored_identically(
        self, backend: Backend, observer: Any, ex_info: dict[str, Any], tmp_path: Path
    ) -> None:
        """A completed run with output, metrics, artifacts and resources reads back whole."""
        run_id = full_run(Dispatcher([observer]), ex_info, tmp_path)
        record = backend.read_back(observer, run_id)
        sources = {rel: md5 for rel, md5 in ex_info["sources"]}
        assert record == {
            "experiment": {
                "name": "contract_exp",
                "base_dir": ex_info["base_dir"],
                "mainfile": "exp.py",
                "doc": "An experiment.",
                "dependencies": ["numpy==2.4.6", "sacredlite==0.1.0"],
                "sources": sources,
            },
            "repositories": ex_info["repositories"],
            "command": "main",
            "host": HOST,
            "meta": META,
            "status": "COMPLETED",
            "config": CONFIG,
            "info": {"phase": "eval"},
            "result": {"acc": 0.75},
            "fail_trace": None,
            "start_time": naive(at(0)),
            "heartbeat": naive(at(2)),
            "stop_time": naive(at(3)),
            "queue_time": None,
            "captured_out": "epoch 1\nepoch 2 ✓\n",
            "metrics": {
                "loss": {
                    "steps": [0, 1, 2, 3],
                    "values": [0.9, 0.7, 0.5, float("inf")],
                    "timestamps": [naive(at(1)), naive(at(1.001)), naive(at(2)), naive(at(2.001))],
                },
                "acc": {"steps": [0], "values": [0.5], "timestamps": [naive(at(1))]},
            },
            "artifacts": {"model.bin": b"\x00\x01weights"},
            "resources": [(str(tmp_path / "data.csv"), md5_bytes(b"a,b\n1,2\n"))],
        }

    def test_failed_run_keeps_trace(
        self, backend: Backend, observer: Any, ex_info: dict[str, Any]
    ) -> None:
        """A failed run is FAILED with its traceback lines and stop time."""
        dispatcher = Dispatcher([observer])
        run_id = start(dispatcher, ex_info)
        trace = ["Traceback (most recent call last):\n", "ValueError: boom\n"]
        dispatcher.emit(RunFailed(run_id=run_id, time=at(5), fail_trace=trace))
        dispatcher.finish()
        record = backend.read_back(observer, run_id)
        assert (record["status"], record["fail_trace"], record["stop_time"]) == (
            "FAILED",
            trace,
            naive(at(5)),
        )
        assert record["metrics"] == {} and record["artifacts"] == {}

    @pytest.mark.parametrize("status", ["INTERRUPTED", "TIMEOUT", "MY_STATUS"])
    def test_interrupted_run_keeps_status(
        self, backend: Backend, observer: Any, ex_info: dict[str, Any], status: str
    ) -> None:
        """An interrupted run stores the status it was interrupted with."""
        dispatcher = Dispatcher([observer])
        run_id = start(dispatcher, ex_info)
        dispatcher.emit(MetricsLogged(run_id=run_id, metrics={"x": series([0], [1], 1)}))
        dispatcher.emit(RunInterrupted(run_id=run_id, time=at(4), status=status))
        dispatcher.finish()
        record = backend.read_back(observer, run_id)
        assert (record["status"], record["stop_time"]) == (status, naive(at(4)))
        assert record["metrics"] == {
            "x": {"steps": [0], "values": [1], "timestamps": [naive(at(1))]}
        }

    def test_runs_get_consecutive_ids(
        self, backend: Backend, observer: Any, ex_info: dict[str, Any]
    ) -> None:
        """Runs without a given id are numbered 1, 2, 3 (file storage: "1", "2", "3")."""
        ids = []
        for n in range(3):
            dispatcher = Dispatcher([observer])
            run_id = start(dispatcher, ex_info)
            dispatcher.emit(RunCompleted(run_id=run_id, time=at(1), result=n))
            dispatcher.finish()
            ids.append(run_id)
        assert ids == [backend.run_id(n) for n in (1, 2, 3)]
        assert [backend.read_back(observer, i)["result"] for i in ids] == [0, 1, 2]

    def test_given_id_is_used(
        self, backend: Backend, observer: Any, ex_info: dict[str, Any]
    ) -> None:
        """A run id chosen by a higher-priority observer is used as is."""
        dispatcher = Dispatcher([observer])
        assert start(dispatcher, ex_info, run_id=42) == 42
        dispatcher.emit(RunCompleted(run_id=42, time=at(1), result=None))
        assert backend.read_back(observer, 42)["status"] == "COMPLETED"

    def test_queued_run(self, backend: Backend, observer: Any, ex_info: dict[str, Any]) -> None:
        """A queued run is stored as QUEUED with its config and (if kept) its queue time."""
        run_id = Dispatcher([observer]).start(
            RunQueued(
                run_id=None,
                time=at(0),
                experiment=ex_info,
                command="main",
                host=HOST,
                config=CONFIG,
                meta=META,
            )
        )
        record = backend.read_back(observer, run_id)
        assert (record["status"], record["config"], record["queue_time"]) == (
            "QUEUED",
            CONFIG,
            naive(at(0)) if backend.stores_queue_time else None,
        )
        assert record["start_time"] is None

    def test_input_is_not_mutated(
        self, observer: Any, ex_info: dict[str, Any], tmp_path: Path
    ) -> None:
        """Observers leave ex_info, config and the other arguments unchanged."""
        import copy

        before = copy.deepcopy(ex_info)
        full_run(Dispatcher([observer]), ex_info, tmp_path)
        assert ex_info == before


class TestThroughExperiment:
    """Real experiments, run with ``ex.run()``, stored by each backend."""

    OPTIONS = {"--capture": "sys"}

    def make_experiment(self, observer: Any) -> Any:
        """Return an experiment that logs, prints, adds an artifact and may fail."""
        from sacredlite import Experiment

        ex = Experiment("contract_run")
        ex.observers.append(observer)

        @ex.config
        def config() -> None:
            lr = 0.5  # noqa: F841 - config scope variables are the config
            fail = False  # noqa: F841

        @ex.main
        def main(_run: Any, lr: float, fail: bool, tmp_dir: str = "") -> Any:
            print("training with", lr)
            for step in range(5):
                _run.log_scalar("loss", lr / (step + 1))
            _run.log_scalar("acc", 0.9, step=10)
            _run.info["epochs"] = 5
            if fail:
                raise ValueError("boom")
            return {"final": lr / 5}

        return ex

    def test_completed_run(self, backend: Backend, observer: Any, tmp_path: Path) -> None:
        """A completed experiment stores config, output, metrics, info and result."""
        ex = self.make_experiment(observer)
        artifact = tmp_path / "weights.bin"
        artifact.write_bytes(b"w" * 100)

        @ex.command
        def with_artifact(_run: Any) -> None:
            _run.add_artifact(str(artifact))

        run = ex.run(options=self.OPTIONS)
        record = backend.read_back(observer, run._id)
        assert run._id == backend.run_id(1)
        assert record["status"] == "COMPLETED"
        assert {k: record["config"][k] for k in ("lr", "fail")} == {"lr": 0.5, "fail": False}
        assert isinstance(record["config"]["seed"], int)
        assert "training with 0.5\n" in record["captured_out"]
        assert record["metrics"]["loss"]["steps"] == [0, 1, 2, 3, 4]
        assert record["metrics"]["loss"]["values"] == [0.5, 0.25, 0.5 / 3, 0.125, 0.1]
        assert record["metrics"]["acc"]["steps"] == [10]
        assert len(record["metrics"]["loss"]["timestamps"]) == 5
        assert record["info"] == {"epochs": 5}
        assert record["result"] == {"final": 0.1}
        assert record["experiment"]["name"] == "contract_run"
        assert record["start_time"] <= record["stop_time"]
        run2 = ex.run("with_artifact", options=self.OPTIONS)
        assert run2._id == backend.run_id(2)
        assert backend.read_back(observer, run2._id)["artifacts"] == {"weights.bin": b"w" * 100}

    def test_failed_run(self, backend: Backend, observer: Any) -> None:
        """A failing experiment is stored as FAILED with its traceback and its metrics."""
        ex = self.make_experiment(observer)
        with pytest.raises(ValueError, match="boom"):
            ex.run(config_updates={"fail": True}, options=self.OPTIONS)
        record = backend.read_back(observer, 1)
        assert record["status"] == "FAILED"
        assert record["fail_trace"][-1] == "ValueError: boom\n"
        assert record["metrics"]["loss"]["steps"] == [0, 1, 2, 3, 4]
        assert record["stop_time"] is not None

"""What a Sacred user sees of the core: scope arguments, log lines, stored meta, errors,
the Run's and the captured functions' shapes, and Sacred's module paths."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
import textwrap
from datetime import datetime, timezone

import pytest

from sacredlite import Experiment, Ingredient
from sacredlite.config import ConfigDict, ConfigScope, chain_evaluate_config_scopes
from sacredlite.config.config_summary import ConfigSummary
from sacredlite.errors import CircularDependencyError, ConfigAddedError
from sacredlite.observers import MemoryObserver
from sacredlite.run import Run

QUIET = {"--capture": "sys"}


def run_script(tmp_path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, cwd=tmp_path
    )


class TestConfigScopes:
    def test_scope_arguments_read_presets_fallbacks_and_the_logger(self):
        """A scope's arguments come from earlier entries (kept in the result), from
        fallbacks such as ``_log`` (not kept), and must be available."""

        @ConfigScope
        def scope(base, _log):
            doubled = 2 * base
            _log.debug("computing")

        result = scope(preset={"base": 21}, fallback={"_log": logging.getLogger("x")})
        assert dict(result) == {"base": 21, "doubled": 42}
        with pytest.raises(KeyError, match="'base' not in preset for ConfigScope"):
            scope(fallback={"_log": logging.getLogger("x")})

    def test_a_scope_reads_its_ingredients_config_by_name(self):
        """``def cfg(dataset)`` sees the ingredient's finished config, read-only."""
        dataset = Ingredient("dataset")

        @dataset.config
        def dataset_config():
            root = "/data"

        ex = Experiment("uses_dataset", ingredients=[dataset])

        @ex.config
        def config(dataset):
            path = dataset["root"] + "/train"

        @ex.main
        def main(path):
            return path

        assert ex.run(options=QUIET).result == "/data/train"

    def test_updates_are_fixed_and_change_dependent_entries(self):
        """A fixed value wins; the summary tells modified, added and type-changed entries."""

        @ConfigScope
        def scope():
            a = 1
            b = a + 1
            c = "text"

        result = scope(fixed={"a": 10, "c": 3, "new": {"deep": 1}})
        assert (result["a"], result["b"], result["c"]) == (10, 11, 3)
        assert result.added == {"new", "new.deep"}
        assert result.modified == {"a"}
        assert result.typechanged == {"c": (str, int)}

    def test_docstring_and_underscore_locals_are_entries(self):
        """A scope's docstring is kept as ``__doc__`` and ``_private`` names are entries."""

        @ConfigScope
        def scope():
            """Explains the scope."""
            _private = 5

        assert dict(scope()) == {"__doc__": "Explains the scope.", "_private": 5}

    def test_values_are_normalised_and_keys_checked(self):
        """Tuples become lists (as Sacred stores them) and unstorable keys raise KeyError."""
        assert dict(ConfigDict({"t": (1, (2, 3))})()) == {"t": [1, [2, 3]]}
        with pytest.raises(KeyError, match=r'Invalid key "a\.b"'):
            ConfigDict({"a.b": 1})

    def test_chained_layers_see_earlier_results(self):
        """Each layer sees the earlier layers' entries; summaries come one per layer."""
        first = ConfigDict({"a": 1})

        @ConfigScope
        def second(a):
            b = a + 1

        config, summaries = chain_evaluate_config_scopes([first, second])
        assert config == {"a": 1, "b": 2}
        assert all(isinstance(s, ConfigSummary) for s in summaries)

    def test_comment_docs_follow_sacreds_rules(self):
        """The doc is a trailing comment or the nearest comment line above; a linter
        directive is no doc and hides comments above it."""

        @ConfigScope
        def scope():
            # the rate
            lr = 0.1
            steps = 3  # how many
            # stale comment
            # pylint: disable=invalid-name
            x = 1

        assert scope().docs == {
            "seed": "the random seed for this experiment",
            "lr": "the rate",
            "steps": "how many",
        }


class TestLogLines:
    def test_no_observer_warning_and_logger_names(self, tmp_path):
        """Without observers Sacred's warning comes first; run messages use the
        experiment's name as the logger, config warnings the root logger."""
        proc = run_script(
            tmp_path,
            """
            from sacredlite import Experiment
            ex = Experiment("named")

            @ex.config
            def config():
                model = {"hidden": 3}

            @ex.automain
            def main(model):
                print("ran")
            """,
            "with",
            "model.hiden=4",
            "--capture=sys",
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.splitlines()[:4] == [
            'WARNING - root - Added new config entry: "model.hiden"',
            "WARNING - named - No observers have been added to this run",
            "INFO - named - Running command 'main'",
            "INFO - named - Started",
        ]

    def test_a_users_logger_gets_a_child_per_experiment(self, tmp_path):
        """With ``ex.logger`` set, run messages go to its child named after the experiment."""
        proc = run_script(
            tmp_path,
            """
            import logging, sys
            from sacredlite import Experiment
            logger = logging.getLogger("mine")
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(name)s|%(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            ex = Experiment("exp")
            ex.logger = logger

            @ex.automain
            def main(_log):
                _log.info("inside")
            """,
            "--capture=sys",
        )
        assert "mine.exp|Running command 'main'" in proc.stderr
        assert "mine.main|inside" in proc.stderr

    def test_queue_only_logs_sacreds_lines(self, tmp_path):
        """``-q`` without observers warns, then logs Queuing-up and Queued, and runs nothing."""
        proc = run_script(
            tmp_path,
            """
            from sacredlite import Experiment
            ex = Experiment("q")

            @ex.automain
            def main():
                print("should not run")
            """,
            "-q",
        )
        assert proc.returncode == 0
        assert proc.stdout == ""
        assert proc.stderr.splitlines() == [
            "WARNING - q - No observers have been added to this run",
            "INFO - q - Queuing-up command 'main'",
            "INFO - q - Queued",
        ]

    def test_sys_capture_keeps_only_what_the_experiment_printed(self, tmp_path):
        """``--capture=sys``: sacredlite's own log lines are not part of the captured output."""
        memory_check = run_script(
            tmp_path,
            """
            from sacredlite import Experiment
            from sacredlite.observers import MemoryObserver
            ex = Experiment("out")
            memory = MemoryObserver()
            ex.observers.append(memory)

            @ex.main
            def main():
                print("printed")
                return 1

            run = ex.run_commandline(["out.py", "--capture=sys"])
            print("CAPTURED", repr(run.captured_out))
            """,
        )
        assert "CAPTURED 'printed\\n'" in memory_check.stdout


class TestStoredMeta:
    def test_meta_options_hold_every_flag_sacred_parses(self, tmp_path):
        """meta.options has every key of Sacred's docopt result, defaults included."""
        memory = MemoryObserver()
        ex = Experiment("meta")
        ex.observers.append(memory)

        @ex.main
        def main():
            pass

        ex.run_commandline(["meta.py", "with", "seed=3", "-c", "hello", "--capture=sys"])
        options = memory.last_run.meta["options"]
        assert set(options) == {
            "--beat-interval", "--capture", "--comment", "--debug", "--enforce_clean",
            "--file_storage", "--force", "--help", "--id", "--loglevel", "--mongo_db",
            "--name", "--pdb", "--print-config", "--priority", "--queue", "--s3", "--sql",
            "--tiny_db", "--unobserved", "COMMAND", "UPDATE", "help", "with",
        }  # fmt: skip
        assert (options["--comment"], options["UPDATE"], options["with"]) == (
            "hello",
            ["seed=3"],
            True,
        )
        meta = memory.last_run.meta
        assert (meta["command"], meta["comment"], meta["config_updates"]) == (
            "main",
            "hello",
            {"seed": 3},
        )


class TestShapes:
    def test_run_takes_sacreds_positional_arguments(self):
        """Run(config, mods, main, observers, root_logger, run_logger, ex_info, host_info,
        pre_run_hooks, post_run_hooks) runs the main function; times are naive UTC."""
        memory = MemoryObserver()
        logger = logging.getLogger("shape")

        def main():
            return 123

        main.prefix = ""  # type: ignore[attr-defined]
        run = Run({"seed": 1}, ConfigSummary(), main, [memory], logger, logger, {}, {}, [], [])
        assert run() == 123
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        assert run.start_time is not None and run.start_time.tzinfo is None
        assert abs((now - run.start_time).total_seconds()) < 5
        with pytest.raises(RuntimeError, match="A run can only be started once"):
            run()

    def test_current_run_stays_after_the_run(self):
        """ex.current_run is the last run, also after it ended (Sacred's attribute)."""
        ex = Experiment("current")

        @ex.main
        def main(_run):
            _run.log_scalar("m", 1)

        run = ex.run(options=QUIET)
        assert ex.current_run is run

    def test_registration_checks_raise_sacreds_errors(self):
        """option hooks need an 'options' argument, config hooks Sacred's signature, and
        add_config a dict, a file or keywords."""
        ex = Experiment("checks")
        with pytest.raises(KeyError, match="must have an argument called 'options'"):
            ex.option_hook(lambda opts: None)
        with pytest.raises(ValueError, match="Wrong signature for config_hook"):
            ex.config_hook(lambda config: None)
        with pytest.raises(ValueError, match="attempted to add empty config"):
            ex.add_config()
        with pytest.raises(ValueError, match="cannot combine keyword config"):
            ex.add_config({"a": 1}, b=2)
        with pytest.raises(TypeError):
            ex.add_config(12)

    def test_circular_ingredients_are_named(self):
        """Ingredients that use each other raise CircularDependencyError naming the cycle."""
        ing = Ingredient("ing")
        ex = Experiment("exp", ingredients=[ing])
        ex.main(lambda: None)
        ing.ingredients.append(ex)
        with pytest.raises(CircularDependencyError, match="exp->ing->exp"):
            ex.run(options=QUIET)

    def test_config_added_by_a_named_config_fails_every_command(self):
        """A named config adding a key no function takes fails print_config too."""
        ex = Experiment("added")
        ex.add_named_config("extra", {"unused": 1})

        @ex.main
        def main():
            pass

        with pytest.raises(ConfigAddedError):
            ex.run("print_config", named_configs=["extra"], options=QUIET)


SACRED_MODULES = {
    "sacredlite.arg_parser": ["get_config_updates"],
    "sacredlite.commands": ["print_config"],
    "sacredlite.config.captured_function": ["create_captured_function"],
    "sacredlite.config.config_dict": ["ConfigDict"],
    "sacredlite.config.config_files": ["HANDLER_BY_EXT", "load_config_file"],
    "sacredlite.config.config_scope": ["ConfigScope"],
    "sacredlite.config.config_summary": ["ConfigSummary"],
    "sacredlite.dependencies": ["Source", "PackageDependency", "get_digest"],
    "sacredlite.initialize": ["create_run", "Scaffold"],
    "sacredlite.metrics_logger": ["ScalarMetricLogEntry", "linearize_metrics"],
    "sacredlite.randomness": ["get_seed", "create_rnd", "set_global_seed"],
    "sacredlite.run": ["Run"],
    "sacredlite.serializer": ["flatten", "restore"],
    "sacredlite.settings": ["SETTINGS"],
    "sacredlite.utils": [
        "apply_backspaces_and_linefeeds",
        "SacredInterrupt",
        "TimeoutInterrupt",
        "join_paths",
        "iterate_flattened",
        "recursive_update",
        "PATHCHANGE",
    ],
}


def test_sacreds_path_helpers_behave_as_documented():
    """The dotted-path helpers of sacred.utils give Sacred's results."""
    from sacredlite import utils

    assert utils.join_paths("a.b.", "", "c") == "a.b.c"
    assert list(utils.iterate_flattened({"b": 1, "a": {"y": 2, "x": 3}})) == [
        ("a.x", 3),
        ("a.y", 2),
        ("b", 1),
    ]
    assert list(utils.iterate_flattened_separately({"d": {"x": 1}, "c": 2}, ["d"])) == [
        ("d", utils.PATHCHANGE),
        ("d.x", 1),
        ("c", 2),
    ]
    assert utils.rel_path("foo", "foo.bar.baz") == "bar.baz"
    assert utils.convert_camel_case_to_snake_case("FileStorageOption") == "file_storage_option"
    assert utils.recursive_update({"a": {"b": 1}}, {"a": {"c": 2}}) == {"a": {"b": 1, "c": 2}}


@pytest.mark.parametrize("module", sorted(SACRED_MODULES))
def test_sacreds_module_paths_exist(module):
    """Sacred's modules that users and tools import exist under sacredlite's name."""
    imported = importlib.import_module(module)
    for name in SACRED_MODULES[module]:
        assert hasattr(imported, name), f"{module}.{name}"

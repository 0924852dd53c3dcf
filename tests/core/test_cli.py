"""The experiment command line, run in-process through ex.run_commandline(argv).

What it prints is Sacred 0.8.7's text; the expected strings below are that contract.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import pytest
import yaml

from sacredlite import Experiment, cli_option
from sacredlite.cli import usage_text
from sacredlite.observers import MemoryObserver

SHORT_USAGE = """Usage:
  prog [(with UPDATE...)] [options]
  prog help [COMMAND]
  prog (-h | --help)
  prog COMMAND [(with UPDATE...)] [options]"""

SACRED_OPTION_KEYS = {
    "--beat-interval",
    "--capture",
    "--comment",
    "--debug",
    "--enforce_clean",
    "--file_storage",
    "--force",
    "--help",
    "--id",
    "--loglevel",
    "--mongo_db",
    "--name",
    "--pdb",
    "--print-config",
    "--priority",
    "--queue",
    "--s3",
    "--sql",
    "--tiny_db",
    "--unobserved",
    "COMMAND",
    "UPDATE",
    "help",
    "with",
}


@pytest.fixture(autouse=True)
def program_name(monkeypatch):
    """Sacred names the program after sys.argv[0], relative to the experiment's base dir."""
    monkeypatch.setattr(sys, "argv", [str(Path(__file__).with_name("prog"))])


def make_experiment(memory: MemoryObserver) -> Experiment:
    ex = Experiment("cli_exp")
    ex.observers.append(memory)

    @ex.config
    def cfg():
        lr = 0.1  # the learning rate
        optimizer = {"name": "adam", "momentum": 0.9}

    @ex.named_config
    def fast():
        """Train quickly."""
        lr = 1.0

    @ex.capture
    def needs(lr, missing_value):
        return lr

    @ex.command
    def evaluate(lr, split="test"):
        """Evaluate the model on a split.

        Reads the split from the config.
        """
        return f"evaluated {split} at {lr}"

    @ex.command
    def broken():
        """Call a captured function that lacks a value."""
        needs()

    @ex.main
    def train(lr, optimizer):
        """Train the model."""
        return lr, optimizer["name"]

    return ex


@pytest.fixture
def cli_ex(memory):
    return make_experiment(memory)


def run(ex, *argv):
    extra = [] if {"-C", "-h", "--help", "help"} & set(argv) else ["-C", "sys"]
    return ex.run_commandline(["prog", *argv, *extra])


def fails(ex, capsys, *argv):
    """Run argv, expect exit status 1, return (stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        run(ex, *argv)
    assert exit_info.value.code == 1
    return capsys.readouterr()


def test_with_updates_and_named_configs(cli_ex, memory):
    """'with' takes literals, strings, dotted keys and named configs."""
    result = run(cli_ex, "with", "fast", "optimizer.name=sgd").result
    assert result == (1.0, "sgd")
    result = run(cli_ex, "with", "lr=0.5", "optimizer.name='rms prop'").result
    assert result == (0.5, "rms prop")
    assert memory.last_run.meta["options"]["UPDATE"] == ["lr=0.5", "optimizer.name='rms prop'"]


def test_meta_options_hold_every_key_of_sacreds_command_line(cli_ex, memory):
    """meta.options has every key Sacred's docopt parse gives, --s3/--sql/--tiny_db too."""
    run(cli_ex, "with", "lr=0.5")
    options = memory.last_run.meta["options"]
    assert SACRED_OPTION_KEYS <= set(options)
    assert options["--s3"] is None and options["help"] is False and options["with"] is True


def test_commands_take_config_arguments(cli_ex):
    """A custom command reads its arguments from the config and its own updates."""
    assert run(cli_ex, "evaluate", "with", "split=val").result == "evaluated val at 0.1"


def test_flags_reach_the_run(cli_ex, memory):
    """-c, -n, -i, -l and -b are applied and recorded in meta.options."""
    run_ = run(cli_ex, "-c", "first try", "-n", "renamed", "-i", "77", "-l", "DEBUG", "-b", "2")
    record = memory.last_run
    assert record.meta["comment"] == "first try"
    assert record.meta["options"]["--comment"] == "first try"
    assert record.experiment["name"] == "renamed"
    assert run_._id == "77"  # Sacred keeps the id as given on the command line
    assert run_.beat_interval == 2.0
    assert run_.root_logger.level == 10


def test_print_config_prints_sacreds_layout(cli_ex, capsys):
    """print_config prints Sacred's header, values first, then sections."""
    run(cli_ex, "print_config")
    out = capsys.readouterr().out
    assert out.startswith("Configuration (\033[34mmodified\033[0m, \033[32madded\033[0m, ")
    lines = out.splitlines()
    assert lines[1].startswith("  lr = 0.1")
    assert lines[3:6] == ["  optimizer:", "    momentum = 0.9", "    name = 'adam'"]


def test_print_config_flag_prints_before_running(cli_ex, capsys):
    """-p prints the configuration and a line of dashes, then runs main."""
    assert run(cli_ex, "-p").result == (0.1, "adam")
    out = capsys.readouterr().out
    assert "  lr = 0.1" in out and "\n" + "-" * 79 + "\n" in out


def test_print_named_configs_lists_them(cli_ex, capsys):
    """print_named_configs lists each named config with its doc, dimmed."""
    run(cli_ex, "print_named_configs")
    out = capsys.readouterr().out
    assert (
        "Named Configurations (\033[2mdoc\033[0m):\n  fast\033[2m   # Train quickly.\033[0m\n"
        in out
    )


@pytest.mark.parametrize("ext", ["json", "yaml", "pickle"])
def test_save_config_writes_by_extension(cli_ex, tmp_path, ext, monkeypatch):
    """save_config writes the config as JSON, YAML or pickle by extension."""
    monkeypatch.chdir(tmp_path)
    run(cli_ex, "save_config", "with", f"config_filename=out.{ext}", "lr=0.3")
    path = tmp_path / f"out.{ext}"
    if ext == "json":
        data = json.loads(path.read_text())
    elif ext == "yaml":
        data = yaml.safe_load(path.read_text())
    else:
        data = pickle.loads(path.read_bytes())
    assert data["lr"] == 0.3 and data["optimizer"]["name"] == "adam"
    assert "config_filename" not in data


def test_help_prints_sacreds_usage_and_exits_0(cli_ex, capsys):
    """-h and 'help' print the usage with Sacred's options and the commands, in order."""
    for argv in (["-h"], ["--help"], ["help"]):
        with pytest.raises(SystemExit) as exit_info:
            run(cli_ex, *argv)
        assert exit_info.value.code is None
        out = capsys.readouterr().out
        assert out.startswith("Usage:\n  ")
        assert (
            "  -b VALUE --beat-interval=VALUE  Set the heart-beat interval for this run.  Time\n"
            in out
        )
        assert (
            "  -S VALUE --s3=VALUE           Add a S3 File observer to the experiment.  The\n"
            in out
        )
        assert out.endswith(
            "\nCommands:\n"
            "  print_config         Print the updated configuration and exit.\n"
            "  print_dependencies   Print the detected source-files and dependencies.\n"
            "  save_config          Store the updated configuration in a file.\n"
            "  print_named_configs  Print the available named configs and exit.\n"
            "  evaluate             Evaluate the model on a split.\n"
            "  broken               Call a captured function that lacks a value.\n"
            "  train                Train the model.\n\n"
        )


def test_help_command_prints_signature_and_doc(cli_ex, capsys):
    """'help COMMAND' prints pydoc's text for the command, as Sacred."""
    with pytest.raises(SystemExit):
        run(cli_ex, "help", "evaluate")
    assert capsys.readouterr().out == (
        "evaluate(lr, split='test')\n"
        "    Evaluate the model on a split.\n"
        "    \n"
        "    Reads the split from the config.\n\n"
    )
    with pytest.raises(SystemExit):
        run(cli_ex, "help", "save_config")
    assert capsys.readouterr().out.startswith(
        "save_config(_config, _log, config_filename='config.json')\n"
    )


def test_help_for_an_unknown_command_ends_in_keyerror(cli_ex, capsys):
    """'help nope' fails with Sacred's KeyError, after a hint naming close commands."""
    _, err = fails(cli_ex, capsys, "help", "evalute")
    assert err.startswith("Command 'evalute' not found. Did you mean 'evaluate'?\n")
    assert err.endswith("KeyError: 'evalute'\n")


def test_unknown_command_prints_short_usage_and_error_on_stdout(cli_ex, capsys):
    """An unknown command prints Sacred's short usage and 'Error: ...' on stdout."""
    out, err = fails(cli_ex, capsys, "evalute")
    assert err == ""
    assert out == (
        f"{SHORT_USAGE}\n"
        "Command 'evalute' not found. Did you mean 'evaluate'?\n"
        'Error: Command "evalute" not found. Available commands are: print_config, '
        "print_dependencies, save_config, print_named_configs, evaluate, broken, train\n"
    )


def test_added_config_entry_is_sacreds_error_after_a_hint(cli_ex, capsys):
    """An unused new key prints Sacred's ConfigAddedError, with the suggestion before it."""
    _, err = fails(cli_ex, capsys, "with", "lr_rate=1")
    assert err == (
        "Config key 'lr_rate' is not used by any captured function. Did you mean 'lr'?\n"
        "sacredlite.utils.ConfigAddedError: Added new config entry that is not used anywhere\n"
        "Conflicting configuration values:\n"
        "  lr_rate=1\n\n"
    )


def test_unknown_named_config_is_sacreds_error_after_a_hint(cli_ex, capsys):
    """An unknown named config prints Sacred's NamedConfigNotFoundError."""
    _, err = fails(cli_ex, capsys, "with", "fsat")
    assert err == (
        "Named config 'fsat' not found. Did you mean 'fast'?\n"
        'sacredlite.utils.NamedConfigNotFoundError: Named config not found: "fsat". '
        "Available config values are: ('fast',)\n\n"
    )


def test_missing_config_value_prints_usage_and_error(cli_ex, capsys):
    """A missing value prints the short usage, then Sacred's MissingConfigError line."""
    _, err = fails(cli_ex, capsys, "broken")
    assert err.endswith(
        f"{SHORT_USAGE}\n"
        "sacredlite.utils.MissingConfigError: needs is missing value(s): ['missing_value']\n\n"
    )


def test_mistaken_update_adds_a_hint_to_the_error_it_causes(cli_ex, capsys):
    """'=3' is accepted as Sacred does (key ''); the resulting error gets a hint first."""
    _, err = fails(cli_ex, capsys, "with", "=3")
    assert err.startswith("The update '=3' looks mistaken: its key is empty.")
    assert "sacredlite.utils.ConfigAddedError: Added new config entry" in err


def test_failure_prints_filtered_trace_and_exits_1(memory, capsys):
    """A failing main prints its traceback without sacredlite's frames and exits 1."""
    ex = Experiment("failing")
    ex.observers.append(memory)

    def helper():
        raise RuntimeError("exploded")

    @ex.main
    def main():
        helper()

    _, err = fails(ex, capsys)
    assert err.startswith("Traceback (most recent calls WITHOUT Sacred internals):\n")
    assert err.endswith("RuntimeError: exploded\n\n")
    assert "sacredlite" not in err and "in main\n    helper()" in err
    assert memory.last_run.status == "FAILED"


def test_debug_flag_raises(cli_ex):
    """-d lets the error propagate with its full traceback."""
    from sacredlite.errors import ConfigAddedError

    with pytest.raises(ConfigAddedError):
        run(cli_ex, "with", "lr_rate=2", "-d")


@pytest.mark.parametrize(
    ("argv", "last_line"),
    [
        (["-b", "soon"], "ValueError: could not convert string to float: 'soon'"),
        (["-l", "debug"], "ValueError: Unknown level: 'debug'"),
    ],
)
def test_bad_option_values_end_in_sacreds_exception(cli_ex, capsys, argv, last_line):
    """Bad option values fail with the exception and message Sacred gives."""
    _, err = fails(cli_ex, capsys, *argv)
    assert err.strip().splitlines()[-1] == last_line


def test_cli_option_and_option_hook(memory):
    """additional_cli_options add flags; option hooks see the parsed options."""
    seen = {}

    @cli_option("-o", "--own-flag", is_flag=True)
    def own_flag(args, run):
        """Mark the run."""
        run.info["own"] = args

    @cli_option("-x", "--extra")
    def extra(args, run):
        """Set extra info."""
        run.info["extra"] = args

    ex = Experiment("opts", additional_cli_options=[own_flag, extra])
    ex.observers.append(memory)

    @ex.option_hook
    def hook(options):
        seen["comment"] = options["--comment"]

    @ex.main
    def main(_run):
        return dict(_run.info)

    result = run(ex, "-o", "--extra=7", "-c", "hi").result
    assert result == {"own": True, "extra": "7"}
    assert seen == {"comment": "hi"}
    usage = usage_text(ex)
    assert "  -o --own-flag                 Mark the run.\n" in usage
    assert "  -x VALUE --extra=VALUE        Set extra info.\n" in usage


def test_unobserved_and_queue_flags(cli_ex, memory):
    """-u skips observers; -q queues without running."""
    run(cli_ex, "-u")
    assert memory.events == []
    queued = run(cli_ex, "-q", "with", "lr=0.7")
    assert queued.status == "QUEUED" and memory.last_run.status == "QUEUED"
    assert memory.last_run.config["lr"] == 0.7


def test_gather_commands_lists_builtin_and_custom(cli_ex):
    """gather_commands yields the built-in commands and the experiment's own."""
    names = {name for name, _ in cli_ex.gather_commands()}
    assert {"print_config", "save_config", "print_dependencies", "evaluate", "train"} <= names


def test_dict_named_config_has_no_doc(memory, capsys):
    """A named config given as a dict is listed without a doc."""
    ex = make_experiment(memory)
    ex.add_named_config("small", {"lr": 0.01})
    run(ex, "print_named_configs")
    lines = [line for line in capsys.readouterr().out.splitlines() if "small" in line]
    assert lines == ["  small"]

"""The command line's text and parsing: usage, option table, ``with`` updates (Sacred's)."""

from __future__ import annotations

import keyword

import docopt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sacredlite.arg_parser import check_command, format_usage, get_config_updates, printable_usage
from sacredlite.commandline_options import CLIOption, cli_option, gather_command_line_options
from sacredlite.config.updates import update_hints
from sacredlite.settings import SETTINGS


@cli_option("-o", "--own-flag", is_flag=True)
def own(args, run):
    """Mark the run with a flag whose description is long enough to need wrapping over lines."""


@cli_option("-x", "--extra")
def extra(args, run):
    """Set extra."""


def cmd_a():
    """Do A.

    More."""


def a_rather_long_command_name():
    pass


def test_usage_text_is_sacreds():
    """format_usage lays out the program, description, options, arguments and commands."""
    commands = {"cmd_a": cmd_a, "a_rather_long_command_name": a_rather_long_command_name}
    usage = format_usage("my prog.py", "  An experiment.\n\nWith text.  ", commands, [own, extra])
    assert usage == (
        "Usage:\n"
        "  'my prog.py' [(with UPDATE...)] [options]\n"
        "  'my prog.py' help [COMMAND]\n"
        "  'my prog.py' (-h | --help)\n"
        "  'my prog.py' COMMAND [(with UPDATE...)] [options]\n"
        "\n"
        "An experiment.\n"
        "\n"
        "With text.\n"
        "\n"
        "Options:\n"
        "  -o --own-flag                 Mark the run with a flag whose description is\n"
        "                                long enough to need wrapping over lines.\n"
        "  -x VALUE --extra=VALUE        Set extra.\n"
        "\n"
        "\n"
        "Arguments:\n"
        "  COMMAND   Name of command to run (see below for list of commands)\n"
        "  UPDATE    Configuration assignments of the form foo.bar=17\n"
        "\n"
        "\n"
        "Commands:\n"
        "  cmd_a                       Do A.\n"
        "  a_rather_long_command_name  \n"
    )
    assert printable_usage(usage) == usage.split("\n\n")[0]


def test_builtin_options_are_sacreds_in_sacreds_order():
    """The built-in options are Sacred's twenty, sorted by their function's name."""
    options = gather_command_line_options()
    assert [o.get_name() for o in options] == sorted(o.get_name() for o in options)
    assert "".join(o.short_flag[1] for o in options) == "bCcdeFfhilmnDpPqSstu"
    debug = next(o for o in options if o.long_flag == "--debug")
    assert debug.get_description() == (
        "Set this run to debug mode.\n\n"
        "Suppress warnings about missing observers and don't filter the stacktrace.\n"
        "Also enables usage with ipython `--pdb`."
    )


def test_help_wraps_builtin_descriptions_as_sacred():
    """Long descriptions wrap at 79 columns under a 32-column indent."""
    usage = format_usage("t.py", "", {}, gather_command_line_options())
    assert (
        "  -m VALUE --mongo_db=VALUE     Add a MongoDB Observer to the experiment.  The\n"
        "                                argument value is the database specification.\n"
        "                                Should be in the form:  `[host:port:]db_name[.c\n"
        "                                ollection[:id]][!priority]`\n"
    ) in usage


def test_docopt_gives_every_key_sacred_stores():
    """Parsing with the usage yields every option, COMMAND, UPDATE, help and with."""
    usage = format_usage("dummy", "", {}, gather_command_line_options())
    args = docopt.docopt(usage, ["run", "with", "a=1", "-m", "db", "-l30"], default_help=False)
    assert args["COMMAND"] == "run" and args["UPDATE"] == ["a=1"] and args["with"] is True
    assert args["--mongo_db"] == "db" and args["--loglevel"] == "30"
    assert {"--s3", "--sql", "--tiny_db", "help", "--print-config", "--enforce_clean"} <= set(args)
    assert len(args) == 24


def test_cli_option_checks_its_flags():
    """Malformed short or long flags are refused with Sacred's messages."""
    with pytest.raises(ValueError, match="Short flag malformed"):
        CLIOption(print, "x", "--xx", True)
    with pytest.raises(ValueError, match="Long flag malformed"):
        CLIOption(print, "-x", "-xx", True)
    assert (extra.arg, extra.arg_description, own.arg) == ("VALUE", "", None)
    assert extra.get_flags() == ("-x", "--extra") and extra.get_flag() == "--extra"


def test_check_command_texts():
    """Unknown or missing commands give Sacred's 'Error:' line, a close match a hint."""
    names = ["print_config", "evaluate", "main"]
    assert check_command("main", names) is None
    assert check_command("evalute", names) == (
        "Command 'evalute' not found. Did you mean 'evaluate'?\n"
        'Error: Command "evalute" not found. Available commands are: print_config, evaluate, main'
    )
    assert check_command(None, ["print_config"]) == (
        "Error: No command found to be run. Specify a command or define main function. "
        "Available commands are: print_config"
    )


class TestConfigUpdates:
    def test_values_are_literals_or_text(self):
        """Literals parse, other text stays text, exactly as Sacred parses them."""
        updates = [
            "a=1", "b.c='x'", "fast", "", " d = 2 ", "e=", "g=(1,2)", "i={1: 2}", "j=[1,",
            "k=0x10", "l=1e3", "n=None", "m=a=b",
        ]  # fmt: skip
        assert get_config_updates(updates) == (
            {
                "a": 1, "b": {"c": "x"}, "d": 2, "e": "", "g": [1, 2], "i": {"1": 2},
                "j": "[1,", "k": 16, "l": 1000.0, "n": None, "m": "a=b",
            },
            ["fast"],
        )  # fmt: skip
        assert get_config_updates(None) == ({}, [])

    def test_stored_forms_are_restored(self):
        """jsonpickle tags come back as the objects they stand for."""
        assert get_config_updates(['t={"py/tuple": [1, 2]}']) == ({"t": (1, 2)}, [])

    def test_odd_keys_are_accepted_as_sacred_does(self):
        """'=3' sets the key '' and 'f.=1' the key '' below f: Sacred accepts both."""
        assert get_config_updates(["=3", "f.=1", "a b=2"]) == (
            {"": 3, "f": {"": 1}, "a b": 2},
            [],
        )

    def test_what_sacred_refuses_fails_the_same_way(self):
        """Values JSON cannot hold and paths through a value raise Sacred's TypeError."""
        with pytest.raises(TypeError, match="not JSON serializable"):
            get_config_updates(["b=b'x'"])
        with pytest.raises(TypeError, match="'int' object does not support item assignment"):
            get_config_updates(["a=1", "a.b=2"])

    def test_strict_parsing_refuses_text(self, monkeypatch):
        """With SETTINGS.COMMAND_LINE.STRICT_PARSING, text that is no literal raises."""
        monkeypatch.setattr(SETTINGS.COMMAND_LINE, "STRICT_PARSING", True)
        with pytest.raises(ValueError):
            get_config_updates(["a=adam"])

    def test_hints_name_mistaken_updates_only(self):
        """update_hints explains odd updates and is silent for good ones."""
        assert update_hints(["a=1", "fast", "cfg.json", "b.c=2"]) == []
        hints = update_hints(["=3", "a..b=1", "1a=2", "not a name"])
        assert hints[0] == (
            "The update '=3' looks mistaken: its key is empty. Write updates as KEY=VALUE, "
            "e.g. 'lr=0.1' or 'optimizer.name=\"adam\"'."
        )
        problems = [
            "the key 'a..b' has an empty part",
            "'1a' is not a valid config key",
            "it is neither KEY=VALUE nor the name of a named config",
        ]
        assert all(problem in hint for problem, hint in zip(problems, hints[1:], strict=True))


identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s)
)
dotted_keys = st.lists(identifiers, min_size=1, max_size=3, unique=True).map(".".join)
literals = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(identifiers, children, max_size=3)
    ),
    max_leaves=6,
)


@given(dotted_keys, literals)
def test_literals_round_trip(key, value):
    """Any JSON-like literal written with repr() parses back to an equal value."""
    nested, named = get_config_updates([f"{key}={value!r}"])
    node = nested
    for part in key.split("."):
        node = node[part]
    assert node == value and named == []


@given(dotted_keys, st.from_regex(r"[A-Za-z][A-Za-z0-9 _/-]{0,12}", fullmatch=True))
def test_non_literals_fall_back_to_text(key, text):
    """A value that is no Python literal is kept as the (stripped) text."""
    nested, _ = get_config_updates([f"{key}={text}"])
    node = nested
    for part in key.split("."):
        node = node[part]
    if text.strip() not in {"True", "False", "None"}:
        assert node == text.strip()


def test_a_with_value_naming_code_is_refused_and_never_run(tmp_path):
    """``with x={"py/reduce": ...}`` is data: the command line refuses it in one line and the
    function it names is never called (Sacred would decode it with jsonpickle and run it)."""
    import json
    import subprocess
    import sys

    from checkout import THIS_CHECKOUT
    from hostile import code_payload

    marker = tmp_path / "ran"
    script = tmp_path / "exp.py"
    script.write_text(
        "from sacredlite import Experiment\n"
        "ex = Experiment('exp')\n"
        "@ex.automain\n"
        "def main(x=None):\n"
        "    return x\n"
    )
    update = "x=" + json.dumps(code_payload(marker))
    proc = subprocess.run(
        [sys.executable, str(script), "with", update],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=THIS_CHECKOUT,
        timeout=60,
    )
    assert proc.returncode == 1
    assert not marker.exists()
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith(
        "sacredlite.serializer.DataRestoreError: refused to restore 'os.system' (py/reduce)"
    )

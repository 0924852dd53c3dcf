"""The built-in commands' text: print_config, print_named_configs, help, save_config.

The expected strings are Sacred 0.8.7's output for the same config and summary.
"""

from __future__ import annotations

import json
import logging

import pytest

from sacredlite import Experiment, Ingredient
from sacredlite.commands import (
    COLOR_ADDED,
    COLOR_DOC,
    COLOR_MODIFIED,
    COLOR_TYPECHANGED,
    ENDC,
    ConfigEntry,
    PathEntry,
    format_named_configs,
    help_for_command,
    print_named_configs,
    save_config,
)
from sacredlite.config.summary import ConfigSummary, format_config, format_entry

BLUE, GREEN, RED, DIM = COLOR_MODIFIED, COLOR_ADDED, COLOR_TYPECHANGED, COLOR_DOC
LEGEND = f"({BLUE}modified{ENDC}, {GREEN}added{ENDC}, {RED}typechanged{ENDC}, {DIM}doc{ENDC})"


def test_colours_are_sacreds_ansi_codes():
    """The colour names carry Sacred's (colorama's) escape sequences."""
    assert (BLUE, GREEN, RED, DIM, ENDC) == (
        "\033[34m",
        "\033[32m",
        "\033[31m",
        "\033[2m",
        "\033[0m",
    )


class TestFormatConfig:
    CONFIG = {
        "__doc__": "Scope doc.\n\nSecond paragraph.",
        "lr": 0.5,
        "b": {},
        "a": 1,
        "name": "adam",
        "long_name_for_a_value_here_x": [1, 2],
        "net": {"__doc__": "Net doc.", "layers": 3, "act": {"kind": "relu"}, "drop": None},
        "seed": 7,
    }
    SUMMARY = ConfigSummary(
        added={"net.act.kind", "name"},
        modified={"lr"},
        typechanged={"a": (float, int)},
        docs={
            "a": "the a",
            "lr": "learning rate",
            "net": "the network",
            "long_name_for_a_value_here_x": "long",
            "net.act": "activation",
        },
    )

    def test_layout_colours_and_docs(self):
        """Docstring first, values, then sections; changes coloured; docs in a column."""
        assert format_config(self.CONFIG, self.SUMMARY).split("\n") == [
            f"Configuration {LEGEND}:",
            f'{DIM}  """Scope doc.',
            "  ",
            f'  Second paragraph."""{ENDC}',
            f"{RED}  a = 1                              {DIM}# the a{ENDC}{ENDC}",
            "  b = {}",
            f"  long_name_for_a_value_here_x = [1, 2]    {DIM}# long{ENDC}",
            f"{BLUE}  lr = 0.5                           {DIM}# learning rate{ENDC}{ENDC}",
            f"{GREEN}  name = 'adam'{ENDC}",
            "  seed = 7",
            f"{BLUE}  net:                               {DIM}# the network{ENDC}{ENDC}",
            f'{DIM}    """Net doc."""{ENDC}',
            "    drop = None",
            "    layers = 3",
            f"{BLUE}    act:                             {DIM}# activation{ENDC}{ENDC}",
            f"{GREEN}      kind = 'relu'{ENDC}",
        ]

    def test_without_colour_the_layout_is_the_same(self):
        """colour=False drops the escape codes and nothing else."""
        text = format_config(self.CONFIG, self.SUMMARY, colour=False)
        assert text.split("\n")[:5] == [
            "Configuration (modified, added, typechanged, doc):",
            '  """Scope doc.',
            "  ",
            '  Second paragraph."""',
            "  a = 1                              # the a",
        ]

    def test_long_values_are_pretty_printed_as_sacred(self):
        """A value pprint splits keeps pprint's lines, and its doc follows the last one."""
        text = format_config({"numbers": list(range(30))}, ConfigSummary(docs={"numbers": "many"}))
        lines = text.split("\n")
        assert lines[1:3] == ["  numbers = [0,", " 1,"]
        assert lines[-1] == f" 29]    {DIM}# many{ENDC}"

    def test_empty_config_prints_only_the_header(self):
        """An empty config prints the header line alone."""
        assert format_config({}, ConfigSummary()) == f"Configuration {LEGEND}:"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (ConfigEntry("a", 0, False, False, None, None), "a = 0"),
        (ConfigEntry("s", "x", False, False, None, None), "s = 'x'"),
        (ConfigEntry("e", {}, False, False, None, None), "e = {}"),
        (PathEntry("p", False, False, None, None), "p:"),
        (
            ConfigEntry("__doc__", "two\nlines", False, False, None, None),
            f'{DIM}"""two\nlines"""{ENDC}',
        ),
        (ConfigEntry("g", 7, True, True, (bool, int), None), f"{RED}g = 7{ENDC}"),
        (ConfigEntry("d", 4, True, True, None, None), f"{GREEN}d = 4{ENDC}"),
        (PathEntry("b", False, True, None, None), f"{BLUE}b:{ENDC}"),
    ],
)
def test_entry_text_and_colour_precedence(entry, expected):
    """Type change beats added beats modified; a docstring is always dimmed."""
    assert format_entry(0, entry) == expected


def test_named_configs_show_their_docs():
    """One-line docs follow the name; longer ones go below in triple quotes."""

    class Named:
        def __init__(self, doc):
            self.doc = doc

    text = format_named_configs(
        {"one": Named("One line."), "multi": Named("First\n    second\n    "), "plain": Named(None)}
    )
    assert text == (
        f"Named Configurations ({DIM}doc{ENDC}):\n"
        f"  one{DIM}   # One line.{ENDC}\n"
        f'  multi{DIM}\n    """First\n      second\n      """{ENDC}\n'
        "  plain"
    )
    assert format_named_configs({}) == f"Named Configurations ({DIM}doc{ENDC}):\n  No named configs"


def test_print_named_configs_is_a_command_factory(capsys):
    """print_named_configs(ingredient) returns the command listing its named configs."""
    data = Ingredient("data")
    ex = Experiment("commands_exp", ingredients=[data])

    @ex.named_config
    def fast():
        """Go fast."""

    @data.named_config
    def small():
        pass

    data.add_named_config("tiny", {"n": 1})
    command = print_named_configs(ex)
    assert command.__name__ == "print_named_configs"
    assert command.__doc__ == "Print the available named configs and exit."
    command()
    out = capsys.readouterr().out
    assert f"  fast{DIM}   # Go fast.{ENDC}\n" in out
    assert "  data.small\n" in out and "  data.tiny\n" in out


def test_help_for_command_is_pydoc_text():
    """help_for_command gives the signature and the indented docstring, no backspaces."""

    def greet(name, punctuation="!"):
        """Print a greeting.

        Uses the name from the config.
        """

    assert help_for_command(greet) == (
        "greet(name, punctuation='!')\n"
        "    Print a greeting.\n"
        "    \n"
        "    Uses the name from the config.\n"
    )


def test_help_for_a_captured_command_matches_the_function():
    """A registered command documents like the function it wraps."""
    ex = Experiment("help_exp")

    @ex.command
    def evaluate(split="test"):
        """Evaluate on a split."""

    command = dict(ex.gather_commands())["evaluate"]
    assert help_for_command(command) == "evaluate(split='test')\n    Evaluate on a split.\n"


def test_save_config_drops_its_own_filename_and_logs(tmp_path, caplog):
    """save_config writes the config without config_filename and logs the file name."""
    target = tmp_path / "cfg.json"
    with caplog.at_level(logging.INFO):
        save_config({"a": 1, "config_filename": str(target)}, logging.getLogger("t"), str(target))
    assert json.loads(target.read_text()) == {"a": 1}
    assert f'Saving config to "{target}"' in caplog.text


def test_optional_names_load_on_first_use():
    """sacredlite.optional answers Sacred's has_* questions without an import at startup."""
    import subprocess
    import sys

    code = (
        "import sys, sacredlite, sacredlite.optional as opt\n"
        "assert 'numpy' not in sys.modules and 'yaml' not in sys.modules\n"
        "assert opt.has_yaml and opt.yaml.safe_load('a: 1') == {'a': 1}\n"
        "assert opt.has_numpy is (opt.np is not None)\n"
        "assert opt.has_sqlalchemy in (True, False)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_print_dependencies_is_sacreds_text(capsys):
    """Dependencies, sources and repositories in Sacred's columns; dirty ones marked red."""
    from types import SimpleNamespace

    from sacredlite.commands import print_dependencies

    info = {
        "dependencies": ["numpy==2.0.0"],
        "sources": [["exp.py", "0" * 32]],
        "repositories": [
            {"url": "git@host:a.git", "commit": "c1", "dirty": True},
            {"url": "git@host:b.git", "commit": "c2", "dirty": False},
        ],
    }
    print_dependencies(SimpleNamespace(experiment_info=info))
    assert capsys.readouterr().out == (
        "Dependencies:\n"
        "  numpy                == 2.0.0\n"
        "\n"
        "Sources:\n"
        f"  exp.py{' ' * 37}  {'0' * 32}\n"
        "\n"
        "Version Control:\n"
        f"{RED}M git@host:a.git{' ' * 29}  c1{ENDC}\n"
        f"  git@host:b.git{' ' * 29}  c2{ENDC}\n"
        "\n"
    )

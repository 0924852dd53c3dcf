"""Config semantics: scopes, dicts, files, named configs, updates and their summary."""

from __future__ import annotations

import json
import logging

import pytest

from sacredlite import Experiment, Ingredient
from sacredlite.config.custom_containers import DogmaticList
from sacredlite.errors import ConfigAddedError, NamedConfigNotFoundError, SacredError, hints_of

QUIET = {"--capture": "sys"}


def _main(ex: Experiment) -> None:
    @ex.main
    def main(_config):
        return dict(_config)


def test_dependent_entries_follow_updates(ex):
    """A scope body runs with updates fixed, so entries computed from them follow."""

    @ex.config
    def cfg():
        a = 10
        b = 2 * a

    _main(ex)
    run = ex.run(config_updates={"a": 3}, options=QUIET)
    assert (run.config["a"], run.config["b"]) == (3, 6)


def test_every_local_of_a_scope_is_an_entry(ex):
    """As in Sacred, every local of a scope is a config entry: names starting with '_',
    modules, functions and classes too."""

    @ex.config
    def cfg():
        import math

        _hidden = 1
        visible = math.floor(2.5)

        def helper():
            return 1

        class Local:
            pass

    _main(ex)
    config = ex.run(options=QUIET).config
    assert set(config) == {"visible", "_hidden", "math", "helper", "Local", "seed"}
    assert config["visible"] == 2 and config["_hidden"] == 1


def test_scopes_dicts_and_files_compose_in_order(ex, tmp_path):
    """Later layers see and override earlier ones; dicts and files take part in order."""
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"c": 30, "a": 100}))

    @ex.config
    def first():
        a = 1
        b = 2

    ex.add_config({"b": 20})
    ex.add_config(str(path))
    ex.add_config(d=4)

    @ex.config
    def last(a, b, c, d):
        e = a + b + c + d

    _main(ex)
    config = ex.run(options=QUIET).config
    assert {k: config[k] for k in "abcde"} == {"a": 100, "b": 20, "c": 30, "d": 4, "e": 154}


def test_yaml_and_pickle_config_files_load(ex, tmp_path):
    """Config files are read by extension: YAML and pickle as well as JSON."""
    import pickle

    (tmp_path / "a.yaml").write_text("x: 1\nnested:\n  y: two\n")
    (tmp_path / "b.pickle").write_bytes(pickle.dumps({"z": [1, 2]}))
    ex.add_config(str(tmp_path / "a.yaml"))
    ex.add_config(str(tmp_path / "b.pickle"))
    _main(ex)
    config = ex.run(options=QUIET).config
    assert (config["x"], config["nested"], config["z"]) == (1, {"y": "two"}, [1, 2])


def test_missing_and_unknown_config_files_name_the_problem(ex, tmp_path):
    """A missing file raises OSError, an unknown extension ValueError, naming the path."""
    with pytest.raises(OSError, match="File not found .*nope.json"):
        ex.add_config(str(tmp_path / "nope.json"))
    (tmp_path / "cfg.toml").write_text("a = 1")
    with pytest.raises(ValueError, match=r'invalid or unsupported extension "\.toml"'):
        ex.add_config(str(tmp_path / "cfg.toml"))


def test_dotted_updates_build_nested_dicts(ex):
    """'optimizer.lr' updates one entry of a nested dict and keeps its siblings."""

    @ex.config
    def cfg():
        optimizer = {"name": "adam", "lr": 0.01}

    _main(ex)
    config = ex.run(config_updates={"optimizer.lr": 0.1}, options=QUIET).config
    assert config["optimizer"] == {"name": "adam", "lr": 0.1}


def test_named_configs_apply_before_the_main_config_and_are_fixed(ex, tmp_path):
    """Named configs (function, dict, file) set fixed values the main scope builds on."""

    @ex.config
    def cfg():
        units = 10
        layers = 2
        size = units * layers

    @ex.named_config
    def wide():
        """Use many units."""
        units = 100

    ex.add_named_config("deep", {"layers": 5})
    (tmp_path / "tiny.json").write_text(json.dumps({"units": 1}))
    ex.add_named_config("tiny", str(tmp_path / "tiny.json"))
    _main(ex)
    config = ex.run(named_configs=["wide", "deep"], options=QUIET).config
    assert (config["units"], config["layers"], config["size"]) == (100, 5, 500)
    config = ex.run(named_configs=["tiny"], config_updates={"layers": 3}, options=QUIET).config
    assert (config["units"], config["size"]) == (1, 3)
    config = ex.run(named_configs=["wide"], config_updates={"units": 7}, options=QUIET).config
    assert config["units"] == 7  # explicit updates win over named configs


def test_unknown_named_config_suggests_close_names(ex):
    """An unknown named config raises and suggests the close names."""

    @ex.named_config
    def variant_a():
        x = 1  # noqa: F841

    _main(ex)
    with pytest.raises(NamedConfigNotFoundError) as info:
        ex.run(named_configs=["variant_b"], options=QUIET)
    assert str(info.value) == (
        "Named config not found: \"variant_b\". Available config values are: ('variant_a',)"
    )
    assert hints_of(info.value) == ["Named config 'variant_b' not found. Did you mean 'variant_a'?"]


def test_added_key_raises_with_suggestion_unless_forced(ex, caplog):
    """An update adding a key no captured function uses raises (Sacred's message, our
    suggestion as a hint); --force accepts it silently, as Sacred's flag does."""

    @ex.config
    def cfg():
        lr = 0.1

    @ex.main
    def main(lr):
        return lr

    with pytest.raises(ConfigAddedError) as info:
        ex.run(config_updates={"lr_rate": 0.5}, options=QUIET)
    assert str(info.value) == (
        "Added new config entry that is not used anywhere\n"
        "Conflicting configuration values:\n"
        "  lr_rate=0.5"
    )
    assert hints_of(info.value) == [
        "Config key 'lr_rate' is not used by any captured function. Did you mean 'lr'?"
    ]
    with caplog.at_level(logging.WARNING):
        run = ex.run(config_updates={"lr_rate": 0.5}, options={**QUIET, "--force": True})
    assert run.config["lr_rate"] == 0.5
    assert "lr_rate" not in caplog.text


def test_added_key_used_by_a_captured_function_is_fine(ex):
    """A new key is accepted when a captured function takes it as an argument."""

    @ex.capture
    def helper(extra=1):
        return extra

    @ex.main
    def main():
        return helper()

    assert ex.run(config_updates={"extra": 5}, options=QUIET).result == 5


def test_type_change_warns(ex, caplog):
    """Changing an entry's type logs a warning naming the entry and both types."""

    @ex.config
    def cfg():
        name = "adam"

    _main(ex)
    with caplog.at_level(logging.WARNING):
        run = ex.run(config_updates={"name": [1]}, options=QUIET)
    # Sacred's words, including the name of its container for a fixed list
    assert 'Changed type of config entry "name" from str to DogmaticList' in caplog.text
    assert run.config_modifications.typechanged == {"name": (str, DogmaticList)}


def test_summary_tells_modified_added_and_docs(ex):
    """The summary marks modified and added entries and keeps comment docs."""

    @ex.config
    def cfg():
        # the learning rate
        lr = 0.1
        epochs = 3  # how long to train

    @ex.main
    def main(lr, epochs, extra=0):
        return lr

    run = ex.run(config_updates={"lr": 0.2, "extra": 1}, options=QUIET)
    summary = run.config_modifications
    assert summary.modified == {"lr"}
    assert summary.added == {"extra"}
    assert summary.docs["lr"] == "the learning rate"
    assert summary.docs["epochs"] == "how long to train"


def test_config_is_read_only_in_captured_functions(ex):
    """Mutating _config or a config dict inside a captured function raises Sacred's error."""

    @ex.config
    def cfg():
        opt = {"lr": 1}

    @ex.main
    def main(_config, opt):
        with pytest.raises(SacredError, match="read-only in a captured function!"):
            _config["x"] = 1
        with pytest.raises(SacredError, match="read-only in a captured function!"):
            opt["lr"] = 2
        return "checked"

    assert ex.run(options=QUIET).result == "checked"


def test_ingredients_nest_their_config_under_their_path(memory):
    """An ingredient's config lives under its path and its captured functions read it."""
    data = Ingredient("dataset")

    @data.config
    def data_cfg():
        filename = "data.csv"
        rows = 10

    @data.capture
    def load(filename, rows):
        return f"{filename}:{rows}"

    ex = Experiment("with_ingredient", ingredients=[data])
    ex.observers.append(memory)

    @ex.main
    def main():
        return load()

    run = ex.run(config_updates={"dataset.rows": 5}, options=QUIET)
    assert run.config["dataset"] == {"filename": "data.csv", "rows": 5}
    assert run.result == "data.csv:5"


def test_return_in_config_scope_names_file_and_line():
    """A config scope with a return statement is rejected with its file and line."""
    ex = Experiment("bad")

    def cfg():
        a = 1
        return a

    with pytest.raises(SyntaxError) as info:
        ex.config(cfg)
    assert str(info.value).startswith("No return statements allowed in ConfigScopes\n('return a'")
    assert "test_config.py" in str(info.value)


def test_non_json_values_are_kept_in_config(ex):
    """Values that are not JSON (a set, a complex number) stay in the config."""

    @ex.config
    def cfg():
        values = {1, 2}
        z = 1 + 2j

    _main(ex)
    config = ex.run(options=QUIET).config
    assert config["values"] == {1, 2} and config["z"] == 1 + 2j


def test_seed_is_added_and_can_be_fixed(ex):
    """Every config gets a seed; 'with seed=N' fixes it."""
    _main(ex)
    assert isinstance(ex.run(options=QUIET).config["seed"], int)
    assert ex.run(config_updates={"seed": 42}, options=QUIET).config["seed"] == 42


def test_config_hook_updates_the_config(ex):
    """A config hook's returned dict is merged into the config."""

    @ex.config
    def cfg():
        a = 1

    @ex.config_hook
    def hook(config, command_name, logger):
        return {"b": config["a"] + 1, "command": command_name}

    _main(ex)
    config = ex.run(options=QUIET).config
    assert (config["b"], config["command"]) == (2, "main")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"a.b": 1}, 'Invalid key "a.b". Config-keys cannot contain "." or start with "\\$"'),
        ({"outer": {"$x": 1}}, 'Invalid key "\\$x"'),
        ({"py/object": 1}, 'Invalid key "py/object". Config-keys cannot be one of the reserved'),
        ({"a=b": 1}, "may not contain an equals sign"),
    ],
)
def test_keys_that_cannot_be_stored_are_refused(ex, values, message):
    """Config keys MongoDB, jsonpickle or the command line cannot handle raise KeyError
    (Sacred's messages) when the config is added."""
    with pytest.raises(KeyError, match=message):
        ex.add_config(values)


def test_linter_comments_are_not_docs(ex):
    """Comments matching SETTINGS.CONFIG.IGNORED_COMMENTS are not entry docs."""

    @ex.config
    def cfg():
        a = 1  # pylint: disable=invalid-name
        b = 2  # the real doc

    _main(ex)
    docs = ex.run(options=QUIET).config_modifications.docs
    assert "a" not in docs and docs["b"] == "the real doc"

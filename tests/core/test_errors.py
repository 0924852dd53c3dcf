"""Sacred's exception classes and the text the command line prints for an error."""

from __future__ import annotations

import pickle
import re
import traceback
from types import SimpleNamespace

import pytest

import sacredlite.errors as errors
import sacredlite.utils as utils
from sacredlite.error_text import cli_error_text, format_exception_traceback
from sacredlite.errors import (
    CircularDependencyError,
    ConfigAddedError,
    ConfigError,
    InvalidConfigError,
    MissingConfigError,
    NamedConfigNotFoundError,
    ObserverError,
    SacredError,
    SacredliteError,
    TimeoutInterrupt,
    add_hint,
    hints_of,
)

SACRED_NAMES = [
    "CircularDependencyError",
    "ConfigAddedError",
    "ConfigError",
    "InvalidConfigError",
    "MissingConfigError",
    "NamedConfigNotFoundError",
    "ObserverError",
    "SacredError",
    "SacredInterrupt",
    "SignatureError",
    "TimeoutInterrupt",
]


def caught(exc: BaseException) -> BaseException:
    """Raise and catch *exc*, so that it has a traceback."""
    try:
        raise exc
    except BaseException as error:  # noqa: BLE001 - the point is to return it
        return error


def caught_call(function):
    """Call *function* and return the exception it raises."""
    try:
        function()
    except Exception as error:  # noqa: BLE001 - the point is to return it
        return error
    raise AssertionError("no error")


def test_sacreds_names_are_importable_from_utils_and_errors():
    """Each Sacred exception is one class, importable from sacredlite.utils and .errors."""
    for name in SACRED_NAMES:
        assert getattr(utils, name) is getattr(errors, name)


def test_sacreds_errors_print_as_sacredlite_utils():
    """Like Sacred's sacred.utils.X, the error line reads sacredlite.utils.X, and pickles."""
    error = NamedConfigNotFoundError("x")
    assert traceback.format_exception_only(type(error), error)[0].startswith(
        "sacredlite.utils.NamedConfigNotFoundError: "
    )
    assert str(pickle.loads(pickle.dumps(SacredError("m")))) == "m"


def test_everything_derives_from_sacredlite_error():
    """SacredliteError stays the common base; ObserverError is no SacredError (as Sacred)."""
    assert issubclass(SacredError, SacredliteError)
    assert issubclass(ObserverError, SacredliteError)
    assert not issubclass(ObserverError, SacredError)
    assert TimeoutInterrupt.STATUS == "TIMEOUT"


def test_sacred_error_keeps_its_presentation_flags():
    """SacredError stores Sacred's flags and refuses an unknown filter mode."""
    error = SacredError("m", print_traceback=False, filter_traceback="never", print_usage=True)
    assert (error.print_traceback, error.filter_traceback, error.print_usage) == (
        False,
        "never",
        True,
    )
    with pytest.raises(ValueError, match="filter_traceback must be one of"):
        SacredError("m", filter_traceback="sometimes")


def test_config_error_lists_the_conflicting_values():
    """ConfigError's message ends with one 'path=value' line per conflicting entry."""
    error = ConfigError(
        "Bad values", conflicting_configs=("a", "b.c"), config={"a": 3, "b": {"c": 4}}
    )
    assert str(error) == "Bad values\nConflicting configuration values:\n  a=3\n  b.c=4"
    assert str(ConfigError("x", "a", print_conflicting_configs=False)) == "x"
    assert str(InvalidConfigError("Need equal", conflicting_configs="q")).endswith("\n  q=None")


def test_config_error_track_sets_prefix_and_config_once():
    """track() gives the error the innermost config and prefixes its paths once."""
    with pytest.raises(ConfigError) as info:
        with ConfigError.track({"outer": 1}, "top"):
            with ConfigError.track({"x": 5}, "sub"):
                raise ConfigError("bad", conflicting_configs="x")
    assert info.value.conflicting_configs == ("sub.x",)
    assert str(info.value).endswith("  sub.x=None")
    assert info.value.config == {"x": 5}


def test_config_added_error_is_sacreds_message():
    """ConfigAddedError says what Sacred says; suggestions become a hint line."""
    error = ConfigAddedError("lr_rate", config={"lr_rate": 0.5})
    assert str(error) == (
        "Added new config entry that is not used anywhere\n"
        "Conflicting configuration values:\n"
        "  lr_rate=0.5"
    )
    assert error.print_traceback is False and hints_of(error) == []
    hinted = ConfigAddedError("lr_rate", captured_args={"lr", "_log"}, print_suggestions=False)
    assert "Possible config keys" not in str(hinted)
    assert hints_of(hinted) == [
        "Config key 'lr_rate' is not used by any captured function. Did you mean 'lr'?"
    ]
    assert str(ConfigAddedError("z", captured_args=["lr", "_log"])).endswith(
        "\nPossible config keys are: {'lr'}"
    )


def test_empty_added_path_shows_the_whole_config():
    """As in Sacred, the empty path (from 'with =3') looks up the whole config."""
    assert str(ConfigAddedError("", config={"": 3, "a": 1})).endswith("\n  ={'': 3, 'a': 1}")


def test_missing_config_error_message_and_usage():
    """MissingConfigError joins message and missing names, and asks for the usage."""
    error = MissingConfigError("inner is missing value(s):", missing_configs=["zz"])
    assert str(error) == "inner is missing value(s): ['zz']"
    assert (error.print_usage, error.print_traceback) == (True, False)
    assert str(MissingConfigError()) == "Configuration values are missing: ()"


def test_named_config_not_found_message_and_hint():
    """The message lists the available names as Sacred does; a close name is a hint."""
    error = NamedConfigNotFoundError("fsat", available_named_configs=("fast", "slow"))
    assert str(error) == (
        "Named config not found: \"fsat\". Available config values are: ('fast', 'slow')"
    )
    assert hints_of(error) == ["Named config 'fsat' not found. Did you mean 'fast'?"]
    assert hints_of(NamedConfigNotFoundError("cfg.json")) == [
        "Config file 'cfg.json' does not exist; check the path."
    ]


def test_circular_dependency_error_shows_the_cycle():
    """track() collects ingredients until the cycle closes: exp->ing->exp."""
    exp, ing = SimpleNamespace(path="exp"), SimpleNamespace(path="ing")
    with pytest.raises(CircularDependencyError, match="exp->ing->exp") as info:
        with CircularDependencyError.track(SimpleNamespace(path="outer")):
            with CircularDependencyError.track(exp):
                with CircularDependencyError.track(ing):
                    raise CircularDependencyError(ingredients=[exp])
    assert str(info.value) == "Circular dependency detected:exp->ing->exp"


def test_a_bare_hint_attribute_gets_its_subject():
    """A core-set ``hint`` ('Did you mean ...?') is shown with what it is about."""
    error = ConfigAddedError("lr_rate")
    error.hint = "Did you mean 'lr'?"
    assert hints_of(error) == [
        "Config key 'lr_rate' is not used by any captured function. Did you mean 'lr'?"
    ]
    named = NamedConfigNotFoundError("fsat", available_named_configs=("fast",))
    named.hint = "Did you mean 'fast'?"
    assert hints_of(named) == ["Named config 'fsat' not found. Did you mean 'fast'?"]


def test_add_hint_works_on_any_exception():
    """Hints attach to builtin exceptions too, once each, and leave the message alone."""
    error = add_hint(add_hint(KeyError("x"), "Try y."), "Try y.")
    assert hints_of(error) == ["Try y."] and str(error) == "'x'"


def _raise_in_user_code():
    raise RuntimeError("user failure")


def test_traceback_without_sacredlite_frames():
    """A user error's traceback drops sacredlite's frames under Sacred's header."""
    from sacredlite.config.paths import get_by_dotted_path

    class Boom(dict):
        def __contains__(self, key):
            _raise_in_user_code()

    error = caught_call(lambda: get_by_dotted_path(Boom(), "a"))
    text = format_exception_traceback(error)
    assert text.startswith("Traceback (most recent calls WITHOUT Sacred internals):\n")
    assert "sacredlite" not in text and "in _raise_in_user_code" in text
    assert text.endswith("RuntimeError: user failure\n")
    assert "sacredlite/config/paths.py" in format_exception_traceback(error, "never")


def test_error_raised_inside_sacredlite_shows_only_that_frame():
    """An error raised by sacredlite itself shows Sacred's 'originated from within' text."""
    from sacredlite.arg_parser import get_config_updates

    error = caught_call(lambda: get_config_updates(["a=1", "a.b=2"]))
    text = format_exception_traceback(error)
    assert re.fullmatch(
        r"Exception originated from within Sacred\.\nTraceback \(most recent calls\):\n"
        r'  File ".*sacredlite/config/updates\.py", line \d+, in _assign\n.*\n'
        r"TypeError: 'int' object does not support item assignment",
        text,
        re.S,
    )


def test_chained_errors_are_filtered_too():
    """Each exception of a chain gets the filtered header."""

    def chained():
        try:
            _raise_in_user_code()
        except RuntimeError as exc:
            raise ValueError("wrapped") from exc

    text = format_exception_traceback(caught_call(chained), "always")
    assert text.count("Traceback (most recent calls WITHOUT Sacred internals):") == 2
    assert "direct cause of the following exception" in text


def test_cli_error_text_for_a_sacred_error():
    """A SacredError gives hints, the usage if asked, the error line, a blank line; exit 1."""
    error = caught(MissingConfigError("f is missing value(s):", missing_configs=["x"]))
    text, code = cli_error_text(error, "Usage:\n  prog", hints=["A hint."])
    assert code == 1
    assert text == (
        "A hint.\nUsage:\n  prog\nsacredlite.utils.MissingConfigError: f is missing value(s): "
        "['x']\n\n"
    )


def test_cli_error_text_with_traceback_and_debug():
    """print_traceback shows the filtered traceback; debug shows everything."""
    error = caught(SacredError("message"))
    text, _ = cli_error_text(error, "usage")
    assert text.startswith("Traceback (most recent calls WITHOUT Sacred internals):\n")
    assert text.endswith("sacredlite.utils.SacredError: message\n\n")
    debug_text, _ = cli_error_text(error, "usage", debug=True)
    assert debug_text.startswith("Traceback (most recent call last):\n")
    assert debug_text.endswith("sacredlite.utils.SacredError: message\n")

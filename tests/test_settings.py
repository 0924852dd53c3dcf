"""SETTINGS: Sacred's names, attribute and item access, validation, copies, snapshots."""

from __future__ import annotations

import copy
import pickle

import pytest

import sacredlite
from sacredlite.errors import SacredliteError
from sacredlite.settings import SETTINGS, SettingError


@pytest.fixture(autouse=True)
def restore():
    yield
    SETTINGS.reset()


def test_sacred_defaults():
    """The defaults match Sacred's documented ones."""
    assert SETTINGS.CAPTURE_MODE == "fd"
    assert SETTINGS["CONFIG"]["READ_ONLY_CONFIG"] is True
    assert SETTINGS.CONFIG.ENFORCE_KEYS_MONGO_COMPATIBLE is True
    assert SETTINGS.HOST_INFO.INCLUDE_GPU_INFO is True
    assert SETTINGS.HOST_INFO.CAPTURED_ENV == []
    assert SETTINGS.COMMAND_LINE.STRICT_PARSING is False
    assert (SETTINGS.DISCOVER_SOURCES, SETTINGS.DISCOVER_DEPENDENCIES) == ("imported",) * 2
    assert SETTINGS.CONFIG.NUMPY_RANDOM_LEGACY_API is False
    assert SETTINGS.DEFAULT_BEAT_INTERVAL == 10.0
    assert SETTINGS.DEFAULT_JOIN_TIMEOUT == 5.0
    assert SETTINGS.COMMAND_LINE.SHOW_DISABLED_OPTIONS is True
    assert sacredlite.SETTINGS is SETTINGS


def test_sacreds_keys_are_all_there():
    """Every key of Sacred 0.8.7's settings exists, in the same sections, plus one of ours
    (the end-of-run wait for an unreachable database, issue 9)."""
    assert set(SETTINGS) == {
        "CONFIG",
        "HOST_INFO",
        "COMMAND_LINE",
        "CAPTURE_MODE",
        "DISCOVER_DEPENDENCIES",
        "DISCOVER_SOURCES",
        "DEFAULT_BEAT_INTERVAL",
        "DEFAULT_JOIN_TIMEOUT",
        "SYSTEM_METRICS",
    }
    assert set(SETTINGS.CONFIG) == {
        "ENFORCE_KEYS_MONGO_COMPATIBLE",
        "ENFORCE_KEYS_JSONPICKLE_COMPATIBLE",
        "ENFORCE_VALID_PYTHON_IDENTIFIER_KEYS",
        "ENFORCE_STRING_KEYS",
        "ENFORCE_KEYS_NO_EQUALS",
        "READ_ONLY_CONFIG",
        "IGNORED_COMMENTS",
        "NUMPY_RANDOM_LEGACY_API",
        "MAX_LOAD_SIZE",  # sacredlite's own: the size limit of a config read from a file
    }
    assert set(SETTINGS.HOST_INFO) == {"INCLUDE_GPU_INFO", "INCLUDE_CPU_INFO", "CAPTURED_ENV"}
    assert set(SETTINGS.COMMAND_LINE) == {"STRICT_PARSING", "SHOW_DISABLED_OPTIONS"}


def test_attribute_and_item_access_are_equivalent():
    """Setting through attributes or items changes the same value."""
    SETTINGS["HOST_INFO"]["INCLUDE_GPU_INFO"] = False
    assert SETTINGS.HOST_INFO.INCLUDE_GPU_INFO is False
    SETTINGS.HOST_INFO.CAPTURED_ENV.append("HOME")
    assert SETTINGS["HOST_INFO"]["CAPTURED_ENV"] == ["HOME"]


def test_unknown_key_suggests_the_right_one():
    """A misspelled setting raises SettingError and suggests the existing name."""
    with pytest.raises(SettingError, match="Did you mean 'CAPTURE_MODE'"):
        SETTINGS.CAPTURE_MODEL = "sys"
    with pytest.raises(SettingError, match="Unknown setting: SETTINGS.HOST_INFO.INCLUDE_GPU"):
        SETTINGS.HOST_INFO.INCLUDE_GPU  # noqa: B018
    with pytest.raises(SettingError, match="Possible keys are: .*'READ_ONLY_CONFIG'"):
        SETTINGS["CONFIG"]["READ_ONLY"] = True


def test_setting_error_is_a_key_and_attribute_error():
    """SettingError is also a KeyError and an AttributeError: get() and getattr() with a
    default keep working, and its message is shown unquoted."""
    assert issubclass(SettingError, KeyError) and issubclass(SettingError, AttributeError)
    assert issubclass(SettingError, SacredliteError)
    assert SETTINGS.get("NOPE") is None
    assert getattr(SETTINGS.CONFIG, "NOPE", "default") == "default"
    assert not hasattr(SETTINGS, "NOPE")
    with pytest.raises(SettingError) as info:
        SETTINGS["NOPE"] = 1
    assert str(info.value).startswith("Unknown setting: SETTINGS.NOPE.")


def test_a_section_cannot_become_a_value():
    """Assigning a plain value over a section raises SettingError, in both forms."""
    with pytest.raises(SettingError, match="SETTINGS.CONFIG is a section"):
        SETTINGS.CONFIG = "invalid"
    with pytest.raises(SettingError, match="set its entries instead"):
        SETTINGS["HOST_INFO"] = 1
    assert SETTINGS.CONFIG.READ_ONLY_CONFIG is True


def test_deep_copy_is_independent():
    """copy.deepcopy(SETTINGS) gives a copy with the same rules that changes alone."""
    copied = copy.deepcopy(SETTINGS)
    copied.CONFIG.READ_ONLY_CONFIG = False
    copied.HOST_INFO.CAPTURED_ENV.append("HOME")
    assert SETTINGS.CONFIG.READ_ONLY_CONFIG is True
    assert SETTINGS.HOST_INFO.CAPTURED_ENV == []
    with pytest.raises(SettingError):
        copied.INVALID_SETTING = "invalid"
    assert copy.copy(SETTINGS).to_dict() == SETTINGS.to_dict()
    frozen = pickle.loads(pickle.dumps(SETTINGS.snapshot()))
    with pytest.raises(TypeError, match="read-only snapshot"):
        frozen.CAPTURE_MODE = "sys"


def test_invalid_choice_is_rejected():
    """A capture mode outside no/sys/fd is rejected, naming the valid ones."""
    with pytest.raises(ValueError, match="Use one of 'fd', 'no', 'sys'"):
        SETTINGS.CAPTURE_MODE = "tee"


def test_snapshot_is_a_frozen_copy():
    """A snapshot keeps its values when SETTINGS changes and refuses assignment."""
    snap = SETTINGS.snapshot()
    SETTINGS.CAPTURE_MODE = "sys"
    SETTINGS.HOST_INFO.CAPTURED_ENV.append("X")
    assert snap.CAPTURE_MODE == "fd"
    assert snap.HOST_INFO.CAPTURED_ENV == []
    with pytest.raises(TypeError, match="read-only snapshot"):
        snap.HOST_INFO.INCLUDE_GPU_INFO = False
    assert SETTINGS.snapshot().to_dict()["CAPTURE_MODE"] == "sys"


def test_section_update_from_dict():
    """Assigning a dict to a section updates its entries one by one, with validation."""
    SETTINGS.HOST_INFO = {"INCLUDE_GPU_INFO": False}
    assert SETTINGS.HOST_INFO.INCLUDE_GPU_INFO is False
    assert SETTINGS.HOST_INFO.CAPTURED_ENV == []
    with pytest.raises(SettingError):
        SETTINGS.HOST_INFO = {"NOPE": 1}

"""Host info: static facts, environment variables, GPUs via a real fake nvidia-smi, gatherers."""

from __future__ import annotations

import os
import platform
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import sacredlite.host_info
from sacredlite.info import host
from sacredlite.info.host import (
    HostInfoGetter,
    IgnoreHostInfo,
    check_additional_host_info,
    get_host_info,
    host_info_gatherer,
    host_info_getter,
)
from sacredlite.settings import SETTINGS

NVIDIA_XML = """<?xml version="1.0" ?>
<nvidia_smi_log>
  <driver_version>535.1</driver_version>
  <gpu id="0">
    <product_name>Tesla T4</product_name>
    <persistence_mode>Enabled</persistence_mode>
    <fb_memory_usage><total>15360 MiB</total></fb_memory_usage>
  </gpu>
</nvidia_smi_log>
"""


@pytest.fixture(autouse=True)
def fresh_caches():
    host._gpu_info.cache_clear()
    saved = dict(host.host_info_gatherers)
    yield
    host._gpu_info.cache_clear()
    host.host_info_gatherers.clear()
    host.host_info_gatherers.update(saved)
    SETTINGS.reset()


def settings(**changes: object) -> dict[str, object]:
    """HOST_INFO settings with *changes*, as the core passes its snapshot."""
    return {**SETTINGS.HOST_INFO.to_dict(), **changes}


def test_static_host_info():
    """Hostname, OS, Python version and CPU model are recorded under Sacred's keys."""
    info = get_host_info()
    assert [k for k in info if k != "gpus"] == ["hostname", "os", "python_version", "cpu", "ENV"]
    assert info["hostname"] == platform.node()
    assert info["os"] == [platform.system(), platform.platform()]
    assert info["python_version"] == platform.python_version()
    assert isinstance(info["cpu"], str) and info["cpu"]
    assert info["ENV"] == {}


def test_captured_env(monkeypatch: pytest.MonkeyPatch):
    """Listed environment variables that are set are stored under ENV."""
    monkeypatch.setenv("SL_TEST_VAR", "42")
    monkeypatch.delenv("SL_UNSET_VAR", raising=False)
    info = get_host_info(settings=settings(CAPTURED_ENV=["SL_TEST_VAR", "SL_UNSET_VAR"]))
    assert info["ENV"] == {"SL_TEST_VAR": "42"}


def test_settings_are_read_when_called(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Without explicit settings, SETTINGS.HOST_INFO is read at the call; switched-off CPU
    and GPU info are stored as None, as Sacred does."""
    monkeypatch.setenv("PATH", str(tmp_path))
    SETTINGS.HOST_INFO.INCLUDE_CPU_INFO = False
    SETTINGS.HOST_INFO.INCLUDE_GPU_INFO = False
    info = get_host_info()
    assert info["cpu"] is None and info["gpus"] is None
    SETTINGS.HOST_INFO.INCLUDE_CPU_INFO = True
    assert isinstance(get_host_info()["cpu"], str)
    assert get_host_info(settings=settings(INCLUDE_CPU_INFO=False))["cpu"] is None


def test_no_gpus_key_without_nvidia_smi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Without nvidia-smi on PATH there is no gpus entry."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "gpus" not in get_host_info()


def fake_nvidia_smi(directory: Path, body: str) -> None:
    exe = directory / "nvidia-smi"
    exe.write_text(f"#!/bin/sh\n{body}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)


def test_gpus_from_nvidia_smi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """GPU model, memory and persistence mode are parsed from nvidia-smi's XML."""
    (tmp_path / "out.xml").write_text(NVIDIA_XML)
    fake_nvidia_smi(tmp_path, f"cat {tmp_path / 'out.xml'}")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert get_host_info()["gpus"] == {
        "gpus": [{"model": "Tesla T4", "total_memory": 15360, "persistence_mode": True}],
        "driver_version": "535.1",
    }
    assert get_host_info(settings=settings(INCLUDE_GPU_INFO=False))["gpus"] is None


def test_failing_nvidia_smi_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A failing or hanging nvidia-smi leaves gpus out and never raises."""
    fake_nvidia_smi(tmp_path, "exit 9")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert "gpus" not in get_host_info()
    host._gpu_info.cache_clear()
    fake_nvidia_smi(tmp_path, "sleep 5")
    monkeypatch.setattr(host, "GPU_QUERY_TIMEOUT", 0.2)
    assert "gpus" not in get_host_info()


def test_gatherers():
    """Global getters, HostInfoGetter objects and named functions add entries, before the
    built-in ones; a gatherer raising IgnoreHostInfo is left out."""
    with pytest.warns(DeprecationWarning, match="host_info_getter is deprecated"):

        @host_info_getter
        def answer():
            return 42

    with pytest.warns(DeprecationWarning):

        @host_info_getter(name="renamed")
        def whatever():
            return "x"

    @host_info_gatherer("skip")
    def skip():
        raise IgnoreHostInfo()

    def plain():
        return [1]

    assert host.host_info_gatherers["renamed"] is whatever
    info = get_host_info([skip, plain, HostInfoGetter(lambda: 1, "one")])
    assert list(info)[:4] == ["answer", "renamed", "plain", "one"]
    assert (info["answer"], info["renamed"], info["plain"], info["one"]) == (42, "x", [1], 1)
    assert "skip" not in info
    assert get_host_info({"d": lambda: "dict"})["d"] == "dict"


def test_builtin_key_keeps_its_value():
    """A global getter named like a built-in key is ignored with a warning (Sacred ignores
    it silently); an additional gatherer with such a name is refused (Sacred's KeyError)."""
    with pytest.warns(UserWarning, match="'cpu' is built in"), pytest.warns(DeprecationWarning):
        host_info_getter(lambda: "fake", name="cpu")
    assert get_host_info()["cpu"] != "fake"
    with pytest.raises(KeyError, match="Key cpu used in `additional_host_info`"):
        check_additional_host_info([HostInfoGetter(lambda: 1, "cpu")])
    with pytest.raises(KeyError, match="already exists as a default gatherer"):
        get_host_info([HostInfoGetter(lambda: 1, "hostname")])


def test_sacred_module_path():
    """sacredlite.host_info is Sacred's module path for the same objects."""
    assert sacredlite.host_info.host_info_gatherers is host.host_info_gatherers
    assert sacredlite.host_info.get_host_info is get_host_info
    assert sacredlite.host_info_gatherer is host_info_gatherer


def test_os_string_matches_platform_module():
    """The recorded OS string equals platform.platform(), computed without a process."""
    assert host._platform_string() == platform.platform()


def test_no_process_is_spawned(tmp_path: Path):
    """Gathering host info never starts a process when nvidia-smi is absent (Sacred #743)."""
    code = (
        "import sys\n"
        "events = []\n"
        "sys.addaudithook(lambda e, a: events.append(e) if e.split('.')[0] in "
        "('subprocess', 'os') and ('spawn' in e or 'exec' in e or 'fork' in e or "
        "e == 'subprocess.Popen') else None)\n"
        "from sacredlite.info.host import get_host_info\n"
        "info = get_host_info()\n"
        "print(sorted(info), events)\n"
    )
    env = {**os.environ, "PATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("[]"), out.stdout

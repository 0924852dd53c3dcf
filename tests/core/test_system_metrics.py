"""System metrics: the run's CPU and memory (and the host's GPUs) logged under system/."""

from __future__ import annotations

import sys
import time
import types

import pytest

from sacredlite import Experiment
from sacredlite.observers import MemoryObserver
from sacredlite.settings import SETTINGS
from sacredlite.system_metrics import SystemSampler


def _busy_run(beat: float, seconds: float) -> MemoryObserver:
    memory = MemoryObserver()
    ex = Experiment("busy")
    ex.observers.append(memory)

    @ex.main
    def main():
        end = time.time() + seconds
        total = 0
        while time.time() < end:
            total += sum(range(1000))
        return total

    ex.run(options={"--capture": "no", "--beat-interval": beat, "--loglevel": "ERROR"})
    return memory


def test_heartbeats_log_cpu_and_memory():
    """A run of a few heartbeats has system/cpu_percent (a busy core: well above 0) and
    system/rss_mib, one point per scheduled heartbeat."""
    metrics = _busy_run(beat=0.2, seconds=1.2).last_run.metrics
    cpu = metrics["system/cpu_percent"]["values"]
    rss = metrics["system/rss_mib"]["values"]
    assert len(cpu) >= 3 and len(rss) == len(cpu)
    assert max(cpu) > 20.0
    assert all(value > 5.0 for value in rss)


def test_a_run_shorter_than_a_heartbeat_has_none():
    """A run that ends before its first heartbeat stores no system metrics (as Sacred's
    metrics.json of such a run is empty)."""
    metrics = _busy_run(beat=10.0, seconds=0.05).last_run.metrics
    assert not any(name.startswith("system/") for name in metrics)


def test_the_setting_switches_them_off(monkeypatch):
    """SETTINGS.SYSTEM_METRICS = False: no system/ metrics."""
    monkeypatch.setitem(SETTINGS._values, "SYSTEM_METRICS", False)
    metrics = _busy_run(beat=0.2, seconds=0.7).last_run.metrics
    assert not any(name.startswith("system/") for name in metrics)


def test_gpus_are_sampled_through_nvml(monkeypatch):
    """With nvidia-ml-py present, each GPU's utilisation and memory are sampled (NVML is
    faked: this machine has no GPU)."""
    fake = types.ModuleType("pynvml")
    fake.nvmlInit = lambda: None
    fake.nvmlDeviceGetCount = lambda: 2
    fake.nvmlDeviceGetHandleByIndex = lambda index: index
    fake.nvmlDeviceGetUtilizationRates = lambda handle: types.SimpleNamespace(gpu=40 + handle)
    fake.nvmlDeviceGetMemoryInfo = lambda handle: types.SimpleNamespace(used=(handle + 1) * 2**30)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    sample = SystemSampler().sample()
    assert sample["system/gpu0_util_percent"] == 40.0
    assert sample["system/gpu1_util_percent"] == 41.0
    assert sample["system/gpu1_memory_mib"] == 2048.0


@pytest.mark.parametrize("psutil_present", [True, False])
def test_memory_is_read_with_or_without_psutil(monkeypatch, psutil_present):
    """Resident memory comes from psutil when installed, else from /proc: both agree."""
    if psutil_present:
        pytest.importorskip("psutil")
    else:
        monkeypatch.setitem(sys.modules, "psutil", None)
    rss = SystemSampler().sample()["system/rss_mib"]
    assert 5.0 < rss < 100_000.0

"""CPU, memory and GPU of a running experiment, sampled at each heartbeat (internal).

The run logs the samples as ordinary metrics under ``system/`` (so every reader shows
them, Omniboard included): ``system/cpu_percent`` (the process's CPU time over the last
interval; 100 is one core busy), ``system/rss_mib`` (its resident memory) and, per NVIDIA
GPU of the host, ``system/gpu<i>_util_percent`` and ``system/gpu<i>_memory_mib`` (through
nvidia-ml-py when it is installed; nothing otherwise). ``SETTINGS.SYSTEM_METRICS = False``
switches it off.

Nothing here runs a process. CPU time comes from ``os.times()``; memory from psutil when it
is installed, else ``/proc/self/statm``, else the peak from ``resource``.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

__all__ = ["SystemSampler"]

PREFIX = "system/"


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _psutil() -> Any:
    try:
        import psutil
    except ImportError:
        return None
    return psutil


def _rss_bytes() -> float | None:
    psutil = _psutil()
    if psutil is not None:
        return float(psutil.Process().memory_info().rss)
    try:
        with open("/proc/self/statm", "rb") as statm:
            return float(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows without psutil
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return float(peak if sys.platform == "darwin" else peak * 1024)


def _gpu_handles() -> tuple[Any, list[Any]]:
    """Return ``(pynvml, device handles)``; no handles when NVML is not available."""
    try:
        import pynvml
    except ImportError:
        return None, []
    try:
        pynvml.nvmlInit()
        count = pynvml.nvmlDeviceGetCount()
        return pynvml, [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
    except Exception:  # noqa: BLE001 - no driver, no device: no GPU metrics
        return None, []


class SystemSampler:
    """Take samples of this process's CPU and memory and the host's GPUs."""

    def __init__(self) -> None:
        self._last_time = time.monotonic()
        self._last_cpu = _cpu_seconds()
        self._nvml, self._gpus = _gpu_handles()

    def sample(self) -> dict[str, float]:
        """Return ``{metric name: value}`` for the time since the previous sample."""
        now, cpu = time.monotonic(), _cpu_seconds()
        elapsed = now - self._last_time
        values: dict[str, float] = {}
        if elapsed > 0:
            values[f"{PREFIX}cpu_percent"] = round(100.0 * (cpu - self._last_cpu) / elapsed, 1)
        self._last_time, self._last_cpu = now, cpu
        rss = _rss_bytes()
        if rss is not None:
            values[f"{PREFIX}rss_mib"] = round(rss / 2**20, 1)
        for index, handle in enumerate(self._gpus):
            try:
                use = self._nvml.nvmlDeviceGetUtilizationRates(handle)
                memory = self._nvml.nvmlDeviceGetMemoryInfo(handle)
            except Exception:  # noqa: BLE001 - a device that went away is skipped
                continue
            values[f"{PREFIX}gpu{index}_util_percent"] = float(use.gpu)
            values[f"{PREFIX}gpu{index}_memory_mib"] = round(memory.used / 2**20, 1)
        return values

"""Information about the machine a run executes on (Sacred's ``host`` entry).

``get_host_info()`` returns entries from registered gatherers plus ``{"hostname", "os":
[system, platform], "python_version", "cpu", "gpus"?, "ENV": {...}}``, as Sacred does, reading
``SETTINGS.HOST_INFO`` (or the settings it is given). Unlike Sacred it
never spawns a process for the CPU model (Sacred forks ``cpuinfo``, which crashes MPI jobs,
Sacred #743): it reads ``/proc/cpuinfo`` or asks :mod:`platform`. GPUs are queried with
``nvidia-smi`` only when it is on ``PATH``, with a short timeout, and never fail the run.
The static part is computed once per process.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, overload

__all__ = [
    "HostInfoGetter",
    "IgnoreHostInfo",
    "check_additional_host_info",
    "get_host_info",
    "host_info_gatherer",
    "host_info_gatherers",
    "host_info_getter",
]

GPU_QUERY_TIMEOUT = 2.0
"""Seconds ``nvidia-smi`` may take before GPU info is skipped."""


class IgnoreHostInfo(Exception):
    """Raise inside a gatherer to leave its entry out of the host info."""


class HostInfoGetter:
    """A named host-info gatherer, for ``Experiment(additional_host_info=[...])``.

    Args:
        getter_function: called without arguments; returns JSON-serialisable data.
        name: the key in the host info.
    """

    def __init__(self, getter_function: Callable[[], Any], name: str) -> None:
        self.getter_function = getter_function
        self.name = name

    def __call__(self) -> Any:
        return self.getter_function()

    def get_info(self) -> Any:
        """Return this gatherer's value."""
        return self.getter_function()


host_info_gatherers: dict[str, Callable[[], Any]] = {}
"""Gatherers registered with :func:`host_info_getter`, added to every run's host info."""


def host_info_gatherer(name: str) -> Callable[[Callable[[], Any]], HostInfoGetter]:
    """Turn a function into a :class:`HostInfoGetter` named *name*.

    Pass the result to ``Experiment(additional_host_info=[...])``: unlike
    :func:`host_info_getter`, it adds the entry to that experiment's runs only.

    Args:
        name: the key in the host info.
    """

    def wrap(func: Callable[[], Any]) -> HostInfoGetter:
        return HostInfoGetter(func, name)

    return wrap


@overload
def host_info_getter(func: Callable[[], Any], name: str | None = None) -> Callable[[], Any]: ...
@overload
def host_info_getter(
    func: None = None, name: str | None = None
) -> Callable[[Callable[[], Any]], Callable[[], Any]]: ...
def host_info_getter(func: Callable[[], Any] | None = None, name: str | None = None) -> Any:
    """Register *func* globally; its result is stored under *name* in every run's host info.

    Use as ``@host_info_getter`` or ``@host_info_getter(name="ip")``. Returns the function
    unchanged. Deprecated as in Sacred (a ``DeprecationWarning`` with Sacred's text): use
    :func:`host_info_gatherer` and ``Experiment(additional_host_info=[...])`` instead.

    Args:
        func: called without arguments; returns JSON-serialisable data.
        name: the key in the host info; defaults to the function's name.
    """
    if func is None:
        return functools.partial(host_info_getter, name=name)
    import warnings

    warnings.warn(
        "The host_info_getter is deprecated. Please use the `additional_host_info` "
        "argument in the Experiment constructor.",
        DeprecationWarning,
        stacklevel=2,
    )
    key = name or func.__name__
    if key in _BUILTIN_KEYS:
        # Sacred records its own value under a built-in key and ignores the function
        warnings.warn(
            f"Host info key {key!r} is built in: the built-in value is recorded and "
            f"{func.__name__}() is never called; name the gatherer differently.",
            stacklevel=2,
        )
    host_info_gatherers[key] = func
    return func


def check_additional_host_info(additional_host_info: Iterable[Any]) -> None:
    """Raise ``KeyError`` if an ``additional_host_info`` gatherer uses a built-in key.

    Sacred's check, made when the Experiment is created.

    Args:
        additional_host_info: :class:`HostInfoGetter` objects (or named functions).
    """
    for getter in additional_host_info:
        if _gatherer_name(getter) in _BUILTIN_KEYS:
            raise KeyError(
                f"Key {_gatherer_name(getter)} used in `additional_host_info` already "
                "exists as a default gatherer function. Do not use the following keys: "
                f"{list(_BUILTIN_KEYS)}"
            )


def _gatherer_name(getter: Any) -> str:
    name = getattr(getter, "name", None) or getattr(getter, "__name__", None)
    if not isinstance(name, str):
        raise TypeError(
            f"Additional host info {getter!r} has no name; wrap it with "
            "@host_info_gatherer('name')."
        )
    return name


_BUILTIN_KEYS = ("hostname", "os", "python_version", "cpu", "gpus", "ENV")


@functools.lru_cache(maxsize=1)
def _cpu_model() -> str:
    """Return the CPU model name without spawning a process (once per process)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                key, sep, value = line.partition(":")
                # x86: "model name"; other architectures use one of the other keys
                if sep and key.strip() in ("model name", "cpu model", "Hardware", "Processor"):
                    if value.strip():
                        return value.strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        brand = _darwin_sysctl("machdep.cpu.brand_string")
        if brand:
            return brand
    import platform

    if sys.platform == "win32":
        return platform.processor() or platform.machine() or "Unknown"  # no process there
    # Not platform.processor(): on Linux and macOS it runs `uname -p` in a subprocess.
    return platform.machine() or "Unknown"


def _darwin_sysctl(name: str) -> str | None:
    """Read a string sysctl in-process (Sacred runs the ``sysctl`` program)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        size = ctypes.c_size_t(0)
        if libc.sysctlbyname(name.encode(), None, ctypes.byref(size), None, 0) != 0:
            return None
        buf = ctypes.create_string_buffer(size.value)
        if libc.sysctlbyname(name.encode(), buf, ctypes.byref(size), None, 0) != 0:
            return None
        return buf.value.decode(errors="replace").strip() or None
    except (OSError, AttributeError, ValueError):
        return None


def _platform_string() -> str:
    """Return ``platform.platform()`` without the subprocesses it may spawn.

    ``platform.platform()`` asks for the processor, which on Linux and macOS runs
    ``uname -p`` (and on macOS also ``file``): exactly what crashes MPI jobs. On Linux
    the same string is assembled here from ``os.uname()`` and ``libc_ver()`` (the processor
    part is blank on Linux in practice); elsewhere ``platform.platform()`` is used, except
    on macOS where the processor and linkage parts are left out.
    """
    system = _system()
    if system == "Linux":
        uname = os.uname()
        libc, version = _libc_ver()
        parts = [system, uname.release, uname.machine, "with", libc + version]
        return _clean_platform(parts)
    import platform

    if system == "Darwin":
        uname = os.uname()
        release = platform.mac_ver()[0]
        parts = ["macOS" if release else system, release or uname.release, uname.machine]
        parts.append(f"{_struct_bits()}bit")
    else:
        return platform.platform()
    return _clean_platform(parts)


def _clean_platform(parts: list[str]) -> str:
    """Join like ``platform._platform``: no blanks or 'unknown', no path characters."""
    text = "-".join(part.strip() for part in parts if part)
    for char in ' /\\:;"()':
        text = text.replace(char, "_" if char == " " else "-")
    text = text.replace("unknown", "")
    while "--" in text:
        text = text.replace("--", "-")
    return text.rstrip("-")


def _struct_bits() -> int:
    """Return the pointer size of this Python in bits."""
    import struct

    return struct.calcsize("P") * 8


def _system() -> str:
    """``platform.system()``; on POSIX straight from ``os.uname()``."""
    if hasattr(os, "uname"):
        return os.uname().sysname
    import platform

    return platform.system()


def _libc_ver() -> tuple[str, str]:
    """``platform.libc_ver()``: glibc answers through ``confstr`` without a file scan."""
    try:
        name, _, version = os.confstr("CS_GNU_LIBC_VERSION").partition(" ")  # type: ignore[union-attr]
        if name and version:
            return name, version
    except (AttributeError, ValueError, OSError):
        pass
    import platform

    return platform.libc_ver()


@functools.lru_cache(maxsize=1)
def _static_info() -> tuple[tuple[str, Any], ...]:
    # On Linux the platform module (2.5 ms to import) is not needed at all.
    if hasattr(os, "uname"):
        node, python_version = os.uname().nodename, sys.version.split()[0]
    else:  # pragma: no cover - Windows
        import platform

        node, python_version = platform.node(), platform.python_version()
    info: list[tuple[str, Any]] = [
        ("hostname", node),
        ("os", (_system(), _platform_string())),
        ("python_version", python_version),
    ]
    return tuple(info)


@functools.lru_cache(maxsize=1)
def _gpu_info() -> dict[str, Any] | None:
    """Query ``nvidia-smi`` once per process; ``None`` if there is none or it fails."""
    from .git import which

    exe = which("nvidia-smi")
    if exe is None:
        return None
    import subprocess
    from xml.etree import ElementTree

    try:
        xml = subprocess.run(
            [exe, "-q", "-x"],
            capture_output=True,
            timeout=GPU_QUERY_TIMEOUT,
            check=True,
        ).stdout
        root = ElementTree.fromstring(xml)
    except (OSError, subprocess.SubprocessError, ElementTree.ParseError):
        return None
    info: dict[str, Any] = {"gpus": []}
    for child in root:
        if child.tag == "driver_version":
            info["driver_version"] = child.text
        elif child.tag == "gpu":
            total = child.findtext("fb_memory_usage/total") or "0"
            try:
                memory: int | None = int(total.split()[0])
            except (ValueError, IndexError):
                memory = None
            info["gpus"].append(
                {
                    "model": child.findtext("product_name"),
                    "total_memory": memory,
                    "persistence_mode": child.findtext("persistence_mode") == "Enabled",
                }
            )
    return info


def get_host_info(
    additional_host_info: Iterable[Any] | Mapping[str, Callable[[], Any]] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Collect information about this machine (the ``host`` entry of a run).

    Keys, in Sacred's order: the globally registered gatherers (:func:`host_info_getter`),
    then *additional_host_info*, then ``hostname``, ``os`` (``[system, platform]``),
    ``python_version``, ``cpu``, ``gpus`` (left out without ``nvidia-smi``) and ``ENV``.
    ``cpu`` and ``gpus`` are ``None`` when their ``INCLUDE_*_INFO`` setting is off. A
    gatherer that raises :class:`IgnoreHostInfo` is left out. Static parts are computed
    once per process.

    Args:
        additional_host_info: more gatherers: :class:`HostInfoGetter` objects or named
            functions (``Experiment(additional_host_info=...)``), or ``{name: func}``.
        settings: the ``HOST_INFO`` settings (``INCLUDE_CPU_INFO``, ``INCLUDE_GPU_INFO``,
            ``CAPTURED_ENV``); by default ``SETTINGS.HOST_INFO`` as it is at the call.
    """
    if settings is None:
        from ..settings import SETTINGS

        settings = SETTINGS.HOST_INFO
    gatherers = dict(host_info_gatherers)
    if isinstance(additional_host_info, Mapping):
        gatherers.update(additional_host_info)
    else:
        extra = list(additional_host_info or ())
        check_additional_host_info(extra)
        gatherers.update((_gatherer_name(getter), getter) for getter in extra)
    builtin = _builtin_info(settings)
    info: dict[str, Any] = {}
    for key, gather in gatherers.items():
        if key in _BUILTIN_KEYS:  # a global getter named like one: the built-in value wins
            if key in builtin:
                info[key] = builtin[key]
            continue
        try:
            info[key] = gather()
        except IgnoreHostInfo:
            pass
    for key, value in builtin.items():
        info.setdefault(key, value)
    return info


def _builtin_info(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The built-in entries, in Sacred's order."""
    info = dict(_static_info())
    info["os"] = list(info["os"])
    info["cpu"] = _cpu_model() if settings["INCLUDE_CPU_INFO"] else None
    if not settings["INCLUDE_GPU_INFO"]:
        info["gpus"] = None
    else:
        gpus = _gpu_info()
        if gpus is not None:
            info["gpus"] = {**gpus, "gpus": [dict(g) for g in gpus["gpus"]]}
    env = settings["CAPTURED_ENV"]
    info["ENV"] = {key: os.environ[key] for key in env if key in os.environ}
    return info

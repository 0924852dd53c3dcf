"""Resume a stored run under its own id (``--resume ID``, ``ex.run(resume=ID)``).

What a resume does, in order (:func:`prepare_resume`, called while the run is created):

1. Every observer of the run that can resume (it defines ``stored_run``: file storage and
   MongoDB) is asked for the stored run. An id none of them holds, or that one of them
   lacks, is refused; so is a run still RUNNING whose last sign of life (heartbeat, else
   start) is newer than :data:`~sacredlite.store.records.DEAD_AFTER`, unless ``-f/--force``
   says its process is gone.
2. The stored config (``seed`` included) becomes the run's updates, so ``--resume ID``
   alone rebuilds the config as it was; ``with`` updates go on top and named configs are
   evaluated too: any that sets a value other than the stored one is refused, naming
   each differing key with both values (:func:`config_differences`); the same values
   are allowed.
3. The run gets the stored id, ``resumed``/``resume_count``/``last_steps``, and its metrics
   continue: a point logged without a step gets the stored last step + 1. A step given
   explicitly is stored as given (a step at or below the stored last one is appended, not
   merged), so a script that restarts its loop at ``_run.last_steps[name] + 1`` stitches
   its series without gap or duplicate.
4. At the start, observers that define ``resumed_event`` continue the stored run: status
   back to RUNNING, ``stop_time``/``fail_trace`` cleared, output and metrics appended,
   ``meta.resumes`` extended with :func:`resume_entry`. Other observers get Sacred's
   ``started_event`` with the run's id.

An interrupted run (SIGTERM, SIGUSR1 under Slurm, a submitit preemption) records
``meta.resume_point`` (:func:`resume_point`) before it is stored as INTERRUPTED.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .errors import ResumeError

if TYPE_CHECKING:
    from .events import StoredRun
    from .run import Run

__all__ = [
    "config_differences",
    "find_stored_run",
    "prepare_resume",
    "resume_entry",
    "resume_point",
    "resume_updates",
]

_SHOWN_DIFFERENCES = 10
"""Differing config keys named in a refusal (the count of the others follows)."""


def _resumable(observers: Sequence[Any]) -> list[Any]:
    return [o for o in observers if callable(getattr(o, "stored_run", None))]


def find_stored_run(observers: Sequence[Any], run_id: Any, force: bool = False) -> StoredRun:
    """Return the stored run *run_id* from the observers that can resume it.

    Args:
        observers: the run's observers.
        run_id: the id to resume.
        force: resume a RUNNING run even if its heartbeat is fresh (``-f``: the user
            knows its process is gone, e.g. killed a moment ago).

    Raises:
        ResumeError: no observer can resume, one of them lacks the run, or the run is
            still alive.
    """
    able = _resumable(observers)
    if not able:
        raise ResumeError(
            f"--resume {run_id}: none of the run's observers can resume a run; add "
            "-F DIR or -m URL naming the storage that holds it."
        )
    found = None
    for observer in able:
        stored = observer.stored_run(run_id)
        if stored is None:
            raise ResumeError(
                f"--resume {run_id}: {observer!r} holds no run with id {run_id!r}; check "
                "the id (sacredlite ls) and the storage (-F DIR / -m URL)."
            )
        found = found or stored
    assert found is not None  # noqa: S101 - able is not empty
    if not force:
        _refuse_live(found)
    result: StoredRun = found
    return result


def _refuse_live(stored: StoredRun) -> None:
    from .events import RunStatus
    from .store.records import DEAD_AFTER

    if stored.status != RunStatus.RUNNING.value or stored.alive_at is None or stored.claimed:
        return
    age = datetime.now(timezone.utc).replace(tzinfo=None) - stored.alive_at
    if age < DEAD_AFTER:
        raise ResumeError(
            f"--resume {stored.run_id}: the run is RUNNING, its last heartbeat is "
            f"{max(age.total_seconds(), 0):.0f} s old; a run is resumed only when it ended or "
            f"its heartbeat is over {DEAD_AFTER.total_seconds():.0f} s old. Stop it first, "
            "or add -f/--force if its process is gone."
        )


def resume_updates(stored: StoredRun, config_updates: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the updates that rebuild the stored config: the stored config (restored as
    data, never as code), with *config_updates* on top (they are checked afterwards)."""
    import copy

    from .config.paths import convert_to_nested_dict, recursive_update
    from .serializer import DataRestoreError, restore_data
    from .settings import SETTINGS

    try:
        base = restore_data(copy.deepcopy(stored.config), max_size=SETTINGS.CONFIG.MAX_LOAD_SIZE)
    except (DataRestoreError, ValueError) as exc:
        raise ResumeError(
            f"--resume {stored.run_id}: the stored config cannot be used: {exc}"
        ) from None
    if not isinstance(base, dict):
        raise ResumeError(f"--resume {stored.run_id}: the stored config is not a dict.")
    return recursive_update(base, convert_to_nested_dict(config_updates or {}))


def check_named_configs(
    experiment: Any,
    command_name: str,
    stored: StoredRun,
    named_configs: Sequence[str],
    observers: Sequence[Any],
) -> None:
    """Refuse named configs that would set a value other than the stored one (the stored
    config wins over named configs when a run resumes, so this is checked on its own)."""
    if not named_configs:
        return
    from .initialize import build_config

    seed = {"seed": stored.config["seed"]} if "seed" in stored.config else {}
    plain = _flatten(build_config(experiment, command_name, seed, (), force=True)[0])
    named = build_config(experiment, command_name, seed, named_configs, force=True)[0]
    changed = {k for k, v in _flatten(named).items() if k not in plain or plain[k] != v}
    for observer in _resumable(observers):
        given = _flatten(observer.stored_config_form(named))
        flat_stored = _flatten(stored.config)
        differences = config_differences(
            {k: flat_stored.get(k) for k in changed if k in flat_stored},
            {k: given.get(k) for k in changed if k in flat_stored},
        )
        if differences:
            _refuse(stored, differences, f"named config {', '.join(named_configs)}")


def config_differences(stored: Mapping[str, Any], given: Mapping[str, Any]) -> list[str]:
    """Return ``"key: stored X, given Y"`` for every dotted key whose value differs."""
    flat_stored, flat_given = _flatten(stored), _flatten(given)
    lines = []
    for key in sorted(flat_stored.keys() | flat_given.keys()):
        old = flat_stored.get(key, _MISSING)
        new = flat_given.get(key, _MISSING)
        if old == new and type(old) is type(new):
            continue
        if isinstance(old, int | float) and isinstance(new, int | float) and old == new:
            continue  # 1 and 1.0 are the same value once stored
        lines.append(f"{key}: stored {_show(old)}, given {_show(new)}")
    return lines


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING = _Missing()


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def check_config(run: Run, stored: StoredRun) -> None:
    """Raise :class:`ResumeError` if *run*'s config is not the stored one, as each of the
    run's resuming observers stores it."""
    for observer in _resumable(run.observers):
        given = observer.stored_config_form(run.config)
        differences = config_differences(stored.config, given)
        if differences:
            _refuse(stored, differences, "config")


def _refuse(stored: StoredRun, differences: list[str], what: str) -> None:
    shown = differences[:_SHOWN_DIFFERENCES]
    more = len(differences) - len(shown)
    tail = f" (and {more} more)" if more > 0 else ""
    raise ResumeError(
        f"--resume {stored.run_id}: the {what} differs from the stored run's config: "
        + "; ".join(shown)
        + tail
        + ". Resume with the stored config (drop these updates), or start a new run."
    )


def resume_entry(run: Run, stored: StoredRun) -> dict[str, Any]:
    """Return the ``meta.resumes`` entry of this resume: when, where, how, from what
    (``argv``: the command line of the resuming process; ``resume_point``: the stored
    ``meta.resume_point`` this resume continues from, if the run recorded one)."""
    from .info.meta import redact_secrets

    return {
        "time": datetime.now(timezone.utc).replace(tzinfo=None),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "command": run.meta_info.get("command"),
        "argv": redact_secrets(list(sys.argv)),  # no password of a -m URL is stored
        "previous_status": stored.status,
        "resume_point": stored.point,
    }


def prepare_resume(run: Run, stored: StoredRun) -> None:
    """Make *run* continue *stored*: check the config, take the id, continue the steps.

    Raises:
        ResumeError: the config differs from the stored one.
    """
    check_config(run, stored)
    run._id = stored.run_id
    run.resumed = True
    run.resume_count = len(stored.resumes) + 1
    run.last_steps = dict(stored.last_steps)
    run._metrics.continue_steps(stored.last_steps)
    run._resume_entry = resume_entry(run, stored)


def resume_point(run: Run, reason: str) -> dict[str, Any]:
    """Return ``meta.resume_point`` of a run interrupted by *reason* (a signal's name or
    ``"preempted"``): when, where, and each metric's last step so far."""
    return {
        "time": datetime.now(timezone.utc).replace(tzinfo=None),
        "host": socket.gethostname(),
        "reason": reason,
        "last_steps": run._metrics.last_steps(),
    }

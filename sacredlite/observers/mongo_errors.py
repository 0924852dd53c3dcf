"""What the MongoObserver does when the database fails it (internal): one-line start errors,
and the pickle Sacred leaves when a final save fails."""

from __future__ import annotations

import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from typing import Any, TypeVar

import pymongo
import pymongo.errors

from ..errors import ObserverError
from ..formats.mongo import is_transient

__all__ = ["close_quietly", "guard", "save_failed_run"]

T = TypeVar("T")


def guard(action: Callable[[], T], hosts: str, db_name: str) -> T:
    """Run a database call needed to start a run; turn "unreachable" and "refused" into
    one clear :class:`ObserverError` line (naming the hosts, never a password)."""
    try:
        return action()
    except pymongo.errors.PyMongoError as exc:
        if is_transient(exc):
            raise ObserverError(
                f"Cannot reach MongoDB at {hosts} ({type(exc).__name__}). Start the "
                "server or fix the -m/url value; to run anyway and store the run later, "
                "wrap the observer: QueueObserver(MongoObserver(...))."
            ) from None
        if isinstance(exc, pymongo.errors.OperationFailure) and exc.code in (13, 18):
            raise ObserverError(
                f"MongoDB at {hosts} refused access (code {exc.code}): check the user, "
                f"password and authSource in the URL, and the user's roles on {db_name!r}."
            ) from None
        raise


def close_quietly(client: Any) -> None:
    """Close *client* without waiting long for a server that may be gone already."""
    with pymongo.timeout(0.5):
        client.close()


def save_failed_run(run_entry: dict[str, Any], failure_dir: str | os.PathLike[str]) -> str:
    """Pickle *run_entry* into *failure_dir* as Sacred does when its final save fails.

    The file is ``sacred_mongo_fail_<run id>_<random>.pickle``; its path is printed to
    stderr with Sacred's warning and returned.
    """
    os.makedirs(failure_dir, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        suffix=".pickle",
        prefix=f"sacred_mongo_fail_{run_entry.get('_id')}_",
        dir=failure_dir,
        delete=False,
    ) as file:
        pickle.dump(run_entry, file)
    print(
        f"Warning: saving to MongoDB failed! Stored experiment entry in '{file.name}'",
        file=sys.stderr,
    )
    return file.name

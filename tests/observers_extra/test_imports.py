"""Sacred's other observers load their packages only when one is made."""

from __future__ import annotations

import subprocess
import sys

from checkout import THIS_CHECKOUT

HEAVY = (
    "tinydb",
    "tinydb_serialization",
    "hashfs",
    "sqlalchemy",
    "boto3",
    "botocore",
    "telegram",
    "requests",
    "urllib.request",
    "asyncio",
)


def _loaded(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=THIS_CHECKOUT, capture_output=True, text=True, check=True
    )
    return eval(done.stdout)  # noqa: S307 - our own probe's printed list


def test_importing_the_observers_and_their_names_loads_no_backend():
    """``import sacredlite.observers``, the commandline options, the stores and even the
    observer classes' names load none of tinydb, SQLAlchemy, boto3, python-telegram-bot."""
    code = (
        "import sacredlite.observers, sacredlite.commandline_options, sacredlite.store\n"
        "from sacredlite.observers import TinyDbObserver, SqlObserver, S3Observer, SlackObserver\n"
        "import sacredlite.observers.tinydb_hashfs, sacredlite.observers.sql\n"
        "import sacredlite.observers.s3_observer"
    )
    assert _loaded(code) == []


def test_making_an_observer_loads_its_backend_only(tmp_path):
    """A TinyDbObserver loads tinydb's packages and nothing of the others."""
    code = f"from sacredlite.observers import TinyDbObserver\nTinyDbObserver({str(tmp_path)!r})"
    assert set(_loaded(code)) == {"tinydb", "tinydb_serialization", "hashfs"}

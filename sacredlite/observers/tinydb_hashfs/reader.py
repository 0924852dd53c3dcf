"""TinyDbReader: Sacred's query API over a TinyDbObserver's directory.

It reads through Sacred's view of the store (:func:`.bases.get_db_file_manager`), so stored
files come back as open handles, as Sacred's reader returns them.
"""

from __future__ import annotations

import os
import textwrap
from datetime import datetime
from typing import Any

from ...formats import tinydb as layout
from ._imports import require

__all__ = ["TinyDbReader"]


_REPORT = """
-------------------------------------------------
Experiment: {exp_name}
-------------------------------------------------
ID: {exp_id}
Date: {start_date}    Duration: {duration}

Parameters:
{parameters}

Result:
{result}

Dependencies:
{dependencies}

Resources:
{resources}

Source Files:
{sources}

Outputs:
{artifacts}
"""


def _indent(message: str, prefix: str = "    ") -> str:
    wrapper = textwrap.TextWrapper(initial_indent=prefix, width=150, subsequent_indent=prefix)
    return "\n".join(wrapper.fill(line) for line in message.splitlines())


def _duration(start: datetime, stop: datetime) -> str:
    hours, rest = divmod((stop - start).total_seconds(), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours:02.0f}:{minutes:02.0f}:{seconds:04.1f}"


class TinyDbReader:
    """Query the runs a TinyDbObserver stored in *path* (Sacred's reader).

    Raises:
        OSError: *path* does not exist.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        require()
        from .bases import get_db_file_manager

        root = os.path.abspath(path)
        if not os.path.exists(root):
            raise OSError(f"Path does not exist: {path}")
        self.db, self.fs = get_db_file_manager(root)
        self.runs = self.db.table(layout.RUNS_TABLE)

    def search(self, *args: Any, **kwargs: Any) -> list[Any]:
        """TinyDB's ``search`` on the runs table."""
        return list(self.runs.search(*args, **kwargs))

    def fetch_files(
        self, exp_name: str | None = None, query: Any = None, indices: Any = None
    ) -> list[dict[str, Any]]:
        """Return, per matching run, ``{exp_name, exp_id, date}`` and its ``sources``,
        ``resources`` and ``artifacts`` as ``{name: open file}`` (keys only when not empty)."""
        found = []
        for entry in self.fetch_metadata(exp_name, query, indices):
            record: dict[str, Any] = {
                "exp_name": entry["experiment"]["name"],
                "exp_id": entry["_id"],
                "date": entry["start_time"],
            }
            groups = {
                "sources": {x[0]: x[2] for x in entry["experiment"]["sources"]},
                "resources": {x[0]: x[2] for x in entry["resources"]},
                "artifacts": {x[0]: x[3] for x in entry["artifacts"]},
            }
            record.update({key: files for key, files in groups.items() if files})
            found.append(record)
        return found

    def fetch_report(
        self, exp_name: str | None = None, query: Any = None, indices: Any = None
    ) -> list[str]:
        """Return a text report per matching run (Sacred's template)."""
        reports = []
        for entry in self.fetch_metadata(exp_name, query, indices):
            start = entry["start_time"]
            weekday = "Mon Tue Wed Thu Fri Sat Sun".split()[start.weekday()]
            config = entry["config"]
            parameters = _indent("\n".join(f"{k}: {config[k]}" for k in sorted(config)).strip())
            parts = {
                "parameters": parameters,
                "result": _indent(repr(entry["result"])),
                "dependencies": _indent("\n".join(entry["experiment"]["dependencies"])),
                "resources": _indent("\n".join(x[0] for x in entry["resources"])),
                "sources": _indent("\n".join(x[0] for x in entry["experiment"]["sources"])),
                "artifacts": _indent("\n".join(x[0] for x in entry["artifacts"])),
            }
            reports.append(
                _REPORT.format(
                    exp_name=entry["experiment"]["name"],
                    exp_id=entry["_id"],
                    start_date=f"{weekday} {start.strftime('%d %b %Y')}",
                    duration=_duration(start, entry["stop_time"]),
                    **{key: text or "    None" for key, text in parts.items()},
                )
            )
        return reports

    def fetch_metadata(
        self, exp_name: str | None = None, query: Any = None, indices: Any = None
    ) -> list[Any]:
        """Return the run documents matching a query, an experiment name (a regular
        expression searched in the name) or indices into the runs (negative allowed).

        Raises:
            ValueError: none of the three given, or an index past the last run.
        """
        from tinydb import Query

        if exp_name or query:
            return list(self.runs.search(query or Query().experiment.name.search(exp_name)))
        if indices or indices == 0:
            wanted = indices if isinstance(indices, (tuple, list)) else [indices]
            count = len(self.runs)
            for index in wanted:
                if index >= count:
                    raise ValueError(
                        f"Index value ({index}) must be less than number of records ({count})"
                    )
            everything = self.runs.all()
            return [everything[index] for index in wanted]
        raise ValueError("Must specify an experiment name, indicies or pass custom query")

"""Sacred's SQL schema (``-s URL``, ``SqlObserver(url)``): the only code that knows its tables.

:class:`~sacredlite.observers.SqlObserver` writes through these models and
:mod:`sacredlite.store.sql` reads through them; ``sacredlite.observers.sql_bases`` exposes
them under Sacred's module path. Importing this module needs SQLAlchemy 2
(``pip install 'sacredlite[sql]'``). The tables, as Sacred 0.8.7 creates them:

``run``
    ``id`` (integer key), ``run_id`` (text, unique: the run's id), ``command``,
    ``start_time``, ``heartbeat``, ``stop_time``, ``queue_time`` (naive-UTC datetimes),
    ``priority`` (float, from ``meta.priority``, default 0), ``comment`` (from
    ``meta.comment``, default ``""``), ``fail_trace`` (the traceback's lines joined by
    newlines), ``captured_out``, ``config`` and ``info`` (JSON text of the
    jsonpickle-flattened values), ``status`` (an enum of Sacred's six statuses),
    ``host_id``, ``experiment_id``, ``result`` (float).
``experiment``
    ``experiment_id``, ``name``, ``md5sum`` (md5 of ``json.dumps(ex_info)``: one row per
    distinct experiment description), ``base_dir``; with ``sources``, ``repositories`` and
    ``dependencies`` through ``experiments_sources``, ``experiments_repositories``,
    ``experiments_dependencies``.
``host``
    ``host_id``, ``cpu``, ``hostname``, ``os``, ``os_info`` (``host.os`` split in two),
    ``python_version``; shared by runs with the same values.
``source`` (``filename``, ``md5sum``, ``content`` as text), ``repository`` (``url``,
``commit``, ``dirty``), ``dependency`` (``name``, ``version`` from ``"name==version"``),
``resource`` (``filename``, ``md5sum``, ``content`` bytes; linked by ``runs_resources``),
``artifact`` (``filename`` = the artifact's name, ``content`` bytes, ``run_id``).

Run ids: a run without one gets ``1 + the highest run.id`` (so ``0`` for the very first),
as Sacred gives them.

sacredlite adds ``sacredlite_metric_point`` (Sacred's SqlObserver drops metrics): one row
per point, ``run_id``, ``name``, ``step``, ``value``, ``timestamp``, so the board can draw a
SQL run's metrics and SQL can query them. Sacred's code never reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from ..events import RunStatus
from ._io import md5_file
from ._json import flatten

__all__ = [
    "STATUSES",
    "Artifact",
    "Base",
    "Dependency",
    "Experiment",
    "Host",
    "MetricPoint",
    "Repository",
    "Resource",
    "Run",
    "Source",
    "dump_json",
    "experiment_source_association",
    "experiment_repository_association",
    "experiment_dependency_association",
    "join_fail_trace",
    "next_run_id",
    "run_resource_association",
    "split_fail_trace",
]

STATUSES = (
    RunStatus.RUNNING.value,
    RunStatus.COMPLETED.value,
    RunStatus.INTERRUPTED.value,
    RunStatus.TIMEOUT.value,
    RunStatus.FAILED.value,
    RunStatus.QUEUED.value,
)
"""The values the ``run.status`` enum takes (Sacred's ``status_enum``)."""


class Base(DeclarativeBase):
    """The declarative base of Sacred's tables (``Base.metadata.create_all(engine)``)."""


def dump_json(value: Any) -> str:
    """Return the JSON text stored for a config or info: jsonpickle-flattened, as Sacred."""
    return json.dumps(flatten(value))


class Source(Base):
    """A source file of an experiment, stored once per (filename, md5)."""

    __tablename__ = "source"

    source_id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str | None] = mapped_column(sa.String(256))
    md5sum: Mapped[str | None] = mapped_column(sa.String(32))
    content: Mapped[str | None] = mapped_column(sa.Text)

    @classmethod
    def get_or_create(cls, filename: str, md5sum: str, session: Session, basedir: str) -> Source:
        """Return the stored source, or a new one read from ``basedir/filename``.

        Raises:
            ValueError: the file on disk no longer has the recorded md5.
        """
        found = session.query(cls).filter_by(filename=filename, md5sum=md5sum).first()
        if found:
            return found
        full_path = os.path.join(basedir, filename)
        on_disk = md5_file(full_path)
        if on_disk != md5sum:
            raise ValueError(
                f"found md5 mismatch for {filename}: {md5sum} != {on_disk} (the source "
                "changed while the run started)"
            )
        with open(full_path, encoding="utf-8", errors="replace") as file:
            return cls(filename=filename, md5sum=md5sum, content=file.read())

    def to_json(self) -> dict[str, Any]:
        return {"filename": self.filename, "md5sum": self.md5sum}


class Repository(Base):
    """A version-control repository state (url, commit, dirty)."""

    __tablename__ = "repository"

    repository_id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str | None] = mapped_column(sa.String(2048))
    commit: Mapped[str | None] = mapped_column(sa.String(40))
    dirty: Mapped[bool | None] = mapped_column(sa.Boolean)

    @classmethod
    def get_or_create(cls, url: Any, commit: Any, dirty: Any, session: Session) -> Repository:
        """Return the stored repository state, or a new one."""
        found = session.query(cls).filter_by(url=url, commit=commit, dirty=dirty).first()
        return found or cls(url=url, commit=commit, dirty=dirty)

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "commit": self.commit, "dirty": self.dirty}


class Dependency(Base):
    """A package version (``"name==version"``)."""

    __tablename__ = "dependency"

    dependency_id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(32))
    version: Mapped[str | None] = mapped_column(sa.String(16))

    @classmethod
    def get_or_create(cls, dep: str, session: Session) -> Dependency:
        """Return the stored dependency, or a new one."""
        name, _, version = dep.partition("==")
        found = session.query(cls).filter_by(name=name, version=version).first()
        return found or cls(name=name, version=version)

    def to_json(self) -> str:
        return f"{self.name}=={self.version}"


class Artifact(Base):
    """A file a run added, with its content."""

    __tablename__ = "artifact"

    artifact_id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str | None] = mapped_column(sa.String(64))
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    run_id: Mapped[str | None] = mapped_column(sa.String(24), sa.ForeignKey("run.run_id"))
    run: Mapped[Run | None] = relationship(back_populates="artifacts")

    @classmethod
    def create(cls, name: str, filename: str) -> Artifact:
        """Return a new artifact *name* holding the bytes of *filename*."""
        with open(filename, "rb") as file:
            return cls(filename=name, content=file.read())

    def to_json(self) -> dict[str, Any]:
        return {"_id": self.artifact_id, "filename": self.filename}


class Resource(Base):
    """A file a run opened, stored once per (filename, md5)."""

    __tablename__ = "resource"

    resource_id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str | None] = mapped_column(sa.String(256))
    md5sum: Mapped[str | None] = mapped_column(sa.String(32))
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary)

    @classmethod
    def get_or_create(cls, filename: str, session: Session) -> Resource:
        """Return the stored resource, or a new one with the file's bytes."""
        md5sum = md5_file(filename)
        found = session.query(cls).filter_by(filename=filename, md5sum=md5sum).first()
        if found:
            return found
        with open(filename, "rb") as file:
            return cls(filename=filename, md5sum=md5sum, content=file.read())

    def to_json(self) -> dict[str, Any]:
        return {"filename": self.filename, "md5sum": self.md5sum}


class Host(Base):
    """A machine, shared by the runs with the same description."""

    __tablename__ = "host"

    host_id: Mapped[int] = mapped_column(primary_key=True)
    cpu: Mapped[str | None] = mapped_column(sa.String(64))
    hostname: Mapped[str | None] = mapped_column(sa.String(64))
    os: Mapped[str | None] = mapped_column(sa.String(16))
    os_info: Mapped[str | None] = mapped_column(sa.String(64))
    python_version: Mapped[str | None] = mapped_column(sa.String(16))
    runs: Mapped[list[Run]] = relationship(back_populates="host")

    @classmethod
    def get_or_create(cls, host_info: dict[str, Any], session: Session) -> Host:
        """Return the stored host with these values, or a new one."""
        values = {
            "hostname": host_info["hostname"],
            "cpu": host_info["cpu"],
            "os": host_info["os"][0],
            "os_info": host_info["os"][1],
            "python_version": host_info["python_version"],
        }
        return session.query(cls).filter_by(**values).first() or cls(**values)

    def to_json(self) -> dict[str, Any]:
        return {
            "cpu": self.cpu,
            "hostname": self.hostname,
            "os": [self.os, self.os_info],
            "python_version": self.python_version,
        }


def _link(name: str, left: str, right: str, key: type = sa.Integer) -> sa.Table:
    table, column = right.split(".")
    return sa.Table(
        name,
        Base.metadata,
        sa.Column(left.split(".")[1], key, sa.ForeignKey(left)),
        sa.Column(column, sa.Integer, sa.ForeignKey(right)),
    )


experiment_source_association = _link(
    "experiments_sources", "experiment.experiment_id", "source.source_id"
)
experiment_repository_association = _link(
    "experiments_repositories", "experiment.experiment_id", "repository.repository_id"
)
experiment_dependency_association = _link(
    "experiments_dependencies", "experiment.experiment_id", "dependency.dependency_id"
)
run_resource_association = sa.Table(
    "runs_resources",
    Base.metadata,
    sa.Column("run_id", sa.String(24), sa.ForeignKey("run.run_id")),
    sa.Column("resource_id", sa.Integer, sa.ForeignKey("resource.resource_id")),
)


class Experiment(Base):
    """An experiment description (name, base_dir, sources, repositories, dependencies)."""

    __tablename__ = "experiment"

    experiment_id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(32))
    md5sum: Mapped[str | None] = mapped_column(sa.String(32))
    base_dir: Mapped[str | None] = mapped_column(sa.String(64))
    sources: Mapped[list[Source]] = relationship(secondary=experiment_source_association)
    repositories: Mapped[list[Repository]] = relationship(
        secondary=experiment_repository_association
    )
    dependencies: Mapped[list[Dependency]] = relationship(
        secondary=experiment_dependency_association
    )
    runs: Mapped[list[Run]] = relationship(back_populates="experiment")

    @classmethod
    def get_or_create(cls, ex_info: dict[str, Any], session: Session) -> Experiment:
        """Return the stored experiment with this exact description, or a new one."""
        name = ex_info["name"]
        md5 = hashlib.md5(json.dumps(ex_info, default=str).encode()).hexdigest()
        found = session.query(cls).filter_by(name=name, md5sum=md5).first()
        if found:
            return found
        repositories: list[Repository] = []
        for repo in ex_info.get("repositories", []):
            stored = Repository.get_or_create(repo["url"], repo["commit"], repo["dirty"], session)
            session.add(stored)
            if stored not in repositories:
                repositories.append(stored)
        return cls(
            name=name,
            dependencies=[Dependency.get_or_create(d, session) for d in ex_info["dependencies"]],
            sources=[
                Source.get_or_create(path, md5sum, session, ex_info["base_dir"])
                for path, md5sum in ex_info["sources"]
            ],
            repositories=repositories,
            md5sum=md5,
            base_dir=ex_info["base_dir"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "base_dir": self.base_dir,
            "sources": [s.to_json() for s in self.sources],
            "repositories": [r.to_json() for r in self.repositories],
            "dependencies": [d.to_json() for d in self.dependencies],
        }


class Run(Base):
    """One run (see the module docstring for its columns)."""

    __tablename__ = "run"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str | None] = mapped_column(sa.String(24), unique=True)
    command: Mapped[str | None] = mapped_column(sa.String(64))
    start_time: Mapped[datetime | None] = mapped_column(sa.DateTime)
    heartbeat: Mapped[datetime | None] = mapped_column(sa.DateTime)
    stop_time: Mapped[datetime | None] = mapped_column(sa.DateTime)
    queue_time: Mapped[datetime | None] = mapped_column(sa.DateTime)
    priority: Mapped[float | None] = mapped_column(sa.Float)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    fail_trace: Mapped[str | None] = mapped_column(sa.Text)
    captured_out: Mapped[str | None] = mapped_column(sa.Text)
    config: Mapped[str | None] = mapped_column(sa.Text)
    info: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str | None] = mapped_column(sa.Enum(*STATUSES, name="status_enum"))
    host_id: Mapped[int | None] = mapped_column(sa.ForeignKey("host.host_id"))
    host: Mapped[Host | None] = relationship(back_populates="runs")
    experiment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("experiment.experiment_id"))
    experiment: Mapped[Experiment | None] = relationship(back_populates="runs")
    artifacts: Mapped[list[Artifact]] = relationship(back_populates="run")
    resources: Mapped[list[Resource]] = relationship(secondary=run_resource_association)
    result: Mapped[float | None] = mapped_column(sa.Float)

    def to_json(self) -> dict[str, Any]:
        """Return the run in Sacred's run-document shape (config decoded)."""
        from ..serializer import restore

        return {
            "_id": self.run_id,
            "command": self.command,
            "start_time": self.start_time,
            "heartbeat": self.heartbeat,
            "stop_time": self.stop_time,
            "queue_time": self.queue_time,
            "status": self.status,
            "result": self.result,
            "meta": {"comment": self.comment, "priority": self.priority},
            "resources": [r.to_json() for r in self.resources],
            "artifacts": [a.to_json() for a in self.artifacts],
            "host": self.host.to_json() if self.host else {},
            "experiment": self.experiment.to_json() if self.experiment else {},
            "config": restore(json.loads(self.config or "{}")),
            "captured_out": self.captured_out,
            "fail_trace": self.fail_trace,
        }


class MetricPoint(Base):
    """One metric point (sacredlite's table; Sacred never reads it)."""

    __tablename__ = "sacredlite_metric_point"

    point_id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(24), index=True)
    name: Mapped[str] = mapped_column(sa.String(256))
    step: Mapped[int | None] = mapped_column(sa.BigInteger)
    value: Mapped[float | None] = mapped_column(sa.Float)
    timestamp: Mapped[datetime | None] = mapped_column(sa.DateTime)


def join_fail_trace(lines: list[str]) -> str:
    """Return the ``run.fail_trace`` text of a traceback's lines (Sacred joins them by
    newlines, though each already ends with one)."""
    return "\n".join(lines)


def split_fail_trace(text: str) -> list[str]:
    """Return the traceback's lines from ``run.fail_trace`` (undoes :func:`join_fail_trace`
    for traceback lines, which end with a newline and hold no blank line)."""
    parts = text.split("\n\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def next_run_id(session: Session) -> int:
    """Return the id Sacred gives a run without one: ``1 + the highest run.id``, or 0."""
    last = session.query(Run).order_by(Run.id.desc()).first()
    return 0 if last is None else last.id + 1

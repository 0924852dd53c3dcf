"""S3Observer: runs in an S3 bucket, in file storage's layout under a prefix (``-S``).

The keys are :mod:`sacredlite.formats.s3`'s. What the observer does beyond Sacred's:

* Sources and resources are written once each where ``run.json`` names them, and
  ``cout.txt`` holds the whole output (Sacred writes them elsewhere, and only the last
  heartbeat's output; see :mod:`sacredlite.formats.s3`).
* ``endpoint_url`` (or boto3's own ``AWS_ENDPOINT_URL``) points it at any S3-compatible
  server (MinIO, a local test server); a bucket in ``us-east-1`` is created without a
  location constraint, which that region refuses.
* A value JSON cannot hold is stored as its string form with a warning, as file storage does.
* A run's first ``run.json`` is written only if none exists (a conditional write), so two
  processes that picked the same new id do not share a folder: the later one takes the
  next id (a given id that is taken raises ``FileExistsError``, as in Sacred).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from ..commandline_options import s3_option as s3_option
from ..errors import add_hint
from ..events import RunStatus
from ..formats import s3 as layout
from ..formats.file import Warner, dumps, iso_utc, md5_file
from ._ending import EndsInOneStep
from .base import RunObserver

__all__ = ["DEFAULT_S3_PRIORITY", "S3Observer", "s3_join", "s3_option"]

DEFAULT_S3_PRIORITY = 20
ID_ATTEMPTS = 100
"""Generated run ids tried when other processes take them first."""
s3_join = layout.s3_join


def _require() -> None:
    import importlib.util

    if importlib.util.find_spec("boto3") is None:
        raise ImportError("S3Observer needs boto3: pip install 'sacredlite[s3]'")


class S3Observer(EndsInOneStep, RunObserver):
    """Store runs in ``s3://BUCKET/BASEDIR/<run_id>/``.

    Args:
        bucket: the bucket (created when missing); must follow AWS's naming rules.
        basedir: the key prefix of the runs.
        resource_dir: where resources go (default ``BASEDIR/_resources``).
        source_dir: where sources go (default ``BASEDIR/_sources``).
        priority: the observer's priority.
        region: the AWS region; default the one boto3 is configured with.
        endpoint_url: an S3-compatible server instead of AWS (sacredlite's addition).

    Raises:
        ValueError: an invalid bucket name, or no region given or configured.
    """

    VERSION = "S3Observer-0.1.0"

    def __init__(
        self,
        bucket: str,
        basedir: str,
        resource_dir: str | None = None,
        source_dir: str | None = None,
        priority: int = DEFAULT_S3_PRIORITY,
        region: str | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        _require()
        import boto3

        if not layout.is_valid_bucket(bucket):
            raise add_hint(
                ValueError("Your chosen bucket name doesn't follow AWS bucket naming rules"),
                f"The bucket {bucket!r} is not a valid name: 3-63 lower-case letters, digits, "
                "'-' and '.', not an IP address.",
            )
        self.basedir = basedir
        self.bucket = bucket
        self.resource_dir = resource_dir or layout.s3_join(basedir, layout.RESOURCES_DIR)
        self.source_dir = source_dir or layout.s3_join(basedir, layout.SOURCES_DIR)
        self.priority = priority
        self.dir: str | None = None
        self.run_entry: dict[str, Any] | None = None
        self.config: Any = None
        self.info: Any = None
        self.cout = ""
        self.saved_metrics: dict[str, dict[str, list[Any]]] = {}
        self._warn = Warner("S3Observer")
        self.region = region or boto3.session.Session().region_name
        if self.region is None:
            raise ValueError(
                "You must either pass in an AWS region name, or have a region name specified "
                "in your AWS config file"
            )
        self.endpoint_url = endpoint_url
        self.s3 = boto3.resource("s3", region_name=self.region, endpoint_url=endpoint_url)

    # -- the bucket ----------------------------------------------------------------------
    @property
    def _client(self) -> Any:
        return self.s3.meta.client

    def _keys(self, prefix: str) -> list[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        keys: list[str] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys

    def _objects_exist_in_dir(self, prefix: str) -> bool:
        page = self._client.list_objects_v2(Bucket=self.bucket, Prefix=prefix + "/", MaxKeys=1)
        return bool(page.get("KeyCount", 0))

    def _bucket_exists(self) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchBucket"):
                return False
            raise
        return True

    def _create_bucket(self) -> Any:
        if self.region == "us-east-1":  # the one region that refuses a location constraint
            return self.s3.create_bucket(Bucket=self.bucket)
        return self.s3.create_bucket(
            Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": self.region}
        )

    def _determine_run_dir(self, _id: Any) -> Any:
        """Choose the run's folder: a given id's (``FileExistsError`` when it holds
        objects), or 1 + the largest numeric folder, skipping folders taken meanwhile."""
        if not self._bucket_exists():
            self._create_bucket()
        if _id is not None:
            self.dir = layout.s3_join(self.basedir, str(_id))
            if self._objects_exist_in_dir(self.dir):
                raise FileExistsError(f"S3 dir at {self.dir} already exists")
            return _id
        _id = layout.max_run_number(self._keys(self.basedir + "/"), self.basedir) + 1
        self.dir = layout.s3_join(self.basedir, str(_id))
        while self._objects_exist_in_dir(self.dir):  # another process took it meanwhile
            _id += 1
            self.dir = layout.s3_join(self.basedir, str(_id))
        return _id

    # -- objects -------------------------------------------------------------------------
    def put_data(self, key: str, binary_data: Any) -> None:
        """Write one object."""
        self._client.put_object(Bucket=self.bucket, Key=key, Body=binary_data)

    def save_json(self, obj: Any, filename: str) -> None:
        """Write *obj* as ``<run folder>/<filename>``, as file storage writes JSON."""
        text = dumps(obj, filename.removesuffix(".json"), self._warn)
        self.put_data(layout.s3_join(str(self.dir), filename), text.encode("utf-8"))

    def _claim(self, _id: Any, generated: bool) -> Any:
        """Write the run's first ``run.json`` only where none exists; return the run's id
        (the next free one when another process took a generated id meanwhile)."""
        from botocore.exceptions import ClientError

        for _ in range(ID_ATTEMPTS):
            text = dumps(self.run_entry, "run", self._warn).encode("utf-8")
            key = layout.s3_join(str(self.dir), layout.RUN_FILE)
            try:
                self._client.put_object(Bucket=self.bucket, Key=key, Body=text, IfNoneMatch="*")
                return _id
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code in ("NotImplemented", "501"):  # a server without conditional writes
                    self.put_data(key, text)
                    return _id
                if code not in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                    raise
            if not generated:
                raise FileExistsError(f"S3 dir at {self.dir} already exists")
            _id = self._determine_run_dir(None)
        raise FileExistsError(f"No free run id under s3://{self.bucket}/{self.basedir}")

    def save_file(self, filename: str, target_name: str | None = None) -> None:
        """Upload a local file as ``<run folder>/<target_name>``."""
        key = layout.s3_join(str(self.dir), target_name or os.path.basename(filename))
        with open(filename, "rb") as data:
            self.put_data(key, data)

    def find_or_save(self, filename: str, store_dir: str) -> tuple[str, str]:
        """Upload a file once as ``STORE_DIR/<stem>_<md5><ext>``; return ``(key, md5)``."""
        md5sum = md5_file(filename)
        key = layout.s3_join(store_dir, layout.stored_name(filename, md5sum))
        if not self._exists(key):
            with open(filename, "rb") as data:
                self.put_data(key, data)
        return key, md5sum

    def _exists(self, key: str) -> bool:
        page = self._client.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
        return any(item["Key"] == key for item in page.get("Contents", []))

    def save_sources(self, ex_info: dict[str, Any]) -> list[list[str]]:
        """Upload the sources once each; return ``[[path, "_sources/<name>"]]``."""
        stored = []
        for path, _md5 in ex_info["sources"]:
            key, _ = self.find_or_save(os.path.join(ex_info["base_dir"], path), self.source_dir)
            stored.append([path, os.path.relpath(key, self.basedir)])
        return stored

    def save_cout(self) -> None:
        """Write the whole captured output as ``cout.txt``."""
        self.put_data(layout.s3_join(str(self.dir), layout.COUT_FILE), self.cout.encode("utf-8"))

    # -- events --------------------------------------------------------------------------
    def queued_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        queue_time: datetime,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: Any,
    ) -> Any:
        """Write a queued run's ``run.json`` and ``config.json``; return its id."""
        generated = _id is None
        _id = self._determine_run_dir(_id)
        self.run_entry = {
            "experiment": dict(ex_info),
            "command": command,
            "host": dict(host_info),
            "meta": meta_info,
            "status": RunStatus.QUEUED.value,
        }
        self.config, self.info = config, {}
        _id = self._claim(_id, generated)
        self.save_json(self.config, layout.CONFIG_FILE)
        return _id

    def started_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        start_time: datetime,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: Any,
    ) -> Any:
        """Write ``run.json``, ``config.json`` and an empty ``cout.txt``; return the id."""
        generated = _id is None
        _id = self._determine_run_dir(_id)
        self._warn = Warner("S3Observer")
        experiment = dict(ex_info)
        experiment["sources"] = self.save_sources(ex_info)
        self.run_entry = {
            "experiment": experiment,
            "command": command,
            "host": dict(host_info),
            "start_time": iso_utc(start_time),
            "meta": meta_info,
            "status": RunStatus.RUNNING.value,
            "resources": [],
            "artifacts": [],
            "heartbeat": None,
        }
        self.config, self.info, self.cout = config, {}, ""
        self.saved_metrics = {}
        _id = self._claim(_id, generated)
        self.save_json(self.config, layout.CONFIG_FILE)
        self.save_cout()
        return _id

    def heartbeat_event(
        self, info: dict[str, Any], captured_out: str, beat_time: datetime, result: Any
    ) -> None:
        """Write output, ``run.json`` and (when not empty) ``info.json``."""
        assert self.run_entry is not None
        self.info = info
        self.run_entry["heartbeat"] = iso_utc(beat_time)
        self.run_entry["result"] = result
        if captured_out != self.cout:
            self.cout = captured_out
            self.save_cout()
        self.save_json(self.run_entry, layout.RUN_FILE)
        if self.info:
            self.save_json(self.info, layout.INFO_FILE)

    def _end(self, stop_time: datetime, status: str, **fields: Any) -> None:
        assert self.run_entry is not None
        self.run_entry["stop_time"] = iso_utc(stop_time)
        self.run_entry["status"] = status
        self.run_entry.update(fields)
        self.save_json(self.run_entry, layout.RUN_FILE)

    def resource_event(self, filename: str) -> None:
        """Upload a resource once; list it as ``[filename, key]``."""
        assert self.run_entry is not None
        key, _ = self.find_or_save(filename, self.resource_dir)
        self.run_entry["resources"].append([filename, key])
        self.save_json(self.run_entry, layout.RUN_FILE)

    def artifact_event(
        self,
        name: str,
        filename: str,
        metadata: dict[str, Any] | None = None,
        content_type: str | None = None,
    ) -> None:
        """Upload an artifact into the run's folder."""
        assert self.run_entry is not None
        self.save_file(filename, name)
        if name not in self.run_entry["artifacts"]:
            self.run_entry["artifacts"].append(name)
        self.save_json(self.run_entry, layout.RUN_FILE)

    def log_metrics(self, metrics_by_name: dict[str, Any], info: dict[str, Any]) -> None:
        """Add new points and write the whole ``metrics.json`` (S3 cannot append)."""
        for name, points in metrics_by_name.items():
            held = self.saved_metrics.setdefault(
                name, {"values": [], "steps": [], "timestamps": []}
            )
            held["values"] += list(points["values"])
            held["steps"] += list(points["steps"])
            held["timestamps"] += [iso_utc(t) for t in points["timestamps"]]
        self.save_json(self.saved_metrics, layout.METRICS_FILE)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, S3Observer):
            return self.bucket == other.bucket and self.basedir == other.basedir
        return False

    def __hash__(self) -> int:
        return hash((self.bucket, self.basedir))

    def __repr__(self) -> str:
        return f"S3Observer(s3://{self.bucket}/{self.basedir})"

"""Read runs stored by an S3Observer (sacredlite's or Sacred's) from a bucket (internal).

The keys are :mod:`sacredlite.formats.s3`'s: file storage's layout under a prefix. One
paginated listing of the prefix tells which runs changed (the ETags of their ``run.json``,
``config.json`` and ``info.json``); only those are fetched again. Output, metrics,
artifacts and sources are fetched when asked for, each object at most
:data:`~sacredlite.store.limits.MAX_REMOTE_OBJECT_BYTES`. Read-only.
"""

from __future__ import annotations

import json
from typing import Any

from ..formats import s3 as layout
from ..formats.file import stored_md5
from .limits import MAX_REMOTE_OBJECT_BYTES, check_limit
from .records import NotFound, Record, StoreError
from .snapshot import SnapshotStore

_SECTIONS = (layout.RUN_FILE, layout.CONFIG_FILE, layout.INFO_FILE)


def _run_key(name: str) -> Any:
    return int(name) if name.isdigit() and str(int(name)) == name else name


class S3Store(SnapshotStore):
    """Runs under ``s3://BUCKET/PREFIX``.

    Args:
        url: ``s3://BUCKET/PREFIX`` (the value given to ``-S``).
        read_only: accepted for the common signature; the store is read-only anyway.
        endpoint_url: an S3-compatible server (default: boto3's ``AWS_ENDPOINT_URL`` or AWS).
        region: the region (default: boto3's configuration).
    """

    backend = "s3"
    recheck = 2.0

    def __init__(
        self,
        url: str,
        *,
        read_only: bool = False,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(read_only=read_only)
        try:
            import boto3
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError:
            raise StoreError("Reading S3 runs needs boto3: pip install 'sacredlite[s3]'") from None
        try:
            self.bucket, basedir = layout.parse_s3_url(url)
        except ValueError as exc:
            raise StoreError(f"{exc} (got {url!r})") from None
        self.basedir = basedir.rstrip("/")
        self.location = f"s3://{self.bucket}/{self.basedir}"
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            reason = "does not exist" if code in ("404", "NoSuchBucket") else f"refused ({code})"
            raise StoreError(f"The bucket of {self.location} {reason}.") from None
        except BotoCoreError as exc:
            raise StoreError(f"Cannot reach S3 for {self.location}: {exc}") from None
        self._listing: dict[str, tuple[str, int]] = {}
        self._cached: dict[Any, tuple[tuple[str, ...], Record]] = {}
        self._metric_cache: dict[str, tuple[str, dict[str, dict[str, list[Any]]]]] = {}

    # -- objects -----------------------------------------------------------------------
    def _list(self) -> dict[str, tuple[str, int]]:
        listing: dict[str, tuple[str, int]] = {}
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.basedir + "/"):
            for item in page.get("Contents", []):
                listing[item["Key"]] = (str(item.get("ETag", "")), int(item.get("Size", 0)))
        return listing

    def _get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        size = self._listing.get(key, ("", 0))[1]
        check_limit(f"Bytes of s3://{self.bucket}/{key}", size, MAX_REMOTE_OBJECT_BYTES)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise StoreError(f"S3 refused s3://{self.bucket}/{key}: {exc}") from None
        with body:
            data = body.read(MAX_REMOTE_OBJECT_BYTES + 1)
        check_limit(f"Bytes of s3://{self.bucket}/{key}", len(data), MAX_REMOTE_OBJECT_BYTES)
        return bytes(data)

    def _json(self, key: str) -> Any:
        data = self._get(key)
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            return None

    def _object_key(self, run_id: Any, name: str) -> str:
        return layout.s3_join(self.basedir, str(run_id), name)

    # -- SnapshotStore -----------------------------------------------------------------
    def _token(self) -> Any:
        self._listing = self._list()
        return tuple(
            sorted(
                (k, e) for k, (e, _) in self._listing.items() if k.rsplit("/", 1)[-1] in _SECTIONS
            )
        )

    def _load(self) -> dict[Any, Record]:
        runs = layout.run_ids(self._listing, self.basedir)
        records: dict[Any, Record] = {}
        cached: dict[Any, tuple[tuple[str, ...], Record]] = {}
        for name, keys in runs.items():
            run_key = layout.s3_join(self.basedir, name, layout.RUN_FILE)
            if run_key not in keys:
                continue
            run_id = _run_key(name)
            etags = tuple(
                self._listing.get(layout.s3_join(self.basedir, name, f), ("", 0))[0]
                for f in _SECTIONS
            )
            hit = self._cached.get(run_id)
            if hit is not None and hit[0] == etags:
                record = hit[1]
            else:
                run = self._json(run_key)
                if not isinstance(run, dict):
                    continue
                record = dict(run)
                for section, file in (("config", layout.CONFIG_FILE), ("info", layout.INFO_FILE)):
                    key = layout.s3_join(self.basedir, name, file)
                    value = self._json(key) if key in self._listing else None
                    record[section] = value if isinstance(value, dict) else {}
                record["_id"] = run_id
            cached[run_id] = (etags, record)
            records[run_id] = record
        self._cached = cached
        return records

    def _output_text(self, run_id: Any) -> str:
        data = self._get(self._object_key(run_id, layout.COUT_FILE))
        return (data or b"").decode("utf-8", "replace")

    def _metrics(self, run_id: Any) -> dict[str, dict[str, list[Any]]]:
        key = self._object_key(run_id, layout.METRICS_FILE)
        etag = self._listing.get(key, ("", 0))[0]
        hit = self._metric_cache.get(key)
        if hit is not None and hit[0] == etag:
            return hit[1]
        stored = self._json(key)
        metrics: dict[str, dict[str, list[Any]]] = {}
        if isinstance(stored, dict):
            for name, points in stored.items():
                if isinstance(points, dict):
                    metrics[str(name)] = {
                        k: list(points.get(k) or []) for k in ("steps", "values", "timestamps")
                    }
        self._metric_cache[key] = (etag, metrics)
        return metrics

    def _artifact_index(self, run_id: Any) -> dict[str, int | None]:
        index: dict[str, int | None] = {}
        for name in self.run(run_id).get("artifacts") or []:
            found = self._listing.get(self._object_key(run_id, str(name)))
            index[str(name)] = found[1] if found else None
        return index

    def _artifact_bytes(self, run_id: Any, name: str) -> bytes:
        data = self._get(self._object_key(run_id, name))
        if data is None:
            raise NotFound(f"Artifact {name!r} of run {run_id!r} is missing from {self.location}.")
        return data

    def _source_index(self, run_id: Any) -> list[dict[str, Any]]:
        out = []
        for item in self.run(run_id).get("experiment", {}).get("sources") or []:
            if isinstance(item, list) and len(item) >= 2:
                stored = str(item[1])
                out.append({"path": str(item[0]), "stored": stored, "md5": stored_md5(stored)})
        return out

    def _source_bytes(self, run_id: Any, path: str) -> bytes:
        for item in self._source_index(run_id):
            if item["path"] != path:
                continue
            for key in layout.stored_file_keys(self.basedir, str(run_id), item["stored"]):
                data = self._get(key)
                if data is not None:
                    return data
        raise NotFound(f"Source {path!r} of run {run_id!r} is missing from {self.location}.")

    def resource(self, run_id: Any, path: str) -> bytes:
        """Return the stored content of a resource the run opened (*path* as recorded)."""
        key = self._key(run_id)
        for item in self.run(key).get("resources") or []:
            if isinstance(item, list) and len(item) >= 2 and item[0] == path:
                for where in layout.stored_file_keys(self.basedir, str(key), str(item[1])):
                    data = self._get(where)
                    if data is not None:
                        return data
        raise NotFound(f"Run {run_id!r} has no stored resource {path!r}.")

    def close(self) -> None:
        """Close the S3 client's connections."""
        self.client.close()

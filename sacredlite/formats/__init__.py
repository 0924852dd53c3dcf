"""The stored formats: the only code that knows how runs are laid out on disk and in MongoDB.

* :mod:`sacredlite.formats.file`: Sacred's file-storage layout (``-F DIR``).
* :mod:`sacredlite.formats.mongo`: Sacred's MongoDB schema (``-m URL``).
* :mod:`sacredlite.formats.tinydb`: Sacred's TinyDB + HashFS layout (``-t DIR``).
* :mod:`sacredlite.formats.sql`: Sacred's SQL tables (``-s URL``; imports SQLAlchemy).
* :mod:`sacredlite.formats.s3`: Sacred's S3 keys (``-S s3://BUCKET/PREFIX``).

Observers write through these modules, the readers in :mod:`sacredlite.store` read through
them, the worker claims queued runs through them. ``_io`` holds the file primitives both
use (crash-safe writes, content digests).
"""

"""Sacred's MongoDB schema, and what sacredlite adds to it: the only code that knows it.

Observers write through this module (:class:`Executor` applies typed write operations),
the readers in :mod:`sacredlite.store` read through it (:func:`read_metric`,
:func:`read_captured_out`), and ``sacredlite worker`` claims queued runs through it
(:func:`claim_next`). pymongo is imported when this module is, never by ``import
sacredlite``.

Collections (:class:`Collections`; ``<prefix>_runs`` and ``<prefix>_metrics`` with Sacred's
``collection_prefix``):

``runs``: one document per run, Sacred 0.8's ``MongoObserver-0.7.0`` format, so Omniboard
and Incense read it unchanged:

* ``_id``: an int from the atomic counter (below), or the id given to the run.
* ``experiment``: ``name``, ``base_dir``, ``mainfile``, ``doc``, ``dependencies``
  (``["pkg==ver"]``), ``sources`` (``[[relative path, GridFS file id]]``) and
  ``repositories`` (``[{url, commit, dirty}]``; beyond Sacred, a dirty repository's diff is
  in GridFS, referenced as ``diff_file_id``).
* ``format`` (``MongoObserver-0.7.0``), ``command``, ``host`` (hostname, os,
  python_version, cpu, gpus, ENV), ``meta`` (command, options, comment, priority, ...).
* ``start_time``, ``heartbeat``, ``stop_time``: BSON dates (UTC).
* ``config``, ``info``, ``result``: flattened with jsonpickle as Sacred does; keys made
  BSON-safe (:func:`force_valid_bson_key`: a leading ``$`` becomes ``@``, ``.`` becomes
  ``,``); a value BSON refuses is stored as its string form with a warning
  (:func:`storable`). ``info.metrics`` lists ``{"name", "id"}`` of the run's metric
  documents (``id`` as a string).
* ``status``: a :class:`~sacredlite.events.RunStatus` value or an interrupting
  exception's ``STATUS``; ``fail_trace``: the traceback lines of a failed run.
* ``resources``: ``[[path, md5]]``; ``artifacts``: ``[{name, file_id}]``.
* ``captured_out``: the captured output (beyond Sacred: its newest part; see below).
* Omniboard's ``omniboard.tags`` and ``omniboard.notes``: every update ``$set``\\ s single
  fields, so they survive; the board writes them.
* Beyond Sacred: ``queue_time`` on a queued run; ``worker: {host, pid, claimed}`` when a
  worker claims it and ``worker_error`` when one could not run it;
  ``sacredlite.captured_out_start`` (characters of output before ``captured_out``) and
  ``sacredlite.output_collection`` once output overflows; ``sacredlite.spool_key`` on a
  run that started while the database was away (a replay finds the id it got).

Resume (beyond Sacred, ``--resume ID``): the same run document is updated, conditionally
on the status and heartbeat the resuming process checked (:func:`claim_resume`; ``$set`` status
RUNNING and ``heartbeat``, ``meta.resumes`` extended with ``{time, host, pid, command,
argv, previous_status, resume_point}``; ``$unset`` ``stop_time``, ``fail_trace``, ``result`` and
``meta.resume_point``); metric documents and their overflow parts are continued
(:func:`metric_tails` counts what is stored), and the output continues its chunks. An
interrupted run that can be resumed records ``meta.resume_point`` (``{time, host, reason,
last_steps}``). A RUNNING run whose worker died is put back to QUEUED once by ``sacredlite
worker`` (:func:`requeue_dead`), recording ``meta.requeued`` (``{time, heartbeat, worker,
by}``): the next claim resumes it under the same id.

``metrics``: one document per run and metric name, Sacred's ``{_id, run_id, name, steps,
values, timestamps}``, extended with ``$push/$each``. Beyond Sacred: ``sacredlite_batches``
(the last 1000 batch tokens, so a replayed batch is not stored twice) and
``sacredlite_parts`` (the number of the last overflow part, when there is one).

``<metrics>_overflow`` (beyond Sacred): a metric document holds the first
``METRIC_PART_POINTS`` points (about 9 MB); later ones go to part documents ``{_id:
{metric_id, part}, run_id, name, part, steps, values, timestamps, sacredlite_batches}``,
each as large. :func:`read_metric` joins them.

``<runs>_output`` (beyond Sacred): ``captured_out`` keeps at most ``OUTPUT_LIMIT``
characters; older text moves, in order, to ``{_id: {run_id, seq}, run_id, seq, start,
text}``. :func:`read_captured_out` joins them.

``sacredlite_counters`` (beyond Sacred): ``{_id: <runs collection>, seq}``, advanced with
``$inc`` for each new run: any number of processes never collide; an id taken by other
tools (Sacred allocates max+1) moves it past them.

GridFS (``fs.files``, ``fs.chunks``): sources (``filename``: the absolute path), resources
(the path) and diffs (``gitdiff://<commit>``), each with its ``md5`` (pymongo 4 no longer
writes it) and stored once per filename and content: concurrent uploads settle on the first
claimed in ``sacredlite_files`` (``{_id: "<bucket>:<md5>:<filename>", file_id}``, beyond
Sacred). Artifacts: ``artifact://<runs>/<run id>/<name>`` with ``contentType`` and
``metadata``.

Copied runs (``sacredlite copy``, :func:`write_run`, beyond Sacred): a run document may
carry ``sacredlite.exact_times`` (``{field: ISO text}`` of times whose microseconds BSON
dates drop), ``sacredlite.metric_refs_added`` (the copy added ``info.metrics``; the
original had none) and, while the copy is under way, ``sacredlite.writing``; metric
documents and parts may carry ``sacredlite_micros`` (the microseconds within the
millisecond of each timestamp). :func:`as_recorded` and :func:`read_metric` give the run
back as it was recorded. A copy creates the index ``{run_id: 1, name: 1}`` on the metrics
collection (:func:`ensure_indexes`).

URLs: Sacred's ``-m`` grammar (``[host:port:]db_name[.collection[:run_id]][!priority]``)
or a ``mongodb://`` URL (:func:`parse_mongo_option`), replica sets and write concerns
included (``mongodb://h1,h2,h3/my_db?replicaSet=rs0&w=majority``); no message ever shows a
password (:func:`redact_url`). Every write is safe to apply twice (a metric batch carries a
token, a start is an upsert on retry, updates ``$set`` whole values, a re-queue and a claim
are conditional), so pymongo's retryable writes (on by default) never store anything twice
after a failover.
"""

from __future__ import annotations

from ._mongo_apply import BATCH_TOKENS_KEPT as BATCH_TOKENS_KEPT
from ._mongo_apply import Executor as Executor
from ._mongo_apply import Target as Target
from ._mongo_apply import delete_run as delete_run
from ._mongo_apply import is_transient as is_transient
from ._mongo_apply import known_reachable as known_reachable
from ._mongo_ops import NewMetric as NewMetric
from ._mongo_ops import Op as Op
from ._mongo_ops import OutputChunk as OutputChunk
from ._mongo_ops import PushMetric as PushMetric
from ._mongo_ops import ResetOutput as ResetOutput
from ._mongo_ops import SetFields as SetFields
from ._mongo_ops import StartRun as StartRun
from ._mongo_ops import StoreFile as StoreFile
from ._mongo_ops import describe as describe
from ._mongo_ops import from_record as from_record
from ._mongo_ops import retrying as retrying
from ._mongo_ops import summary as summary
from ._mongo_ops import to_record as to_record
from ._mongo_overflow import METRIC_FIELDS as METRIC_FIELDS
from ._mongo_overflow import MetricSeries as MetricSeries
from ._mongo_overflow import OutputTail as OutputTail
from ._mongo_overflow import ms_datetimes as ms_datetimes
from ._mongo_queue import QueuedRun as QueuedRun
from ._mongo_queue import claim_next as claim_next
from ._mongo_queue import claim_resume as claim_resume
from ._mongo_queue import fail_unrunnable as fail_unrunnable
from ._mongo_queue import release as release
from ._mongo_queue import requeue_dead as requeue_dead
from ._mongo_read import ARTIFACTS as ARTIFACTS
from ._mongo_read import SOURCES as SOURCES
from ._mongo_read import artifact_files as artifact_files
from ._mongo_read import metric_names as metric_names
from ._mongo_read import metric_tails as metric_tails
from ._mongo_read import read_captured_out as read_captured_out
from ._mongo_read import read_metric as read_metric
from ._mongo_read import source_files as source_files
from ._mongo_read import with_diffs as with_diffs
from ._mongo_schema import OMNIBOARD_NOTES as OMNIBOARD_NOTES
from ._mongo_schema import OMNIBOARD_TAGS as OMNIBOARD_TAGS
from ._mongo_schema import RESERVED_COLLECTIONS as RESERVED_COLLECTIONS
from ._mongo_schema import VERSION as VERSION
from ._mongo_schema import Collections as Collections
from ._mongo_schema import apply_set as apply_set
from ._mongo_schema import artifact_filename as artifact_filename
from ._mongo_schema import ended_fields as ended_fields
from ._mongo_schema import experiment_files as experiment_files
from ._mongo_schema import run_document as run_document
from ._mongo_url import GRAMMAR as GRAMMAR
from ._mongo_url import describe_access_error as describe_access_error
from ._mongo_url import describe_client as describe_client
from ._mongo_url import describe_hosts as describe_hosts
from ._mongo_url import parse_mongo_db_arg as parse_mongo_db_arg
from ._mongo_url import parse_mongo_option as parse_mongo_option
from ._mongo_url import redact_url as redact_url
from ._mongo_url import split_credentials as split_credentials
from ._mongo_url import url_options as url_options
from ._mongo_values import bson_value as bson_value
from ._mongo_values import force_bson_encodeable as force_bson_encodeable
from ._mongo_values import force_valid_bson_key as force_valid_bson_key
from ._mongo_values import metric_column as metric_column
from ._mongo_values import new_warner as new_warner
from ._mongo_values import safe_keys as safe_keys
from ._mongo_values import storable as storable
from ._mongo_values import stored as stored
from ._mongo_write import EXACT_TIMES as EXACT_TIMES
from ._mongo_write import METRIC_REFS_ADDED as METRIC_REFS_ADDED
from ._mongo_write import WRITING as WRITING
from ._mongo_write import as_recorded as as_recorded
from ._mongo_write import ensure_indexes as ensure_indexes
from ._mongo_write import write_run as write_run
from ._portable import PortableFile as PortableFile
from ._portable import PortableRun as PortableRun

OUTPUT_LIMIT = 1_000_000
"""Characters of captured output kept in the run document before older text overflows."""
METRIC_PART_POINTS = 200_000
"""Points per metric document (about 9 MB) before later points go to overflow parts."""

__all__ = [
    "ARTIFACTS",
    "EXACT_TIMES",
    "BATCH_TOKENS_KEPT",
    "GRAMMAR",
    "METRIC_FIELDS",
    "METRIC_PART_POINTS",
    "METRIC_REFS_ADDED",
    "OMNIBOARD_NOTES",
    "OMNIBOARD_TAGS",
    "OUTPUT_LIMIT",
    "RESERVED_COLLECTIONS",
    "SOURCES",
    "VERSION",
    "WRITING",
    "Collections",
    "Executor",
    "MetricSeries",
    "NewMetric",
    "Op",
    "OutputChunk",
    "OutputTail",
    "PortableFile",
    "PortableRun",
    "PushMetric",
    "QueuedRun",
    "ResetOutput",
    "SetFields",
    "StartRun",
    "StoreFile",
    "Target",
    "apply_set",
    "artifact_filename",
    "as_recorded",
    "artifact_files",
    "bson_value",
    "claim_next",
    "claim_resume",
    "delete_run",
    "describe",
    "describe_access_error",
    "describe_client",
    "describe_hosts",
    "ended_fields",
    "ensure_indexes",
    "experiment_files",
    "fail_unrunnable",
    "force_bson_encodeable",
    "force_valid_bson_key",
    "from_record",
    "is_transient",
    "known_reachable",
    "metric_column",
    "metric_names",
    "metric_tails",
    "ms_datetimes",
    "new_warner",
    "parse_mongo_db_arg",
    "parse_mongo_option",
    "read_captured_out",
    "read_metric",
    "redact_url",
    "release",
    "requeue_dead",
    "retrying",
    "run_document",
    "safe_keys",
    "source_files",
    "split_credentials",
    "storable",
    "stored",
    "summary",
    "to_record",
    "url_options",
    "with_diffs",
    "write_run",
]

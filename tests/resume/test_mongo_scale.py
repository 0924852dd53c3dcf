"""Many machines, one replica set: replica-set URLs, write concerns and retryable writes.

SecantusDB answers ``hello`` as the primary of a one-member replica set named
``secantus``, so a seed list naming it (and a host that is down) with
``replicaSet=secantus`` is a real replica-set topology for pymongo: it discovers the
primary and writes there. A set with several members (elections, failover) cannot be
started here; that part rests on pymongo's retryable writes and on every sacredlite write
being safe to apply twice (tests/mongo covers the replays).
"""

from __future__ import annotations

import warnings

import pytest
from mongo_testserver import free_port
from resume_script import run_counter

from sacredlite.formats.mongo import (
    describe_hosts,
    parse_mongo_option,
    read_metric,
    redact_url,
    url_options,
)
from sacredlite.observers import MongoObserver


def test_replica_set_urls_parse_and_hide_passwords() -> None:
    """A seed list with options and credentials: database, hosts and options are read,
    the password never shown."""
    url = "mongodb://ann:s3cr3t@h1:27017,h2:27018,h3/exp?replicaSet=rs0&w=majority!40"
    kwargs = parse_mongo_option(url)
    assert kwargs == {
        "url": "mongodb://ann:s3cr3t@h1:27017,h2:27018,h3/exp?replicaSet=rs0&w=majority",
        "db_name": "exp",
        "priority": 40,
    }
    assert redact_url(kwargs["url"]) == (
        "mongodb://ann:***@h1:27017,h2:27018,h3/exp?replicaSet=rs0&w=majority"
    )
    assert describe_hosts(kwargs["url"]) == "h1:27017,h2:27018,h3"
    assert url_options(kwargs["url"]) == {"replicaset": "rs0", "w": "majority"}


def test_observer_passes_write_concern_and_keeps_retryable_writes(
    mongo_server, mongo_db_name
) -> None:
    """URL options and keyword arguments reach the client; retryable writes stay on."""
    seeds = f"mongodb://127.0.0.1:{free_port()},{mongo_server.address}/?replicaSet=secantus"
    by_url = MongoObserver(f"{seeds}&w=majority", mongo_db_name)
    by_kwarg = MongoObserver(seeds, mongo_db_name, w="majority", wtimeoutMS=5000)
    for observer in (by_url, by_kwarg):
        client = observer.runs.database.client
        assert client.options.replica_set_name == "secantus"
        assert client.write_concern.document["w"] == "majority"
        assert client.options.retry_writes is True
        observer.runs.insert_one({"_id": "probe"})  # acknowledged by the discovered primary
        assert observer.runs.find_one({"_id": "probe"}) is not None
        observer.runs.delete_one({"_id": "probe"})
    assert by_kwarg.runs.database.client.write_concern.document["wtimeout"] == 5000


def test_turning_retryable_writes_off_warns(mongo_server, mongo_db_name) -> None:
    """retryWrites=false is allowed but warned about."""
    with pytest.warns(UserWarning, match="retryWrites=false"):
        MongoObserver(f"{mongo_server.url}/?retryWrites=false", mongo_db_name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MongoObserver(f"{mongo_server.url}/?retryWrites=true", mongo_db_name)


def test_run_and_resume_through_a_replica_set_url(project, mongo_server, mongo_db_name) -> None:
    """A run and its resume through a seed list with a dead member and w=majority."""
    url = (
        f"mongodb://127.0.0.1:{free_port()},{mongo_server.address}/{mongo_db_name}"
        "?replicaSet=secantus&w=majority&retryWrites=true"
    )
    assert run_counter(project, "-m", url).returncode == 1
    resumed = run_counter(project, "-m", url, "--resume", "1")
    assert resumed.returncode == 0, resumed.stderr
    client = mongo_server.client()
    try:
        doc = client[mongo_db_name].runs.find_one({"_id": 1})
        assert doc["status"] == "COMPLETED" and len(doc["meta"]["resumes"]) == 1
        assert read_metric(client[mongo_db_name], 1, "loss")["steps"] == list(range(6))
    finally:
        client.close()

"""``-m/--mongo_db`` values parse as Sacred's grammar plus full MongoDB URLs."""

from __future__ import annotations

import pytest

from sacredlite.errors import CommandLineError
from sacredlite.formats.mongo import describe_hosts, parse_mongo_option, redact_url


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("my_db", {"db_name": "my_db"}),
        ("localhost:27017", {"url": "localhost:27017"}),
        ("127.0.0.1:27017", {"url": "127.0.0.1:27017"}),
        ("db-host.example.org:2000:exp", {"url": "db-host.example.org:2000", "db_name": "exp"}),
        ("my_db.my_runs", {"db_name": "my_db", "collection": "my_runs"}),
        ("my_db.runs:12", {"db_name": "my_db", "collection": "runs", "overwrite": 12}),
        ("h:1:d.c:7!40", {"url": "h:1", "db_name": "d", "collection": "c", "overwrite": 7,
                          "priority": 40}),
        ("my_db!-5", {"db_name": "my_db", "priority": -5}),
        ("localhost:27017!3", {"url": "localhost:27017", "priority": 3}),
        ("mongodb://u:p@h:27017/exp?authSource=admin",
         {"url": "mongodb://u:p@h:27017/exp?authSource=admin", "db_name": "exp"}),
        ("mongodb://h1:1,h2:2/?replicaSet=rs", {"url": "mongodb://h1:1,h2:2/?replicaSet=rs"}),
        ("mongodb+srv://u:p@cluster.example.net/exp!50",
         {"url": "mongodb+srv://u:p@cluster.example.net/exp", "db_name": "exp", "priority": 50}),
    ],
)  # fmt: skip
def test_parse_mongo_option(value, expected):
    """Each documented form gives the MongoObserver keyword arguments it names."""
    assert parse_mongo_option(value) == expected


@pytest.mark.parametrize("value", ["", "1db", "host:port:db", "db.coll:abc", "db!x"])
def test_invalid_values_name_the_grammar(value):
    """A value of no known form fails in one line that shows the accepted forms."""
    with pytest.raises(CommandLineError, match=r"expected \[host:port:\]db_name"):
        parse_mongo_option(value)


def test_invalid_url_value_hides_the_password():
    """The error for a malformed value never repeats a password."""
    with pytest.raises(CommandLineError) as info:
        parse_mongo_option("mongo://ann:secret@host/db")
    assert "secret" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("mongodb://ann:s3cret@h:1/db", "mongodb://ann:***@h:1/db"),
        ("mongodb+srv://ann:p%40ss@c.example.net/?w=1", "mongodb+srv://ann:***@c.example.net/?w=1"),
        ("mongodb://ann@h/db", "mongodb://ann@h/db"),
        ("mongodb://h:1/db", "mongodb://h:1/db"),
        ("localhost:27017", "localhost:27017"),
        (None, "localhost:27017"),
    ],
)
def test_redact_url(url, redacted):
    """Passwords become *** and nothing else changes."""
    assert redact_url(url) == redacted


def test_describe_hosts():
    """Hosts are listed without credentials, database or options."""
    assert describe_hosts("mongodb://a:b@h1:1,h2:2/db?x=y") == "h1:1,h2:2"
    assert describe_hosts("example.org") == "example.org:27017"
    assert describe_hosts(None) == "localhost:27017"

"""Parse ``-m/--mongo_db`` values and keep passwords out of every message (internal).

Sacred's grammar (``[host:port:]db_name[.collection[:run_id]][!priority]`` or ``host:port``)
plus, beyond Sacred, a full ``mongodb://`` or ``mongodb+srv://`` URL whose path names the
database (``mongodb://user:pass@host:27017/my_db?authSource=admin``), optionally followed
by ``!priority``. A URL may name several hosts and any of pymongo's options, e.g. a replica
set with a write concern: ``mongodb://h1,h2,h3/my_db?replicaSet=rs0&w=majority``
(:func:`url_options` reads them). Nothing here imports pymongo.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import CommandLineError

__all__ = [
    "describe_access_error",
    "describe_client",
    "describe_hosts",
    "parse_mongo_db_arg",
    "parse_mongo_option",
    "redact_url",
    "split_credentials",
    "url_options",
]

_NAME = r"[_A-Za-z][0-9A-Za-z#%&'()+\-;=@\[\]^_{}]{0,63}"
_LABEL = r"[0-9A-Za-z](?:[0-9A-Za-z-]{0,61}[0-9A-Za-z])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*"
_PRIORITY = r"(?:!(?P<priority>-?\d+))?"
_HOST_ONLY = re.compile(rf"^(?P<host>{_HOST}):(?P<port>\d{{1,5}}){_PRIORITY}$")
_FULL = re.compile(
    rf"^(?:(?P<host>{_HOST}):(?P<port>\d{{1,5}}):)?(?P<db_name>{_NAME})"
    rf"(?:\.(?P<collection>{_NAME})(?::(?P<overwrite>\d{{1,12}}))?)?{_PRIORITY}$"
)
_URL = re.compile(r"^(?P<url>mongodb(?:\+srv)?://.+?)(?:!(?P<priority>-?\d+))?$", re.S)
_USERINFO = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>.*)@(?P<hosts>[^@/?]*)(?P<rest>[/?].*)?$",
    re.S,
)

GRAMMAR = "[host:port:]db_name[.collection[:run_id]][!priority], host:port, or a mongodb:// URL"


def parse_mongo_option(value: str) -> dict[str, Any]:
    """Turn a ``-m/--mongo_db`` value into :class:`MongoObserver` keyword arguments.

    Args:
        value: e.g. ``my_db``, ``localhost:27017``, ``localhost:27017:my_db.runs:12!40`` or
            ``mongodb://user:pass@host:27017/my_db?authSource=admin``.

    Returns:
        A dict with some of ``url``, ``db_name``, ``collection``, ``overwrite`` (int) and
        ``priority`` (int); keys that the value does not give are left out.

    Raises:
        CommandLineError: the value matches none of the forms.
    """
    kwargs: dict[str, Any] = {}
    url_match = _URL.match(value)
    if url_match:
        url = url_match.group("url")
        kwargs["url"] = url
        db_name = _database_from_url(url)
        if db_name:
            kwargs["db_name"] = db_name
        if url_match.group("priority") is not None:
            kwargs["priority"] = int(url_match.group("priority"))
        return kwargs
    match = _HOST_ONLY.match(value) or _FULL.match(value)
    if match is None:
        raise CommandLineError(
            f"Invalid -m/--mongo_db value {redact_url(value)!r}: expected {GRAMMAR} "
            "(e.g. 'localhost:27017:my_db')."
        )
    groups = match.groupdict()
    if groups.get("host"):
        kwargs["url"] = f"{groups['host']}:{groups['port']}"
    for key in ("db_name", "collection"):
        if groups.get(key):
            kwargs[key] = groups[key]
    if groups.get("overwrite"):
        kwargs["overwrite"] = int(groups["overwrite"])
    if groups.get("priority") is not None:
        kwargs["priority"] = int(groups["priority"])
    return kwargs


def parse_mongo_db_arg(mongo_db: str) -> dict[str, Any]:
    """Turn a ``-m/--mongo_db`` value into MongoObserver keyword arguments, as Sacred does.

    The same grammar as :func:`parse_mongo_option`; like Sacred's function of this name,
    ``overwrite`` comes back as the string it was written as (``MongoObserver`` converts it).

    Args:
        mongo_db: e.g. ``my_db``, ``localhost:27017:my_db.runs!40``.

    Raises:
        CommandLineError: the value matches none of the forms.
    """
    kwargs = parse_mongo_option(mongo_db)
    if "overwrite" in kwargs:
        kwargs["overwrite"] = str(kwargs["overwrite"])
    return kwargs


def _database_from_url(url: str) -> str | None:
    """Return the database named in a MongoDB URL's path, or ``None``."""
    match = _USERINFO.match(url)
    tail = match.group("rest") or "" if match else url.split("://", 1)[1]
    if match is None:
        slash = tail.find("/")
        tail = tail[slash:] if slash >= 0 else ""
    if not tail.startswith("/"):
        return None
    db_name = tail[1:].split("?", 1)[0]
    return db_name or None


def redact_url(url: str | None) -> str:
    """Return *url* with its password replaced by ``***``.

    ``mongodb://ann:secret@host/db`` becomes ``mongodb://ann:***@host/db``; values without
    credentials come back unchanged. When in doubt, more is hidden rather than less.
    """
    if not url:
        return "localhost:27017"
    match = _USERINFO.match(url)
    if match is None:
        return f"***@{url.rsplit('@', 1)[1]}" if "@" in url else url
    user, sep, _ = match.group("userinfo").partition(":")
    userinfo = f"{user}:***" if sep else user
    return f"{match.group('scheme')}{userinfo}@{match.group('hosts')}{match.group('rest') or ''}"


def describe_hosts(url: str | None) -> str:
    """Return the ``host:port`` list a URL points at, without credentials or options."""
    if not url:
        return "localhost:27017"
    match = _USERINFO.match(url)
    if match is not None:
        hosts = match.group("hosts")
    elif "://" in url:
        hosts = re.split(r"[/?]", url.split("://", 1)[1], maxsplit=1)[0]
    else:
        hosts = url
    if "," not in hosts and ":" not in hosts and not url.startswith("mongodb+srv://"):
        hosts += ":27017"
    return hosts


def describe_client(client: Any) -> str:
    """Return the ``host:port`` list of a ``pymongo.MongoClient`` (never credentials)."""
    topology = getattr(client, "topology_description", None)
    try:
        servers = topology.server_descriptions() if topology is not None else {}
    except Exception:  # noqa: BLE001 - a client of another kind: describe it generically
        servers = {}
    hosts = ",".join(f"{host}:{port}" for host, port in servers)
    return hosts or "the given client"


def url_options(url: str | None) -> dict[str, str]:
    """Return a MongoDB URL's options (``?replicaSet=rs0&w=majority``), keys lower-cased
    as pymongo matches them (``{"replicaset": "rs0", "w": "majority"}``)."""
    from urllib.parse import parse_qsl

    if not url or "?" not in url:
        return {}
    query = url.split("?", 1)[1]
    return {key.lower(): value for key, value in parse_qsl(query, keep_blank_values=True)}


def split_credentials(url: str | None) -> tuple[str | None, str | None]:
    """Return the URL's user and password (percent-decoded), ``None`` where absent."""
    from urllib.parse import unquote

    match = _USERINFO.match(url or "")
    if match is None:
        return None, None
    user, sep, password = match.group("userinfo").partition(":")
    return unquote(user), (unquote(password) if sep else None)


def describe_access_error(exc: BaseException, url: str | None, db_name: str) -> str | None:
    """Return one line for MongoDB refusing access, or ``None`` for any other error.

    Code 18 is a failed login, code 13 an operation the (missing) user may not do. The line
    names the hosts and the user, never the password.

    Args:
        exc: the error pymongo raised (an ``OperationFailure`` carries ``code``).
        url: the URL the client was made with.
        db_name: the database that was asked for.
    """
    code = getattr(exc, "code", None)
    if code not in (13, 18):
        return None
    hosts = describe_hosts(url)
    user, password = split_credentials(url)
    if code == 18:
        text = (
            f"MongoDB at {hosts} refused the login of user {user!r}: authentication failed. "
            "Check the user, the password and authSource in the URL."
        )
        if password == "***":
            text += " The URL still holds the '***' of a message: put the password there."
        return text
    if user is None:
        return (
            f"MongoDB at {hosts} needs a login to use database {db_name!r}: give "
            f"mongodb://USER:PASSWORD@{hosts}/{db_name} (and ?authSource=DB if needed)."
        )
    return (
        f"MongoDB at {hosts} does not let user {user!r} use database {db_name!r} "
        "(Unauthorized): give the user a role on it, or check authSource in the URL."
    )

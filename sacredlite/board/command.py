"""``sacredlite board [DIR] [-m URL] [--host H] [--port P] [--read-only] [--auth-file PATH]``."""

from __future__ import annotations

import argparse
import ipaddress
import os
import stat
import sys

from ..store.limits import AUTH_FAILURE_BURST, AUTH_FAILURES_PER_SECOND

USAGE = (
    "sacredlite board [DIR] [-m URL] [--host 127.0.0.1] [--port 5100] [--read-only] "
    "[--auth-file PATH | --auth USER:PASS]"
)
AUTH_ENV = "SACREDLITE_BOARD_AUTH"
"""The environment variable that holds ``USER:PASS`` for HTTP basic auth."""

EPILOG = f"""\
HTTP basic auth: put USER:PASS in the environment variable {AUTH_ENV} or on the
first line of a file given as --auth-file PATH (readable by you alone), so that `ps` does
not show the password; --auth USER:PASS works too, but `ps` shows it to every user.
After {AUTH_FAILURE_BURST} failed logins a client may try once every \
{1 / AUTH_FAILURES_PER_SECOND:g} s (429 meanwhile).
"""


class _UsageError(Exception):
    """A bad combination of options: printed as one line, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sacredlite board",
        usage=USAGE,
        description="Serve the web dashboard over stored runs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "dir",
        nargs="?",
        help="file storage directory (the DIR given to -F; default ./runs); or a TinyDB "
        "directory (-t), a SQL URL (-s) or s3://BUCKET/PREFIX (-S), read-only",
    )
    parser.add_argument(
        "-m", "--mongo", metavar="URL", help="MongoDB: mongodb://HOST:PORT/DB or HOST:PORT:DB"
    )
    parser.add_argument(
        "--db", metavar="NAME", help="MongoDB database name (default from URL, else sacred)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5100, help="port (default 5100)")
    parser.add_argument("--read-only", action="store_true", help="no tags, notes or deletes")
    parser.add_argument(
        "--auth-file",
        metavar="PATH",
        help=f"require HTTP basic auth with the USER:PASS on the first line of PATH "
        f"(or set {AUTH_ENV}=USER:PASS)",
    )
    parser.add_argument(
        "--auth",
        metavar="USER:PASS",
        help="require HTTP basic auth (visible in `ps`: prefer --auth-file or the variable)",
    )
    return parser


def _auth(args: argparse.Namespace) -> str | None:
    """Return the ``USER:PASS`` to require: from --auth, --auth-file or the environment."""
    if args.auth is not None and args.auth_file is not None:
        raise _UsageError("give --auth or --auth-file, not both.")
    if args.auth_file is not None:
        try:
            with open(args.auth_file, encoding="utf-8") as fh:
                auth, where = fh.readline().rstrip("\r\n"), f"the first line of {args.auth_file!r}"
                mode = os.fstat(fh.fileno()).st_mode
        except (OSError, UnicodeDecodeError) as exc:
            raise _UsageError(f"cannot read --auth-file {args.auth_file!r}: {exc}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            print(
                f"warning: --auth-file {args.auth_file!r} can be read by other users; "
                f"chmod 600 {args.auth_file}",
                file=sys.stderr,
            )
    elif args.auth is not None:
        auth, where = args.auth, "--auth"
        print(
            f"warning: --auth shows the password to every user in `ps`; use {AUTH_ENV}=USER:PASS "
            "or --auth-file PATH instead.",
            file=sys.stderr,
        )
    elif os.environ.get(AUTH_ENV):
        auth, where = os.environ[AUTH_ENV], AUTH_ENV
    else:
        return None
    user, colon, password = auth.partition(":")
    if not colon or not user or not password:
        # Never echo the value: it may be a password without its user.
        raise _UsageError(f"{where} must be USER:PASS (a user, a colon, a password).")
    return auth


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    """Run ``sacredlite board`` and return its exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.dir is None and args.mongo is None and os.path.isdir("runs"):
        args.dir = "runs"  # the usual -F runs, as `sacredlite ls` assumes too
    if (args.dir is None) == (args.mongo is None):
        print(
            f"sacredlite board: give a storage DIR or -m URL (not both).\nusage: {USAGE}",
            file=sys.stderr,
        )
        return 2
    try:
        auth = _auth(args)
    except _UsageError as exc:
        print(f"sacredlite board: {exc}", file=sys.stderr)
        return 2
    if not _is_loopback(args.host):
        print(f"warning: binding to {args.host} exposes your runs to the network.", file=sys.stderr)
        if auth is None and not args.read_only:
            print(
                "sacredlite board: binding beyond 127.0.0.1 needs --read-only or auth: "
                f"{AUTH_ENV}=USER:PASS, --auth-file PATH or --auth USER:PASS.",
                file=sys.stderr,
            )
            return 2
    try:
        import uvicorn

        from .app import create_app
        from .security import LOOPBACK_NAMES
    except ImportError as exc:
        print(
            f"sacredlite board needs the web extra ({exc.name} is missing): "
            "pip install 'sacredlite[board]'",
            file=sys.stderr,
        )
        return 1
    from ..store import StoreError, open_store

    try:
        store = open_store(
            args.dir, mongo_url=args.mongo, db_name=args.db, read_only=args.read_only
        )
    except StoreError as exc:
        print(f"sacredlite board: {exc}", file=sys.stderr)
        return 2
    # On loopback, refuse other Host names: a web page could otherwise reach the board
    # through DNS rebinding. On other addresses --auth (or --read-only) protects it.
    hosts = LOOPBACK_NAMES if _is_loopback(args.host) else None
    app = create_app(store, auth=auth, allowed_hosts=hosts)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"sacredlite board serving {store.location} at http://{shown}:{args.port}/", flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        store.close()
    return 0

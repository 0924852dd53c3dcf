"""MongoDB with authentication (issue 9, item 15): the data commands say "login refused"
when that is what happened, and the `sacredlite sync` hint keeps the URL's user but never
its password. Against the real SecantusDB server, started with --auth."""

import logging
import shlex

import pytest
from mongo_testserver import start_mongo_server

from sacredlite.board.command import main as board_main
from sacredlite.observers.sync import main as sync_main
from sacredlite.store.command import ls_main

PASSWORD = "s3cret-Pw"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    """A SecantusDB server that requires a login; user ann (role root, in admin)."""
    server = start_mongo_server(tmp_path_factory.mktemp("auth-data"))
    client = server.client()
    client.admin.command("createUser", "ann", pwd=PASSWORD, roles=["root"])
    client.close()
    server.stop()
    server.extra_args = ("--auth",)
    server.start()
    yield server
    server.kill()


def url(server, password=PASSWORD, user="ann", db="authdb"):
    """The server's URL with *user* and *password* (none when *user* is None)."""
    login = "" if user is None else f"{user}:{password}@"
    return f"mongodb://{login}{server.address}/{db}?authSource=admin"


def one_error_line(capsys):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_ls_reports_a_wrong_password_as_a_refused_login(auth_server, capsys):
    """A wrong password is a failed login naming the user, not "Cannot reach MongoDB"."""
    assert ls_main(["-m", url(auth_server, "WRONG-pw")]) == 2
    line = one_error_line(capsys)
    assert line == (
        f"sacredlite ls: MongoDB at {auth_server.address} refused the login of user 'ann': "
        "authentication failed. Check the user, the password and authSource in the URL."
    )
    assert board_main(["-m", url(auth_server, "WRONG-pw")]) == 2
    assert "refused the login of user 'ann'" in one_error_line(capsys)


def test_ls_without_a_login_says_one_is_needed(auth_server, capsys):
    """A server that answers ping but needs a login to read says so, with the URL to give."""
    assert ls_main(["-m", url(auth_server, user=None)]) == 2
    line = one_error_line(capsys)
    assert "needs a login to use database 'authdb'" in line
    assert f"mongodb://USER:PASSWORD@{auth_server.address}/authdb" in line


def test_ls_with_the_right_login_lists_runs(auth_server, capsys):
    """The right user and password list the (empty) database."""
    assert ls_main(["-m", url(auth_server)]) == 0
    assert capsys.readouterr().out.startswith("ID")


def test_sync_hint_keeps_the_user_and_sync_names_a_refused_login(
    auth_server, tmp_path, caplog, capsys
):
    """A run that cannot reach its database prints a sync command with the URL's user and
    `***` for the password; that command says what to fix; with the password it stores."""
    from sacredlite import Experiment
    from sacredlite.observers import QueuedMongoObserver

    spool = tmp_path / "spool"
    ex = Experiment("auth_hint")
    ex.observers.append(
        QueuedMongoObserver(
            interval=0.05,
            retry_interval=0.05,
            url=url(auth_server),
            db_name="authdb",
            spool_dir=str(spool),
            serverSelectionTimeoutMS=200,
            connectTimeoutMS=200,
            join_timeout=0.5,
        )
    )

    @ex.main
    def main(_run):
        _run.log_scalar("loss", 0.5)
        return 7

    auth_server.stop()  # the database is away for the whole run
    try:
        with caplog.at_level(logging.WARNING, logger="sacredlite"):
            ex.run()
    finally:
        auth_server.start()
    hint = f"sacredlite sync --spool {spool} -m {shlex.quote(url(auth_server, '***'))}"
    assert hint in caplog.text and PASSWORD not in caplog.text
    capsys.readouterr()

    assert sync_main(["--spool", str(spool), "-m", url(auth_server, "***")]) == 1
    out = capsys.readouterr().out
    assert "refused the login of user 'ann': authentication failed" in out
    assert "put the password there" in out and "write rejected" not in out

    assert sync_main(["--spool", str(spool), "-m", url(auth_server)]) == 0
    client = auth_server.client(username="ann", password=PASSWORD, authSource="admin")
    try:
        assert client["authdb"].runs.find_one({}, {"result": 1})["result"] == 7
    finally:
        client.close()


@pytest.mark.parametrize(
    "value",
    ["mongodb://ann:pw-x1@", "mongodb://[::1", "mongodb://127.0.0.1:99999/db", "127.0.0.1:1/a$b"],
)
def test_bad_mongo_urls_are_one_line_without_the_password(value, capsys):
    """URLs pymongo refuses end ls and sync with one line that hides the password."""
    assert ls_main(["-m", value]) == 2
    line = one_error_line(capsys)
    assert line.startswith("sacredlite ls: ") and "pw-x1" not in line
    assert sync_main(["-m", value]) == 2
    line = one_error_line(capsys)
    assert line.startswith("sacredlite sync: ") and "pw-x1" not in line

"""`sacredlite board` argument handling and the served process."""

import base64
import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from sacredlite.board.command import main

REPO = str(Path(__file__).resolve().parents[2])


def test_needs_a_store(capsys, tmp_path, monkeypatch):
    """Without DIR or -m (and no ./runs) the command exits 2 and says what to give."""
    monkeypatch.chdir(tmp_path)
    assert main([]) == 2
    assert "give a storage DIR or -m URL" in capsys.readouterr().err


def test_missing_directory_is_one_clear_line(tmp_path, capsys):
    """A storage directory that does not exist is named in the error."""
    assert main([str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "does not exist" in err and len(err.strip().splitlines()) == 1


def test_public_bind_needs_auth_or_read_only(tmp_path, capsys):
    """Binding beyond 127.0.0.1 warns, and is refused without --auth or --read-only."""
    assert main([str(tmp_path), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "warning: binding to 0.0.0.0" in err and "needs --read-only or auth" in err
    assert main([str(tmp_path), "--host", "0.0.0.0", "--auth", "nocolon"]) == 2
    assert "must be USER:PASS" in capsys.readouterr().err


@contextlib.contextmanager
def served(*args, env=None):
    """Run ``sacredlite board ARGS`` on a free port; yield (process, base URL) once it answers."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": REPO, **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sacredlite", "board", *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line, proc.stderr.read()
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(url + "static/style.css").close()
                break
            except urllib.error.HTTPError:
                break  # it answers (401 when auth is on)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield proc, url
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def status(url, credentials=None):
    """GET *url* (with basic-auth *credentials* "USER:PASS") and return the HTTP status."""
    headers = {}
    if credentials is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_serves_on_loopback_and_prints_the_url(tmp_path):
    """The console script serves the page on 127.0.0.1 and prints its URL."""
    with served(str(tmp_path)) as (_, url):
        assert status(url + "api/runs") == 200


def _command_line(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as fh:
        return fh.read().replace(b"\0", b" ").decode()


def test_auth_from_the_environment_keeps_the_password_out_of_ps(tmp_path):
    """SACREDLITE_BOARD_AUTH turns auth on without the password on the command line."""
    with served(str(tmp_path), env={"SACREDLITE_BOARD_AUTH": "ann:env-s3cret"}) as (proc, url):
        assert "env-s3cret" not in _command_line(proc.pid)
        assert status(url + "api/runs") == 401
        assert status(url + "api/runs", "ann:wrong") == 401
        assert status(url + "api/runs", "ann:env-s3cret") == 200


def test_auth_from_a_file_keeps_the_password_out_of_ps(tmp_path):
    """--auth-file reads USER:PASS from the file's first line; the password is not in ps."""
    secret = tmp_path / "board.auth"
    secret.write_text("ann:file-s3cret\n")
    secret.chmod(0o600)
    runs = tmp_path / "runs"
    runs.mkdir()
    with served(str(runs), "--auth-file", str(secret)) as (proc, url):
        assert "file-s3cret" not in _command_line(proc.pid)
        assert status(url + "api/runs") == 401
        assert status(url + "api/runs", "ann:file-s3cret") == 200


def test_auth_options_are_checked(tmp_path, capsys, monkeypatch):
    """Both options at once, a value without a colon, and an unreadable file are one-line
    errors that never echo the value; --auth on the command line warns about ps."""
    monkeypatch.delenv("SACREDLITE_BOARD_AUTH", raising=False)
    secret = tmp_path / "a"
    secret.write_text("justapassword\n")
    assert main([str(tmp_path), "--auth", "a:b", "--auth-file", str(secret)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main([str(tmp_path), "--auth-file", str(secret)]) == 2
    err = capsys.readouterr().err
    assert "must be USER:PASS" in err and "justapassword" not in err
    assert main([str(tmp_path), "--auth-file", str(tmp_path / "missing")]) == 2
    assert "cannot read --auth-file" in capsys.readouterr().err
    monkeypatch.setenv("SACREDLITE_BOARD_AUTH", "nocolon-secret")
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "SACREDLITE_BOARD_AUTH must be USER:PASS" in err and "nocolon-secret" not in err
    monkeypatch.delenv("SACREDLITE_BOARD_AUTH")
    assert main([str(tmp_path / "nope"), "--auth", "ann:x"]) == 2
    err = capsys.readouterr().err
    assert "warning: --auth shows the password to every user in `ps`" in err


def test_help_documents_every_auth_source(capsys):
    """`sacredlite board --help` names the variable, --auth-file and the failed-login limit."""
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "SACREDLITE_BOARD_AUTH" in out and "--auth-file PATH" in out
    assert "After 10 failed logins a client may try once every 2 s" in out

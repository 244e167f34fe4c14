"""``archdraw render --watch``: renders again on every change, reports errors and keeps going."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from archdraw import cli
from archdraw.cli import EXIT_USAGE, main
from archdraw.watch import signature, watch

from .conftest import ROOT

LSTM = ROOT / "specs" / "lstm.yaml"


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_signature_changes_with_content_and_replacement(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    assert signature(path) is None
    path.write_text("a")
    first = signature(path)
    path.write_text("ab")
    assert signature(path) != first
    other = tmp_path / "other.yaml"
    other.write_text("ab")
    before = signature(path)
    os.replace(other, path)  # an editor's atomic save: same size, maybe the same mtime
    assert signature(path) != before


def test_watch_calls_on_start_on_change_and_not_while_missing(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("one")
    calls: list[str] = []
    missing: list[bool] = []
    stop = threading.Event()

    def record() -> None:
        calls.append(path.read_text())

    thread = threading.Thread(
        target=watch,
        args=(path, record),
        kwargs={"interval": 0.01, "stop": stop, "on_missing": lambda: missing.append(True)},
    )
    thread.start()
    try:
        wait_for(lambda: calls == ["one"], "the first call")
        path.write_text("two!")
        wait_for(lambda: calls == ["one", "two!"], "the call after a change")
        path.unlink()
        wait_for(lambda: missing == [True], "the note that the file is gone")
        path.write_text("three")
        wait_for(lambda: calls == ["one", "two!", "three"], "the call after the file came back")
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_render_watch_rerenders_reports_errors_and_keeps_the_old_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "lstm.yaml"
    shutil.copy(LSTM, spec)
    out = tmp_path / "lstm.dot"
    stop = threading.Event()
    # The real command line, with the watcher's test-only stop event and a short interval.
    monkeypatch.setattr(cli, "_watch", functools.partial(cli._watch, stop=stop, interval=0.02))
    codes: list[object] = []

    def run() -> None:
        try:
            main(["render", str(spec), "-o", str(out), "--watch"])
        except SystemExit as exc:
            codes.append(exc.code)

    err: list[str] = []

    def stderr() -> str:
        err.append(capsys.readouterr().err)
        return "".join(err)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        wait_for(lambda: out.exists() and f"wrote {out.as_posix()}" in stderr(), "the first render")
        assert stderr().startswith(f"archdraw: watching {spec.as_posix()}")
        spec.write_text(spec.read_text().replace("label: forget gate", "label: forget gate (changed)"))
        wait_for(lambda: "forget gate (changed)" in out.read_text(), "the render after an edit")
        wait_for(lambda: stderr().count("wrote ") == 2, "the second 'wrote' line")
        good = out.read_text()

        spec.write_text(
            spec.read_text().replace("in: xh, units: H, act: tanh", "in: xhh, units: H, act: tanh")
        )
        wait_for(lambda: "error:" in stderr(), "the error")
        assert f"{spec.as_posix()}:17:" in stderr()
        assert "unknown layer 'xhh'" in stderr()
        assert out.read_text() == good, "a broken spec leaves the last output as it was"
        assert thread.is_alive(), "an error does not stop the watcher"

        spec.write_text(spec.read_text().replace("xhh", "xh").replace("(changed)", "(fixed)"))
        wait_for(lambda: "forget gate (fixed)" in out.read_text(), "the render after the fix")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert codes == [0]
    assert stderr().count("wrote ") == 3
    assert "Traceback" not in stderr()


def test_watch_refuses_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["render", str(LSTM), "-o", "-", "--watch"])
    assert exc.value.code == EXIT_USAGE
    assert "--watch writes a file" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_ctrl_c_ends_the_watch_quietly_with_130(tmp_path: Path) -> None:
    spec = tmp_path / "lstm.yaml"
    shutil.copy(LSTM, spec)
    out = tmp_path / "lstm.dot"
    proc = subprocess.Popen(
        [sys.executable, "-m", "archdraw", "render", str(spec), "-o", str(out), "--watch"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killer = threading.Timer(30, proc.kill)  # a hung watcher fails the test instead of hanging it
    killer.start()
    try:
        assert proc.stderr is not None
        lines = [proc.stderr.readline(), proc.stderr.readline()]  # stderr is line-buffered
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert lines == [f"archdraw: watching {spec.as_posix()} (Ctrl-C stops)\n", f"wrote {out.as_posix()}\n"]
    assert proc.returncode == 130
    assert err == "", "Ctrl-C ends the watch without a message"
    assert out.exists()

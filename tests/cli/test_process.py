"""The console script's process policy (cli/process.py): a fast exit that loses nothing an
ordinary exit would keep, and no collection until the command's modules are imported.

Each case runs in a process of its own: os._exit and the collector's state are per process.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from packerpy.cli import process
from packerpy.cli.commands import COMMANDS, _load
from tests.helpers import run_cli


def python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_fast_exit_keeps_the_code_the_output_later_handlers_and_threads(tmp_path: Path) -> None:
    done = python(
        """
        import atexit, sys, threading, time
        from pathlib import Path
        from packerpy.cli import process
        process.start()
        atexit.register(lambda: print("registered later, still ran"))
        def slow():
            time.sleep(0.3)
            Path("thread-finished").write_text("yes")
        threading.Thread(target=slow).start()  # non-daemon: an ordinary exit waits for it
        sys.stdout.write("buffered, not flushed")
        process.exiting(7)
        sys.exit(7)
        """,
        tmp_path,
    )
    assert done.returncode == 7, done.stderr
    assert done.stdout == "buffered, not flushedregistered later, still ran\n"
    assert (tmp_path / "thread-finished").read_text() == "yes"


def test_an_exit_it_was_not_told_about_is_the_ordinary_one(tmp_path: Path) -> None:
    done = python(
        """
        import sys
        from packerpy.cli import process
        process.start()
        print("out")
        sys.exit(5)
        """,
        tmp_path,
    )
    assert (done.returncode, done.stdout) == (5, "out\n")


def test_no_collection_until_settled_then_frozen_with_a_larger_young_threshold(
    tmp_path: Path,
) -> None:
    done = python(
        """
        import gc
        from packerpy.cli import process
        process.start()
        before = gc.isenabled()
        process.settled()
        print(before, gc.isenabled(), gc.get_freeze_count() > 0, gc.get_threshold()[0])
        """,
        tmp_path,
    )
    assert done.stdout.split() == ["False", "True", "True", str(process.YOUNG_THRESHOLD)]


def test_settled_leaves_a_process_it_did_not_start_alone(tmp_path: Path) -> None:
    done = python(
        """
        import gc
        from packerpy.cli import process
        threshold = gc.get_threshold()
        process.settled()
        print(gc.isenabled(), gc.get_freeze_count(), gc.get_threshold() == threshold)
        """,
        tmp_path,
    )
    assert done.stdout.split() == ["True", "0", "True"]


@pytest.mark.parametrize(("args", "code"), [(["--version"], 0), (["no-such-command"], 2)])
def test_the_console_script_exits_with_the_commands_status(
    tmp_path: Path, args: list[str], code: int
) -> None:
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    if code == 0:
        assert done.stdout.startswith("packerpy ")


def test_a_library_caller_keeps_pythons_collector() -> None:
    # This test process never called start(): loading a command must not change it.
    before = (gc.isenabled(), gc.get_freeze_count(), gc.get_threshold())
    _load(next(iter(COMMANDS)))
    assert (gc.isenabled(), gc.get_freeze_count(), gc.get_threshold()) == before

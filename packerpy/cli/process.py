"""The console script's own process: garbage collection during start-up, and a fast exit.

Two costs of every run that buy nothing (measured on `build`, bench/build_overhead.py):
- the cyclic collector traversing, again and again while the command's modules import, the
  objects those imports create (pydantic's validators, botocore's service models), nearly all
  of which live until the process ends: 0.3-0.45 s of CPU per build;
- the interpreter's teardown after the outcome is printed (a last full collection, then every
  module's objects freed one by one): about 0.5 s per build.

Only `main()`, the console script, uses this: `run()` (tests, library callers) keeps Python's
defaults, and so does any exit this module was not told about.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys

# Once the start-up objects are frozen, a young collection every 100,000 net allocations
# instead of 700: a command's work (a service model, a page of results) mostly dies young by
# reference counting, and the collector's time per run fell by a further 0.15 s of CPU.
YOUNG_THRESHOLD = 100_000

# The exit status main() decided, once it did; empty: exit the ordinary way.
_decided: list[int] = []


def start() -> None:
    """Collect nothing until the command's modules are imported (see `settled`), and end the
    process without Python's teardown once `exiting` says how.

    Called before anything else registers an atexit handler: handlers run last-registered
    first, so `_finish` runs after every other one, and after Python has joined the non-daemon
    threads (it does that before the atexit handlers), exactly as an ordinary exit would.
    """
    gc.disable()
    atexit.register(_finish)


def settled() -> None:
    """The command's modules are imported: what exists now stays until exit, so it moves to
    the permanent generation (never traversed again) and collection resumes for the rest."""
    if gc.isenabled():  # not started by start(): a test or a library caller
        return
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
    gc.enable()


def exiting(code: int) -> None:
    """main() is about to sys.exit(code)."""
    _decided[:] = [code]


def _finish() -> None:
    if not _decided:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # a closed or broken stream: Python's own exit reports it, as it always has
    os._exit(_decided[0])

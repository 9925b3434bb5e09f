"""The sandbox's server process: moto on loopback until SIGTERM.

A module of its own (not `moto_server`) so operations moto lacks can be added here, clearly
named, without touching production code.
"""

from __future__ import annotations

import argparse
import signal
import threading

from packerpy.support.pool import SIGNAL_POLL_S


def main() -> None:
    parser = argparse.ArgumentParser(description="packerpy's local AWS (moto) server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - optional dependency

    from packerpy.sandbox import moto_ext  # noqa: PLC0415 - imports moto, an optional dependency

    # Before the server starts, so no request ever sees moto without the operations it lacks.
    moto_ext.install()
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    server.start()
    # Woken every SIGNAL_POLL_S (as support/pool.wait_all): the handlers run in the main thread
    # only, and a SIGTERM the kernel hands to a server thread would not interrupt a plain wait.
    while not done.wait(SIGNAL_POLL_S):
        pass
    server.stop()


if __name__ == "__main__":
    main()

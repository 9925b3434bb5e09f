"""The command line: parse, call the core, print the result. The only package that prints.

`main` is the console script. Commands live in `commands/`, one module per group, and are
imported only when they run; `app.run` is the one error boundary; `output` does all printing.
"""

from __future__ import annotations

from packerpy.cli.app import main, run

__all__ = ["main", "run"]

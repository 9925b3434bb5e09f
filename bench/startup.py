"""Claim: heavy imports happen only in the commands that need them; `--help` <= 8x bare python.

`packerpy --version` and `packerpy --help` against a bare interpreter, paired (alternating
runs); typer alone costs ~5.7x, and typer + boto3 + pydantic + jinja2 + hcl2 ~22x, so a ratio
near the first means the lazy imports hold.
"""

from __future__ import annotations

import subprocess
import sys

from common import paired, timed

RUNS = 7
HELP_TARGET = 8.0  # issue 11 point 10: `packerpy --help` at most 8x `python -c pass`


def run(args: list[str]) -> None:
    subprocess.run([sys.executable, *args], capture_output=True, check=True)


def main() -> list[tuple[str, str]]:
    bare = timed(lambda: run(["-c", "pass"]), RUNS)
    version = timed(lambda: run(["-m", "packerpy", "--version"]), RUNS)
    heavy = timed(lambda: run(["-c", "import typer, boto3, pydantic, jinja2, hcl2"]), RUNS)
    _, shown, _, ratio = paired(
        lambda: run(["-c", "pass"]), lambda: run(["-m", "packerpy", "--help"]), RUNS
    )
    met = "met" if ratio <= HELP_TARGET else "MISSED"
    return [
        ("python -c pass", f"{bare * 1000:.0f} ms"),
        ("packerpy --version", f"{version * 1000:.0f} ms ({version / bare:.1f}x bare)"),
        (
            "packerpy --help (paired with python -c pass)",
            f"{shown * 1000:.0f} ms ({ratio:.1f}x bare; target <= {HELP_TARGET:g}x: {met})",
        ),
        (
            "import typer+boto3+pydantic+jinja2+hcl2",
            f"{heavy * 1000:.0f} ms ({heavy / bare:.1f}x bare)",
        ),
    ]


if __name__ == "__main__":
    for key, value in main():
        print(f"{key:40} {value}")

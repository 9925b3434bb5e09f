"""Claim: heavy imports happen only in the commands that need them.

`packerpy --version` against a bare interpreter; typer alone costs ~5.7x, and typer + boto3 +
pydantic + jinja2 + hcl2 ~22x, so a ratio near the first means the lazy imports hold.
"""

from __future__ import annotations

import subprocess
import sys

from common import timed

RUNS = 7


def run(args: list[str]) -> None:
    subprocess.run([sys.executable, *args], capture_output=True, check=True)


def main() -> list[tuple[str, str]]:
    bare = timed(lambda: run(["-c", "pass"]), RUNS)
    version = timed(lambda: run(["-m", "packerpy", "--version"]), RUNS)
    heavy = timed(lambda: run(["-c", "import typer, boto3, pydantic, jinja2, hcl2"]), RUNS)
    return [
        ("python -c pass", f"{bare * 1000:.0f} ms"),
        ("packerpy --version", f"{version * 1000:.0f} ms ({version / bare:.1f}x bare)"),
        (
            "import typer+boto3+pydantic+jinja2+hcl2",
            f"{heavy * 1000:.0f} ms ({heavy / bare:.1f}x bare)",
        ),
    ]


if __name__ == "__main__":
    for key, value in main():
        print(f"{key:40} {value}")

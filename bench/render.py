"""Claim: rendering and checking a template is a small share of packerpy's budget.

Times render (Jinja2 + encoder + manifest injection) and the python-hcl2 check in process,
warm, for the scaffolded image, against the ~16 ms python-hcl2 parse figure.
"""

from __future__ import annotations

from common import project, timed

from packerpy import config
from packerpy.aws.settings import aws_settings
from packerpy.packer import binary as packer
from packerpy.render import jinja as render

RUNS = 50


def main() -> list[tuple[str, str]]:
    root = project()
    proj = config.load(root / "packerpy.toml")
    settings = aws_settings(proj, environ={})
    info = packer.detect()
    rendered = render.render(proj, "web", settings, info)
    render.check_hcl(rendered.text, "warm-up")
    r = timed(lambda: render.render(proj, "web", settings, info), RUNS)
    c = timed(lambda: render.check_hcl(rendered.text, "bench"), RUNS)
    lines = rendered.text.count("\n")
    return [
        (f"render ({lines} lines, median of {RUNS})", f"{r * 1000:.2f} ms"),
        ("python-hcl2 check", f"{c * 1000:.2f} ms"),
        ("check / render", f"{c / r:.1f}x"),
    ]


if __name__ == "__main__":
    for key, value in main():
        print(f"{key:40} {value}")

"""HTML pages (the estate report): a Jinja2 environment of its own, with autoescape ON.

The HCL environment (jinja.py) must not escape, as HCL is not HTML; a page must, because it
shows tag values and reasons read from AWS. Two environments keep the two rules from mixing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2


def render_page(templates: Path, name: str, **context: Any) -> str:  # noqa: ANN401 - template values
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(name).render(**context)

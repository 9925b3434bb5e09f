"""Allow `python -m packerpy`."""

from __future__ import annotations

from packerpy.cli import main

main()

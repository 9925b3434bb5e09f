"""`make bench`: run every bench and print its figures and ratios."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import build_overhead
import cleanup
import compliance
import publish
import render
import scan
import skipped_build
import startup
import validate_many

for module in (
    startup,
    render,
    validate_many,
    build_overhead,
    skipped_build,
    publish,
    cleanup,
    scan,
    compliance,
):
    print(f"\n== {module.__name__}: {(module.__doc__ or '').strip().splitlines()[0]}")
    for key, value in module.main():
        print(f"  {key:44} {value}")

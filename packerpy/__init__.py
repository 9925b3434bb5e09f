"""packerpy: a typed, versioned release process around HashiCorp Packer AMI bakes."""

from __future__ import annotations

from functools import cache


@cache
def _version() -> str:
    # importlib.metadata costs about 40 ms of every start-up; only --version and the run
    # records need the version, so it is read on first use (issue 11 point 10).
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 - see above

    try:
        # pyproject.toml holds the one version; an installed (or editable) packerpy reports it.
        return version("packerpy")
    except PackageNotFoundError:  # a source checkout on sys.path that was never installed
        return "0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

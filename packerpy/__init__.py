"""packerpy: a typed, versioned release process around HashiCorp Packer AMI bakes."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    # pyproject.toml holds the one version; an installed (or editable) packerpy reports it.
    __version__ = version("packerpy")
except PackageNotFoundError:  # a source checkout on sys.path that was never installed
    __version__ = "0+unknown"

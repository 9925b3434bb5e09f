"""packerpy: a typed, versioned release process around HashiCorp Packer AMI bakes."""

from __future__ import annotations

__version__ = "0.1.0"

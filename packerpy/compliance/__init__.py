"""OpenSCAP compliance: scan in the bake, offline root scan, score gate."""

"""Post-processing steps: each one a small plugin run in the order the config lists."""

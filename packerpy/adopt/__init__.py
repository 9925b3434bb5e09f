"""Adopting hand-written packer templates: read a template directory, never change it."""

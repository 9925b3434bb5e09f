"""Channels: promote, rollback, revoke and the SSM parameters consumers resolve."""

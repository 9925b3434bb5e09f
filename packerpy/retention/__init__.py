"""cleanup: retention policy, in-use protection, cost of what is removed."""

"""Frozen copies of earlier implementations, used by the tests as oracles (never by the package)."""

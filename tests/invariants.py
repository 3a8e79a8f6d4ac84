"""The invariant checker now lives in the package (storage/invariants.py), so `restore` can run it; this
name stays only while README.md cites it (the owner updates the README), then goes."""

from storage.invariants import check_database, check_invariants

__all__ = ["check_database", "check_invariants"]

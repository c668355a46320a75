"""Test doubles shared by tests/ and benchmarks/ (not part of the installed package)."""

"""Scan history: every scan's metadata, coverage, findings and snapshot in one SQLite file."""

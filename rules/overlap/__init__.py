"""Overlap rules."""

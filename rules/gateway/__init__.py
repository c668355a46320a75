"""Gateway rules."""

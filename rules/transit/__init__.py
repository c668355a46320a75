"""transit rules."""

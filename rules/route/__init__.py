"""route rules."""

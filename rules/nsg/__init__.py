"""nsg rules."""

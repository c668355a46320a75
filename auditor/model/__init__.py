"""The model: the snapshot contract, ARM ids, and the one lookup index over a snapshot."""

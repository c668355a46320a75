"""Input: offline exports (shape detection, normalisation, import) and live collectors, into one snapshot."""

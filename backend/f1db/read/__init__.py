"""The read side: what the stages stored, read back (docs/FEATURES.md)."""

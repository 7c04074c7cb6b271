"""The hardware simulator: run a whole counter hall with no hardware (see docs/TESTING.md)."""

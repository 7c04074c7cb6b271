"""Giliran display."""

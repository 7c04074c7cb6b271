"""Giliran counter."""

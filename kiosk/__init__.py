"""Giliran kiosk."""

"""Giliran: queue management for public service counters, on Raspberry Pi nodes over MQTT."""

__version__ = "0.1.0"

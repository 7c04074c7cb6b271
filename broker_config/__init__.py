"""Mosquitto configuration templates; rendered by ``giliran broker init`` (giliran.broker)."""

from importlib.resources import files
from importlib.resources.abc import Traversable


def template(name: str) -> str:
    """The text of a template shipped in this folder, e.g. 'mosquitto.conf.template'."""
    resource: Traversable = files(__name__) / name
    return resource.read_text(encoding="utf-8")

"""Plume: a local writing assistant for a commune's administration."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("plume")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

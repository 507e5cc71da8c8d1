"""Muster: source-cited facts about the January 2025 U.S. troop deployment to the border."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("muster")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

"""The clients tests call a real `muster serve`, as the API tests' fixtures start it."""

from tests.api.conftest import installed, served, served_database

__all__ = ["installed", "served", "served_database"]

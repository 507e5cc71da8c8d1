"""Data models: the public value types in ``common`` and the database tables in ``tables``."""

"""Alembic migrations, shipped inside the package so ``muster db upgrade`` works when installed."""

HEAD = "0022"
"""The newest revision in versions/, which ``muster serve`` requires of a database. A new migration
updates it; tests/test_migrations.py fails until it does."""

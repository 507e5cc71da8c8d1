"""Alembic migrations, shipped inside the package so ``muster db upgrade`` works when installed."""

#!/bin/sh
# Migrate the database at MUSTER_DATABASE_URL and load the seed data bundled with Muster.
# The image runs it at build time to bake its SQLite database; with a PostgreSQL URL it is the
# one-shot step before the servers start (compose.yaml). tests/test_deploy.py runs it too.
set -eu
: "${MUSTER_DATABASE_URL:?MUSTER_DATABASE_URL must name the database to prepare}"
muster db upgrade
muster load "$(python -c 'from app.cli import SEED_DATA; print(SEED_DATA)')"

#!/bin/sh
# Install Muster's wheel from the folder $1 with the PostgreSQL driver, so that one image serves
# both ways to scale: its own SQLite database, or a shared PostgreSQL.
# The image runs it; so does tests/test_deploy.py, into a fresh virtual environment.
set -eu
set -- "$1"/muster-*.whl
python -m pip install "$1[postgres]"

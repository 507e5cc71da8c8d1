#!/bin/sh
# Build Muster's wheel from the source tree in the current folder into the folder $1.
# The image's build stage runs it; so does tests/test_deploy.py.
set -eu
python -m pip wheel --no-deps --wheel-dir "$1" .

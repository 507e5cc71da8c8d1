# syntax=docker/dockerfile:1
# Muster's production image: the API with its SQLite database baked in, so that a container serves
# at once, needs no volume (a read-only root file system is fine), and scales by adding replicas.
# To share one PostgreSQL instead, set MUSTER_DATABASE_URL (compose.yaml shows how).
#
# No container engine runs in CI, so tests/test_deploy.py does what this file does, with the same
# commands: from the same build context (.dockerignore) it runs the docker/ scripts, then this
# file's CMD with its ENV, and its HEALTHCHECK. Keep every step that matters in docker/.

ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY . .
RUN sh docker/build-wheel.sh /dist

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
COPY docker/ /opt/muster/
RUN --mount=type=bind,from=build,source=/dist,target=/dist sh /opt/muster/install-wheel.sh /dist

# Baked now, owned by root and read-only for everyone: the server only reads it (it opens SQLite
# with mode=ro), and in SQLite's default DELETE journal mode a reader needs no writable folder.
ENV MUSTER_DATABASE_URL=sqlite:////var/lib/muster/muster.db
RUN mkdir /var/lib/muster \
    && sh /opt/muster/prepare-database.sh \
    && chmod -R a-w /var/lib/muster

RUN groupadd --gid 10001 muster \
    && useradd --uid 10001 --gid muster --no-create-home --shell /usr/sbin/nologin muster
# Numeric, so that a platform can check that the user is not root without reading /etc/passwd.
USER 10001:10001

ENV MUSTER_HOST=0.0.0.0 \
    MUSTER_PORT=8000 \
    MUSTER_WORKERS=2
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/opt/muster/healthcheck.py"]
CMD ["muster", "serve"]

# syntax=docker/dockerfile:1
# Build the wheel in one stage, run it from a slim one with the database baked in.
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

FROM python:3.11.11-slim-bookworm
RUN useradd --create-home --uid 10001 muster
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm /tmp/*.whl
WORKDIR /home/muster
USER muster
ENV MUSTER_DATABASE_URL=sqlite:////home/muster/muster.db \
    MUSTER_HOST=0.0.0.0 \
    MUSTER_PORT=8000 \
    MUSTER_WORKERS=2
# The database is built now, so that a container serves at once and needs no writable volume.
RUN muster db upgrade && muster load "$(python -c 'import app, pathlib; print(pathlib.Path(app.__file__).parent / "seed_data")')"
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"
CMD ["muster", "serve"]

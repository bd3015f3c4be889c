# One image for every PaperLens process: `paperlens api` (default), `paperlens worker`,
# `paperlens scheduler`, `paperlens migrate` ...
#
# BASE_IMAGE: any Debian-based image with Python 3.11+ and its venv module; the official one by
# default (a registry-less machine uses one made from Debian's packages: scripts/docker-base.sh).
# PIP_CA_BUNDLE: a CA bundle inside the build context for pip to trust (a proxy's authority);
# only the build stage sees it, so it is in no layer of the image.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ARG PIP_CA_BUNDLE=
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements/runtime.lock requirements/excluded.txt ${PIP_CA_BUNDLE} ./requirements/
COPY scripts/check_install.py ./scripts/
# As `make install`: exactly the lock, hash-checked, wheels only; the check names anything missing.
# Modules are compiled here (unlike `make install`): the image's virtualenv is read-only to the
# processes, which would otherwise compile every module they import at each start.
RUN if [ -n "$PIP_CA_BUNDLE" ]; then export PIP_CERT="/src/requirements/$(basename "$PIP_CA_BUNDLE")"; fi \
 && python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --quiet --no-deps --only-binary :all: --require-hashes \
      -r requirements/runtime.lock \
 && /opt/venv/bin/python scripts/check_install.py
COPY pyproject.toml README.md ./
COPY paperlens ./paperlens
COPY server ./server
COPY worker ./worker
COPY cli ./cli
RUN if [ -n "$PIP_CA_BUNDLE" ]; then export PIP_CERT="/src/requirements/$(basename "$PIP_CA_BUNDLE")"; fi \
 && /opt/venv/bin/pip install --quiet --no-deps . \
 && /opt/venv/bin/python scripts/check_install.py

FROM ${BASE_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PAPERLENS_DATA_DIR=/data \
    PAPERLENS_HOST=0.0.0.0 \
    PAPERLENS_DEMO_CORPUS=/app/data/demo/papers.jsonl
COPY --from=build /opt/venv /opt/venv
COPY data/demo /app/data/demo
# A home of its own: gunicorn keeps its control socket there.
RUN useradd --system --uid 10001 --create-home --home-dir /home/paperlens paperlens \
 && mkdir -p /data && chown paperlens /data
WORKDIR /app
USER paperlens
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import os,urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PAPERLENS_PORT', '8000')).status != 200)" || exit 1
ENTRYPOINT ["paperlens"]
CMD ["api"]

# One image for every PaperLens process: `paperlens api` (default) or `paperlens worker`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PAPERLENS_DATA_DIR=/data \
    PAPERLENS_HOST=0.0.0.0 \
    PAPERLENS_DEMO_CORPUS=/app/data/demo/papers.jsonl

WORKDIR /app
COPY requirements/runtime.lock requirements/excluded.txt ./requirements/
COPY scripts/check_install.py ./scripts/
# As `make install`: exactly the lock, wheels only; the check names anything it lacks.
RUN pip install --no-deps --only-binary :all: --require-hashes -r requirements/runtime.lock \
 && python scripts/check_install.py
COPY pyproject.toml README.md ./
COPY paperlens ./paperlens
COPY server ./server
COPY worker ./worker
COPY cli ./cli
COPY data/demo ./data/demo
RUN pip install --no-deps . \
 && useradd --system --uid 10001 --home-dir /app paperlens \
 && mkdir -p /data && chown paperlens /data

USER paperlens
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)" || exit 1
ENTRYPOINT ["paperlens"]
CMD ["api"]

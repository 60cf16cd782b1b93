# Neural Playground: one uvicorn worker per container (sessions live in memory; scale out with
# more containers behind a load balancer with session affinity).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv/playground

COPY pyproject.toml README.md ./
COPY app ./app
COPY engine ./engine
COPY templates ./templates
COPY static ./static
COPY presets ./presets
COPY data ./data
RUN pip install . && useradd --create-home --uid 10001 playground
USER playground

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "1"]

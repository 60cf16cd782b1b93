# Neural Playground: one uvicorn worker per container, one core each. Sessions live in memory;
# to serve a lecture hall run several behind nginx, each with its own NP_WORKER_NAME, as
# compose.yaml does (README, "Serving a lecture hall").
FROM python:3.11-slim

# One BLAS thread: the engine's matrices are small, and more threads per worker slow it when
# every core is busy. FORWARDED_ALLOW_IPS: whose X-Forwarded-For uvicorn believes (compose
# sets it to the proxy's network; alone, nobody's).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 FORWARDED_ALLOW_IPS=127.0.0.1
WORKDIR /srv/playground

COPY pyproject.toml README.md ./
COPY app ./app
COPY engine ./engine
COPY templates ./templates
COPY static ./static
COPY presets ./presets
COPY data ./data
# /srv/links: where compose mounts the volume of short links every worker shares (owned by the
# worker user so a new named volume starts writable). The MLP's compiled loop is compiled here,
# once, into numba's cache beside engine/fused.py, so a container starts with it ready.
RUN pip install . && python -c "from engine import fused; fused.warm()" && \
    useradd --create-home --uid 10001 playground && \
    mkdir -p /srv/links && chown playground /srv/links
USER playground

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "1", "--proxy-headers", "--no-access-log", \
     "--ws-per-message-deflate", "false"]

"""Neural Playground's web layer: FastAPI routes, sessions and streaming over the engine."""

import os

# One BLAS thread per thread that computes. The server runs a few work threads and a request's
# own; a multi-threaded BLAS beside them spins for cores the others hold, and on a busy
# 2-core machine an 8×32 frame took 1–2 s instead of 0.15 s. Set before NumPy is imported; an
# explicit setting in the environment wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

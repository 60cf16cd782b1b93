"""Neural Playground's web layer: FastAPI routes, sessions and streaming over the engine."""

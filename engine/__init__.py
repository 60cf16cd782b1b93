"""Neural Playground's engine: pure NumPy models, losses, optimizers and datasets.

Nothing here imports the web layer; every module is usable from a notebook.
"""

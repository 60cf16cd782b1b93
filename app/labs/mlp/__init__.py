"""The MLP playground lab: its API shapes and session runner (session.py);
its routes and page in router.py."""

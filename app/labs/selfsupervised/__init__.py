"""The self-supervised lab: API shapes and the session runner (session.py), frame encoding
(frames.py), background probe tables and sweeps (jobs.py); its routes and page in router.py."""

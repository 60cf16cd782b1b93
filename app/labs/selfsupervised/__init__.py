"""The self-supervised lab: its API shapes and session runner (session.py), background probe
tables and sweeps (jobs.py); its routes and page in router.py."""

"""The ConvNet lab: its architecture text (layers.py), API shapes and session runner
(session.py), what it sends (views.py); its routes and page in router.py."""

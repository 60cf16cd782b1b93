"""The convolution lab: its API shapes and step-by-step runner (session.py), the stateless
answers (answers.py), its routes and page in router.py."""

"""The ``paperlens`` command and the process supervisor of ``paperlens run``.

This room sits above the others: it starts the API (``server``) and the RQ workers
(``worker``) and calls into both, while the core (``paperlens``), the API and the workers
never import it. Keeping the command line here is what lets the core stay free of the
worker and the API free of both (the contracts in pyproject's ``[tool.importlinter]``).
"""

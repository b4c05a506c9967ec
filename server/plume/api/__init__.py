"""HTTP controllers, one module per capability.

Each module exposes `ROUTES` (route handlers) and may expose `LIFESPAN`, an async context manager
factory `lifespan(app)` for work that runs beside the server (the audit purge). Services are not built
here: plume.services builds them once and handlers receive them by dependency injection. Controllers
hold no business logic: a task route hands its request to the task runner (api/task_support.py).
"""

CAPABILITIES = ("health", "templates", "extract", "inference", "audio", "text", "drafting", "mail", "admin", "addin",
                "capabilities", "usage", "review", "docs", "search")

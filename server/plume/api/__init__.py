"""HTTP controllers, one module per capability.

Each module exposes `ROUTES` (route handlers) and may expose `LIFESPAN`, an async context manager
factory `lifespan(app)` that starts the capability's service and stores it on `app.state`.
Controllers hold no business logic: they translate HTTP to calls into tasks, documents or inference.
"""

CAPABILITIES = ("health", "templates", "extract", "inference", "audio", "text", "drafting", "mail", "admin", "addin",
                "capabilities", "usage", "review", "docs")

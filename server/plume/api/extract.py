"""Routes for this capability land with their issue."""

ROUTES: list = []

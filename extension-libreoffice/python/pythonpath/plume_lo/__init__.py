"""Plume for LibreOffice Writer: actions (UI-independent), HTTP client, sidebar, options, menus."""

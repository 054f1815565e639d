"""The web dashboard (Jinja2 + htmx): later issues."""

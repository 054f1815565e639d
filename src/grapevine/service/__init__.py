"""The HTTP service: ``create_app(settings)`` builds the FastAPI application.

Nothing is created at import time. The referral redirect, the API per
resource and the dashboard routes arrive with their issues; the foundation
serves health and the store summary.
"""

from grapevine.service._edge import server_options
from grapevine.service.app import create_app

__all__ = ["create_app", "server_options"]

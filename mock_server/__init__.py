"""A faithful fake of Google's Gemini image-generation API."""

from mock_server.app import create_app
from mock_server.settings import Settings

__all__ = ["Settings", "create_app"]

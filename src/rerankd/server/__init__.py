"""The HTTP service: ``create_app(settings, backend)``."""

from rerankd.server.app import create_app

__all__ = ["create_app"]

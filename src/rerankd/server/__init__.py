"""The HTTP service: ``create_app(settings, backend)``, served by ``serve_http``."""

from rerankd.server.app import create_app
from rerankd.server.http import serve_http

__all__ = ["create_app", "serve_http"]

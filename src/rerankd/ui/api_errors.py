"""Gradio answers a call to the page's API that names no endpoint it has, or arguments the
endpoint does not take, with a plain-text 500 (a KeyError or TypeError in its route).
Such a call is the caller's mistake: it gets a 422 that says what to check."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rerankd.server.errors import error_response

logger = logging.getLogger("rerankd.ui")
# Where Gradio takes API calls whose endpoint and arguments come from the caller.
CALL_ROUTES = ("/gradio_api/call/", "/gradio_api/run/", "/call/", "/run/")


class GradioCallErrors:
    def __init__(self, app: ASGIApp, ui_path: str) -> None:
        self.app = app
        self.prefixes = tuple(ui_path + route for route in CALL_ROUTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST"
                or not scope["path"].startswith(self.prefixes)):
            await self.app(scope, receive, send)
            return
        started = failed = False

        async def send_unless_failed(message: Message) -> None:
            nonlocal started, failed
            if message["type"] == "http.response.start":
                if message["status"] >= 500:
                    failed = True
                    return
                started = True
            if not failed:
                await send(message)

        try:
            await self.app(scope, receive, send_unless_failed)
        except Exception as error:
            if started:
                raise
            failed = True
            logger.warning("the UI's API refused a call to %s: %s: %s", scope["path"],
                           type(error).__name__, str(error)[:200])
        if failed and not started:
            response = error_response(
                scope["path"], 422, "the UI's API cannot run this call: check the endpoint "
                "name and its arguments (GET <ui>/gradio_api/info lists them)",
                "invalid_request",
            )
            await response(scope, receive, send)

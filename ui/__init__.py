"""ui: the Gradio web interface of ragqa (``ragqa serve``).

``build_app(pipeline)`` returns the page as a ``gr.Blocks``; ``launch(pipeline,
host, port, auth)`` serves it. Modules: ``app`` (layout, launch and mount), ``handlers``
(event handlers), ``browser`` (document catalogue), ``render`` (HTML / Markdown /
JSON rendering), ``text`` (escaping), ``errors`` (exception -> Chinese message),
``settings`` (shared constants), ``options`` (checks of request values), ``documents``
(the document-management tab), ``api`` (the JSON API ``/api/ask``, ``/api/check``,
``/api/page``, ``/api/health`` and the start-up page, FastAPI without gradio) and
``server`` (``ragqa serve``: the API at once, the page mounted once the index is
loaded).
Gradio is imported only when ``build_app``, ``launch`` or ``ui.app`` is first used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_app", "launch"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ui import app

        return getattr(app, name)
    raise AttributeError(f"module 'ui' has no attribute {name!r}")

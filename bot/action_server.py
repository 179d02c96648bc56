"""The action server's entry point: `python -m bot.action_server --actions actions --port N` is
`python -m rasa_sdk --actions actions --port N` (the same arguments) with the start-up finished
before the first question instead of during it: the search index is built and watched, and the
heap is then settled out of the garbage collector's sight (bot/heap.py).

Only the Rasa server calls it, server to server. Without `--cors` rasa_sdk still installs CORS
handling that allows no origin, so every request and response went through CORS middleware for
nothing (a fifth of a call's cost at the action server); it is left out then, and `--cors ORIGIN`
installs it as rasa_sdk does."""
from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Build the search index the actions answer from, then settle the heap."""
    from actions.common import search
    from bot.heap import settle

    try:
        search().engine
    except Exception:  # the database may be down: the actions build the index when it is back
        log.exception("could not build the search index at start-up; it is built on the first question")
    settle("starting the action server")


def install_cors_only_when_asked() -> None:
    """rasa_sdk's configure_cors, skipped when no origin is allowed (no `--cors`)."""
    import rasa_sdk.endpoint

    configure = getattr(rasa_sdk.endpoint.configure_cors, "__wrapped__", rasa_sdk.endpoint.configure_cors)

    def configure_cors(app: Any, cors_origins: Any = "") -> None:
        if cors_origins:
            configure(app, cors_origins)

    configure_cors.__wrapped__ = configure  # type: ignore[attr-defined]
    rasa_sdk.endpoint.configure_cors = configure_cors


def main() -> None:
    import rasa_sdk.__main__
    import rasa_sdk.endpoint

    install_cors_only_when_asked()
    original = rasa_sdk.endpoint.create_app

    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)  # imports the actions package
        warm_up()
        return app

    rasa_sdk.endpoint.create_app = create_app
    rasa_sdk.__main__.main()


if __name__ == "__main__":
    main()

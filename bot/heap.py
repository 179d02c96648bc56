"""Keeping Python's cyclic garbage collector off the long-lived heap of a server.

A loaded Rasa model (TensorFlow, Keras, the graph's components) is about 750,000 objects that
live as long as the process. CPython's oldest-generation collection walks every one of them: in the Rasa server each took 200-650 ms, a pause for every conversation
in flight, and it came every few hundred turns (measured with gc.callbacks under `make bench`).
`settle()` collects once and then freezes what is alive (`gc.freeze()`, Python 3.7+), so later
collections walk only the objects made after it. Frozen objects are still freed by reference
counting when nothing holds them; only a reference cycle among them would be kept, which is why
settling is done once what it freezes is meant to stay (a loaded model, a built index). A model
swapped in later through Rasa's HTTP API (`PUT /model`, which onewindow does not use: it restarts
the server) is not settled, and the replaced one's cycles would be kept.
"""
from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def settle(what: str) -> int:
    """Collect garbage, then freeze every object alive now; the number of objects frozen in all."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("heap settled after %s: %d objects frozen, %.0f ms", what, frozen, (time.perf_counter() - started) * 1000)
    return frozen

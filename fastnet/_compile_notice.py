"""Say once, as it starts, that fastnet is compiling its kernels for this machine.

A cold first fit (an empty Numba cache: a new machine, a new fastnet version)
spends seconds compiling before its first epoch.  Without a word that looks
like a hang, so the first compilation of a fastnet kernel in a process logs
one line on the ``fastnet.compile`` logger, as it begins::

    fastnet: compiling kernels for this machine (first use; cached in ...)

It is a WARNING record so that it shows without any logging setup (Python's
last-resort handler prints it on stderr); silence it with
``logging.getLogger("fastnet.compile").setLevel(logging.ERROR)``.  Kernels
loaded from Numba's on-disk cache compile nothing and log nothing.

The hook is a listener on Numba's ``numba:compile`` event, which Numba
triggers only when it compiles (not when it loads from the cache).  After the
notice it stays registered but returns at once: unregistering from inside
Numba's broadcast loop would make the next listener miss the event.
"""

import logging
import threading

from numba.core import event

__all__ = ["LOGGER_NAME", "install"]

LOGGER_NAME = "fastnet.compile"
_logger = logging.getLogger(LOGGER_NAME)
_KERNELS_PACKAGE = __name__.rsplit(".", 1)[0] + ".kernels"


def _cache_phrase(dispatcher):
    """Where the compiled kernels will be kept, in words."""
    path = getattr(getattr(dispatcher, "_cache", None), "cache_path", None)
    if path:
        return f"first use; cached in {path}"
    return "not cached on disk: every new process compiles again"


class _Notice(event.Listener):
    """Logs the notice at the start of the first compilation of a fastnet kernel."""

    def __init__(self):
        self._lock = threading.Lock()
        self._done = False

    def on_start(self, ev):
        if self._done:
            return
        data = ev.data if isinstance(ev.data, dict) else {}
        dispatcher = data.get("dispatcher")
        module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
        if not module.startswith(_KERNELS_PACKAGE):
            return  # Numba's own helpers, or another library's functions
        with self._lock:
            if self._done:
                return
            self._done = True
        _logger.warning("fastnet: compiling kernels for this machine (%s) ...",
                        _cache_phrase(dispatcher))

    def on_end(self, ev):
        pass


_installed = None


def install():
    """Register the notice (idempotent; once per process)."""
    global _installed
    if _installed is None:
        _installed = _Notice()
        event.register("numba:compile", _installed)

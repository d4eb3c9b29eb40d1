"""One place for the Numba compile options of every fastnet kernel.

Kernels are compiled with ``cache=True`` so that a fresh process reuses the
machine code of an earlier one.  Caching needs a writable directory: Numba
uses ``__pycache__`` beside the source, then ``NUMBA_CACHE_DIR``, then a user
cache dir; when none of them works it raises ``RuntimeError("... no locator
available ...")`` at decoration time, which would make ``import fastnet``
fail on a read-only install.  :func:`jit` catches that and compiles without a
cache instead.  ``FASTNET_DISABLE_CACHE=1`` turns caching off on purpose.

A cached kernel is validated against :data:`KERNELS_STAMP`, a stamp of the
whole kernels package, not just its own file: otherwise editing a callee
(``activations.py``) would leave its callers (``run_epochs``) loading stale
machine code.
"""

import glob
import os

from numba import njit, types
from numba.extending import overload, register_jitable

__all__ = ["jit", "elementwise", "like", "bind", "CACHE_ENABLED", "KERNELS_STAMP"]

CACHE_ENABLED = os.environ.get("FASTNET_DISABLE_CACHE", "").strip().lower() not in {
    "1",
    "true",
    "yes",
    "on",
}

def _kernels_stamp():
    """``(newest mtime, total size, file count)`` of every kernel source file, or None.

    Numba validates a cached kernel against the stamp of *its own* source file
    only: after an edit to a callee in another file (say ``activations.py``),
    ``run_epochs`` would keep loading machine code with the old callee inlined.
    Giving every cached kernel this package-wide stamp makes any edit to any
    kernel file recompile them all.  None (Numba's own stamps stay) when the
    sources can't be listed, e.g. in a zipped package.
    """
    try:
        stats = [os.stat(path) for path in
                 glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "*.py"))]
    except OSError:
        return None
    if not stats:
        return None
    return (max(st.st_mtime for st in stats), sum(st.st_size for st in stats), len(stats))


KERNELS_STAMP = _kernels_stamp()

# Serial kernels: `prange` over batch rows measured 3-4x slower at 2 cores;
# the matrix products get their threads from BLAS instead.  No fastmath: it
# would reorder sums and break bit-level fidelity with scikit-learn.
_OPTIONS = {"nogil": True, "error_model": "numpy"}


def jit(func=None, *, inline=False):
    """Compile ``func`` in nopython mode with fastnet's options.

    Usable as ``@jit`` or ``@jit(inline=True)``.

    Parameters
    ----------
    func : callable
        A Python function written in Numba's supported subset.
    inline : bool, default=False
        Inline the function's Numba IR into its callers (``inline="always"``)
        instead of compiling it as a separate unit.  For small helpers and
        thin wrappers: Numba compiles every called kernel on its own and then
        optimizes it again inside each caller, so every separate unit on the
        path to ``run_epochs`` adds to the cold compile.  Called from Python,
        an inlined kernel still compiles on its own.

    Returns
    -------
    dispatcher : numba.core.registry.CPUDispatcher
        The lazily compiled function (cached on disk when possible).
    """
    if func is None:
        return lambda f: jit(f, inline=inline)
    options = dict(_OPTIONS, inline="always" if inline else "never")
    if CACHE_ENABLED:
        try:
            dispatcher = njit(cache=True, **options)(func)
        except RuntimeError as exc:  # "cannot cache function ...: no locator available"
            if "no locator available" not in str(exc):
                raise
        else:
            # Some locators (e.g. for a zipped package) are chosen without checking
            # that their directory can be created; find out now, not at first compile.
            try:
                dispatcher._cache._impl.locator.ensure_cache_path()
            except (OSError, AttributeError):
                pass
            else:
                _use_package_stamp(dispatcher)
                return dispatcher
    return njit(cache=False, **options)(func)


def elementwise(func):
    """Register a plain Python scalar function for every Numba target, inlined.

    ``func`` stays an ordinary Python function (callable on NumPy scalars, as the
    tests do); inside a compiled caller -- an ``@njit`` kernel here, a CUDA
    kernel in the CUDA twin -- Numba compiles it for that target and inlines its
    IR (``inline="always"``: no separate compiled unit, see :func:`jit`).

    Parameters
    ----------
    func : callable
        A function of scalars in Numba's supported subset.

    Returns
    -------
    func : callable
        The same function object.
    """
    return register_jitable(inline="always")(func)


def bind(dispatcher, args):
    """``dispatcher(*args)``'s compiled function, to call again without re-typing.

    A Numba dispatcher types every argument on every call, and a named tuple
    (the kernels' argument groups) is typed field by field in Python: ~0.7 us a
    group, more than a one-row predict computes.  A caller whose argument
    types never change (a network's predict: the same dtype, layout and groups
    every call) binds once and calls the compiled entry point directly.

    Parameters
    ----------
    dispatcher : numba.core.registry.CPUDispatcher
    args : tuple
        Arguments of the types every later call will have; the kernel runs on
        them once (compiling or loading it from the cache if needed).

    Returns
    -------
    entry : callable
        Takes arguments of exactly those types (not checked: a wrong type is
        undefined behaviour, so only private callers that fix the types bind).
    """
    dispatcher(*args)
    types = tuple(dispatcher.typeof_pyval(a) for a in args)
    return dispatcher.overloads[types].entry_point


def _use_package_stamp(dispatcher):
    """Validate ``dispatcher``'s on-disk cache against :data:`KERNELS_STAMP`."""
    cache_file = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    if KERNELS_STAMP is not None and hasattr(cache_file, "_source_stamp"):
        cache_file._source_stamp = KERNELS_STAMP


def like(array, value):
    """Cast ``value`` to ``array``'s element type (usable inside kernels only).

    Numba promotes ``float32 op float64-literal`` to float64; writing
    ``like(Z, 1.0)`` keeps float32 work in float32.

    Parameters
    ----------
    array : ndarray or float
        An array (its dtype decides the result type) or a scalar (its type does).
    value : int or float
        The constant to cast.

    Returns
    -------
    scalar of ``array.dtype``
    """
    return array.dtype.type(value)


@overload(like)
def _like_impl(array, value):
    element_type = array.dtype if isinstance(array, types.Array) else array

    def impl(array, value):
        return element_type(value)

    return impl

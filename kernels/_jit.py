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

Every kernel is a :class:`Kernel`: called from Python, a Numba dispatcher;
called from another kernel, a *subroutine* compiled into that kernel's LLVM
module (see "subroutines" below), which is what keeps a cold first fit short.
"""

import glob
import os
import weakref
from collections import namedtuple

from numba import types
from numba.core import compiler, entrypoints, funcdesc
from numba.core.caching import FunctionCache, NullCache
from numba.core.compiler_machinery import LoweringPass, PassManager, register_pass
from numba.core.imputils import lower_builtin
from numba.core.lowering import Lower
from numba.core.registry import CPUDispatcher
from numba.core.runtime import rtsys
from numba.core.typed_passes import IRLegalization, NoPythonSupportedFeatureValidation
from numba.core.typing.templates import AbstractTemplate, infer_global, signature
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
    """Compile ``func`` in nopython mode with fastnet's options, as a :class:`Kernel`.

    Usable as ``@jit`` or ``@jit(inline=True)``.  Called from Python the result
    is a Numba dispatcher (cached on disk when possible); called from another
    kernel it compiles as a subroutine of that kernel (see :class:`Kernel`).

    Parameters
    ----------
    func : callable
        A Python function written in Numba's supported subset.
    inline : bool, default=False
        Ask LLVM to always inline it into its callers (``forceinline``): for
        small helpers on the hot path (array views, index arithmetic, one
        random draw).  LLVM inlines small subroutines anyway; this makes it
        certain.  Numba's own IR-level inlining (``inline="always"``) is not
        used: it re-runs Numba's front end at every call site and cost more
        compile time than it saved (issue 15).

    Returns
    -------
    kernel : Kernel
        The lazily compiled function.
    """
    if func is None:
        return lambda f: jit(f, inline=inline)
    return _kernel(func, dict(_OPTIONS, forceinline=bool(inline)))


class _KernelCache(FunctionCache):
    """Numba's on-disk function cache, loading without refreshing the target context first.

    Numba's ``load_overload`` first calls ``target_context.refresh()``, which
    imports and installs every typing and lowering registry Numba has (~90
    modules): 0.37-0.49 s of a 0.42-0.46 s warm first fit in a fresh process
    (cProfile, issue 15), for machine code that needs none of them -- loading
    is unpickling the object code and linking it.  What the loaded code does
    need is Numba's runtime (NRT: the kernels allocate), which that refresh is
    also where Numba initializes it; so that part alone is done here.  The
    first *compilation* in the process still refreshes the context, as Numba
    does.

    Numba also runs every installed package's ``numba_extensions`` entry point
    before a dispatcher looks at its cache (``_compilation_chain_init_hook``):
    an extension may add types the compiler needs.  Machine code loaded from
    the cache needs none, and a package that registers one pays its whole
    import there (pydata ``sparse``, which the test extras install; warm first fit
    of tiny 235-305 -> 129-180 ms CPU, ``python -m bench.anatomy firstfit tiny``
    on the previous and this code, 2-vCPU AMD EPYC).  :class:`Kernel` leaves
    that hook to this cache, which runs it on a miss, just before the
    compilation it exists for.
    """

    def load_overload(self, sig, target_context):
        rtsys.initialize(target_context)
        with self._guard_against_spurious_io_errors():
            loaded = self._load_overload(sig, target_context)
            if loaded is not None:
                return loaded
        # A miss, or an I/O error the `with` block swallowed: compile instead.
        entrypoints.init_all()
        return None


def _kernel(func, options):
    """A :class:`Kernel` of ``func`` (cached on disk when possible, as :func:`jit`)."""
    kernel = Kernel(py_func=func, targetoptions=dict(options, nopython=True))
    if CACHE_ENABLED:
        try:
            kernel._cache = _KernelCache(func)
            kernel._cache._impl.locator.ensure_cache_path()
        except RuntimeError as exc:  # "cannot cache function ...: no locator available"
            if "no locator available" not in str(exc):
                raise
            kernel._cache = NullCache()
        except (OSError, AttributeError):
            # Some locators (e.g. for a zipped package) are chosen without checking
            # that their directory can be created; find out now, not at first compile.
            kernel._cache = NullCache()
        else:
            _use_package_stamp(kernel)
    return kernel


def elementwise(func):
    """Register a plain Python scalar function for every Numba target.

    ``func`` stays an ordinary Python function (callable on NumPy scalars, as the
    tests do); inside a compiled caller -- a kernel here, a CUDA kernel in the
    CUDA twin -- Numba compiles it for that target once per signature, as an
    ordinary call that LLVM inlines.  Not Numba's IR-level inlining
    (``inline="always"``): typing each call site's copy again made it the
    slowest part of a cold fit (issue 15: -3 s of 12.7 s without it).  The
    default options of ``register_jitable`` only, so that every target accepts
    them.

    Parameters
    ----------
    func : callable
        A function of scalars in Numba's supported subset.

    Returns
    -------
    func : callable
        The same function object.
    """
    return register_jitable(func)


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


# On the CPU, ``like`` is a cast emitted in its caller.  The ``@overload`` above (for the
# other targets: CUDA) compiles a dispatcher of its own for each signature (0.12-0.20 s of a
# cold tiny fit on the 2-vCPU AMD EPYC, ``python -m bench.anatomy firstfit tiny`` with the
# overload alone); Numba tries the CPU-only template first.
class _LikeTemplate(AbstractTemplate):
    key = like
    metadata = {"target": "cpu"}

    def generic(self, args, kws):
        if kws or len(args) != 2:
            return None
        array, value = args
        element_type = array.dtype if isinstance(array, types.Array) else types.unliteral(array)
        source = types.unliteral(value)
        if isinstance(element_type, types.Number) and isinstance(source, types.Number):
            return signature(element_type, array, source)
        return None


infer_global(like, types.Function(_LikeTemplate))


@lower_builtin(like, types.Any, types.Number)
def _lower_like(context, builder, sig, args):
    return context.cast(builder, args[1], sig.args[1], sig.return_type)


# --------------------------------------------------------------- subroutines
# A kernel called from another kernel is compiled as a *subroutine*: typed once per
# signature in a process, then lowered straight into the LLVM library of the entry
# point being compiled.  Numba's own way with a call to a dispatcher is a separate
# compiled unit per callee -- CPython and C wrappers, its own LLVM optimization and
# machine code -- after which each caller links it in and optimizes it again, so
# every level of calls paid LLVM once more (issue 15: 3.9 s of an 8 s cold fit was
# LLVM).  A subroutine has no wrappers and no machine code of its own: LLVM
# optimizes and emits the whole call tree once, in the entry point Python called.

_Typed = namedtuple("_Typed", ["func_ir", "typemap", "calltypes", "return_type", "flags",
                               "metadata"])


@register_pass(mutates_CFG=False, analysis_only=True)
class _KeepTyped(LoweringPass):
    """Last pass of :class:`_TypeOnly`: keep the typed IR as the result."""

    _name = "fastnet_keep_typed"

    def __init__(self):
        LoweringPass.__init__(self)

    def run_pass(self, state):
        state.cr = _Typed(state.func_ir, state.typemap, state.calltypes, state.return_type,
                          state.flags, state.metadata)
        return False


class _TypeOnly(compiler.CompilerBase):
    """Numba's nopython pipeline up to lowering, which the caller's library does."""

    def define_pipelines(self):
        builder = compiler.DefaultPassBuilder
        pm = PassManager("fastnet_subroutine")
        for stage in (builder.define_untyped_pipeline(self.state),
                      builder.define_typed_pipeline(self.state)):
            pm.passes.extend(stage.passes)
        pm.add_pass(NoPythonSupportedFeatureValidation, "validate the features used")
        pm.add_pass(IRLegalization, "legalize the IR for lowering")
        pm.add_pass(_KeepTyped, "keep the typed IR")
        pm.finalize()
        return [pm]


class Kernel(CPUDispatcher):
    """A CPU dispatcher whose calls from other kernels compile as subroutines.

    Called from Python it is Numba's dispatcher (``cache=True`` and all).  Named
    inside a compiled kernel it is typed by :class:`_SubroutineTemplate` instead of
    as ``types.Dispatcher``: the kernel is typed once per signature in this process
    and its body lowered into the calling entry point's library.
    """

    def _compilation_chain_init_hook(self):
        # The extensions' entry points run on a cache miss (_KernelCache.load_overload),
        # not before every first call; uncached, before it, as Numba does.
        if not isinstance(getattr(self, "_cache", None), _KernelCache):
            entrypoints.init_all()

    @property
    def _numba_type_(self):
        ty = self.__dict__.get("_subroutine_type")
        if ty is None:
            template = type(f"Subroutine_{self.py_func.__name__}", (_SubroutineTemplate,),
                            {"key": self})
            ty = self.__dict__["_subroutine_type"] = types.Function(template)
            lower_builtin(self, types.VarArg(types.Any))(_lowering(self))
        return ty

    def subroutine(self, args):
        """The typed IR of this kernel for the argument types ``args`` (typed once).

        Parameters
        ----------
        args : tuple of numba types

        Returns
        -------
        typed : _Typed
        """
        cache = self.__dict__.setdefault("_subroutines", {})
        typed = cache.get(args)
        if typed is None:
            flags = compiler.Flags()
            self.targetdescr.options.parse_as_flags(flags, self.targetoptions)
            flags.no_cpython_wrapper = True
            flags.no_cfunc_wrapper = True
            flags.no_compile = True
            typed = cache[args] = compiler.compile_extra(
                self.targetdescr.typing_context, self.targetdescr.target_context,
                self.py_func, args=args, return_type=None, flags=flags, locals=self.locals,
                pipeline_class=_TypeOnly)
        return typed

    @property
    def subroutine_signatures(self):
        """``{arg types: return type}`` of every call typed as a subroutine so far."""
        return {args: typed.return_type
                for args, typed in self.__dict__.get("_subroutines", {}).items()}


class _SubroutineTemplate(AbstractTemplate):
    """Types a call of a :class:`Kernel` (``key``) by typing the kernel's body."""

    key = None

    def generic(self, args, kws):
        kernel = self.key
        # Keywords and defaults become positions (Omitted types), as a dispatcher does.
        pysig, args = kernel._compiler.fold_argument_types(args, kws)
        args = tuple(args)
        return signature(kernel.subroutine(args).return_type, *args).replace(pysig=pysig)


# The subroutines lowered into each LLVM module: module -> {(kernel, arg types): fndesc}.
_LOWERED = weakref.WeakKeyDictionary()


class _SubroutineLower(Lower):
    """Lowers a subroutine into the module of the function that calls it.

    The function gets internal linkage: LLVM inlines it where that pays and drops
    it, and it is optimized and compiled to machine code only as part of the
    caller, once.
    """

    def __init__(self, context, library, fndesc, func_ir, module, metadata=None):
        super().__init__(context, library, fndesc, func_ir, metadata=metadata)
        self.module = module

    def lower(self):
        self.emit_environment_object()
        self.lower_normal_function(self.fndesc)
        self.function.linkage = "internal"
        # No library.add_ir_module: the caller adds the module once it is complete.


def _lowering(kernel):
    """The lowering of a call of ``kernel`` (registered for any argument types)."""

    def lower_call(context, builder, sig, args):
        module = builder.module
        lowered = _LOWERED.setdefault(module, {})
        fndesc = lowered.get((kernel, sig.args))
        if fndesc is None:
            typed = kernel.subroutine(sig.args)
            fndesc = funcdesc.PythonFunctionDescriptor.from_specialized_function(
                typed.func_ir, typed.typemap, typed.return_type, typed.calltypes,
                mangler=context.mangler, inline=typed.flags.forceinline,
                noalias=typed.flags.noalias, abi_tags=[typed.flags.get_mangle_string()])
            lowered[(kernel, sig.args)] = fndesc
            _SubroutineLower(context, context.active_code_library, fndesc, typed.func_ir,
                             module, metadata=typed.metadata).lower()
        return context.call_internal(builder, fndesc, sig, args)

    return lower_call

"""Compile every CUDA kernel of fastnet to PTX -- without a GPU, without the simulator.

Not a test (the tests run under the simulator, which executes Python, not
CUDA): this script type-checks and lowers the real kernels with NVVM, for
both dtypes, so a construct that only the simulator accepts shows up on a
machine without a GPU.  It needs numba-cuda with the CUDA toolkit wheels
(``pip install "numba-cuda[cu13]"``: NVVM), no driver::

    python tests_cuda/ptx_check.py

Without a driver numba-cuda can't ask a device for its compute capability,
which device functions compile for; the script tells it 9.0 (Hopper, the
H200's).
"""

import os
import sys
import types as pytypes

if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
    sys.exit("ptx_check compiles real CUDA: unset NUMBA_ENABLE_CUDASIM")

import numpy as np  # noqa: E402
import numba.cuda.dispatcher as _dispatcher  # noqa: E402
from numba import cuda, typeof  # noqa: E402

CC = (9, 0)
_dispatcher.get_current_device = lambda: pytypes.SimpleNamespace(compute_capability=CC)

from fastnet import Network  # noqa: E402
from fastnet.kernels import groups  # noqa: E402
from fastnet.kernels.cuda import fused, wide  # noqa: E402


def _compile(kernel, args):
    sig = tuple(typeof(a) for a in args)
    ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=CC)
    return ptx


def main():
    results = []
    for dtype in (np.float32, np.float64):
        net = Network([4, 8, 3], activation="tanh", output_activation="softmax", dtype=dtype,
                      dropout=0.2, random_state=0)
        p = net.params.flat
        lay = net.layout.group
        codes = groups.Codes(int(net._codes.hidden), int(net._codes.output),
                             int(net._codes.loss), int(net._codes.tiles_forward),
                             int(net._codes.tiles_backward),
                             int(net._codes.tiles_backward_from))
        X = np.zeros((5, 4), dtype)
        Y = np.zeros((5, 3), dtype)
        sw = np.zeros(5, dtype)
        data = groups.Data(X, Y, sw, True)
        opt = groups.Optimizer(1, np.zeros((2, p.shape[0]), dtype), np.zeros(6), dtype(0.1),
                               np.int64(0))
        drop = groups.Dropout(np.zeros(2), np.uint64(1), np.int64(0))
        sched = fused.Schedule(np.zeros((2, 5), np.int64), np.zeros(2, np.int64),
                               np.zeros(2, np.int64), 3, np.zeros(4), np.zeros(4, dtype),
                               np.zeros(2), np.int64(0))
        k = fused.kernels(dtype)
        order = np.zeros(5, np.int64)
        scal = np.zeros(2, dtype)
        cases = {
            "fused.train": (k["train"], (p, p, lay, codes, data, opt, drop, sched, 4)),
            "fused.loss_and_grad": (k["loss_and_grad"], (p, p, lay, codes, data, dtype(5),
                                                         dtype(0.1), drop, np.int64(0), 4,
                                                         scal)),
            "fused.forward": (k["forward"], (p, lay, codes, X, drop, 4, Y)),
            "wide.gather": (wide.gather, (data, order, 0, 5, X, Y, sw)),
            "wide.bias_activation": (wide.bias_activation, (Y, sw[:3], 2, 0.2, np.uint64(1))),
            "wide.softmax_rows": (wide.softmax_rows, (Y, sw[:3], 5)),
            "wide.loss_delta": (wide.loss_delta, (Y, Y, sw, True, 2, dtype(1e-7), Y, sw[:3])),
            "wide.bias_grad": (wide.bias_grad, (Y, sw[:3])),
            "wide.backward_activation": (wide.backward_activation,
                                         (Y, Y, 2, 0.2, np.uint64(1))),
            "wide.loss_l2": (wide.loss_l2, (p, 32, dtype(0.1), sw[:3], sw, 0, 5, 2,
                                            np.zeros(256, dtype), scal, np.zeros(2), 0)),
            "wide.optimizer_step": (wide.optimizer_step, (p, p, opt, 32, scal, np.zeros(4), 0)),
            "wide.finish_grad": (wide.finish_grad, (p, p, 32, dtype(0.1), scal)),
            "wide.tiled_matmul": (wide.tiled_matmul, (X, Y, Y, True, False)),
        }
        for name, (kernel, args) in cases.items():
            ptx = _compile(kernel, args)
            # float32 kernels should not compute in float64 beyond the dropout test
            # (a float64 comparison by design) and the float64 loss accumulators.
            f64 = ptx.count(".f64")
            results.append((np.dtype(dtype).name, name, len(ptx), f64))
    for dtype, name, size, f64 in results:
        print(f"{dtype:8s} {name:28s} PTX {size:7d} chars, {f64:4d} .f64 mentions")
    print(f"all {len(results)} kernels compiled for sm_{CC[0]}{CC[1]}")


if __name__ == "__main__":
    main()

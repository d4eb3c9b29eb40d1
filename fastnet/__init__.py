"""fastnet: Numba-compiled dense neural networks with scikit-learn's face.

Public names: the estimators :class:`MLPRegressor` (drop-in for scikit-learn's),
the low-level :class:`Network` with its optimizers :class:`SGD` and
:class:`Adam`, safe model files (:func:`save`, :func:`load`), the loss-curve
display :class:`LossCurveDisplay` (extra ``plot``), ONNX export in
:mod:`fastnet.onnx` (extra ``onnx``), and the article's example data in
:mod:`fastnet.datasets`.
"""

from ._version import __version__
from .estimators import MLPClassifier, MLPRegressor
from .network import Network
from .optimizers import SGD, Adam
from .persistence import ModelFileError, load, save
from .plotting import LossCurveDisplay  # imports matplotlib only when plotting

__all__ = [
    "__version__", "MLPClassifier", "MLPRegressor", "Network", "SGD", "Adam",
    "save", "load", "ModelFileError", "LossCurveDisplay",
]

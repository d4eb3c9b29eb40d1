"""A whole scikit-learn Pipeline holding a fastnet model saves and loads with skops.

``fastnet.save`` takes fastnet estimators only; the README's Reliability
section sends pipelines to ``skops.io`` with a list of fastnet's types to
trust.  This test takes that list from the README itself, so the text and
the behaviour cannot drift apart: a pipeline (StandardScaler then a fastnet
estimator) dumped with ``skops.io.dump`` needs no other type, loads with
exactly those trusted, refuses to load without them, and predicts
bit-for-bit as before it was saved.
"""

import pathlib
import re

import numpy as np
import pytest

sio = pytest.importorskip("skops.io")
from skops.io.exceptions import UntrustedTypesFoundException  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from fastnet import MLPClassifier, MLPRegressor  # noqa: E402

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def readme_trusted_types():
    """The ``trusted=[...]`` list the README gives for fastnet models."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"trusted=\[([^\]]*)\]", text)
    assert match, "README.md no longer lists skops' trusted types for fastnet"
    return re.findall(r'"([\w.]+)"', match.group(1))


def _data():
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600]


CASES = {
    # classifier with Adam: the README's example
    "classifier-adam": (lambda: MLPClassifier(hidden_layer_sizes=(16,), max_iter=40,
                                              random_state=0),
                        ["fastnet.estimators.MLPClassifier", "fastnet.optimizers.Adam"]),
    # regressor with SGD: the other two listed types
    "regressor-sgd": (lambda: MLPRegressor(hidden_layer_sizes=(16,), solver="sgd",
                                           learning_rate_init=1e-3, max_iter=40,
                                           random_state=0),
                      ["fastnet.estimators.MLPRegressor", "fastnet.optimizers.SGD"]),
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("case", sorted(CASES))
def test_pipeline_round_trip_with_the_readme_trusted_types(case, tmp_path):
    make, fastnet_types = CASES[case]
    X, y = _data()
    pipe = Pipeline([("scale", StandardScaler()), ("net", make())]).fit(X, y)
    path = tmp_path / "pipeline.skops"
    sio.dump(pipe, path)

    trusted = readme_trusted_types()
    untrusted = sio.get_untrusted_types(file=path)
    # Everything else in the file (Pipeline, StandardScaler, arrays, RandomState...) is
    # trusted by skops already: the README's list is all a user has to add.
    assert sorted(untrusted) == sorted(fastnet_types)
    assert set(untrusted) <= set(trusted)
    with pytest.raises(UntrustedTypesFoundException):
        sio.load(path)

    loaded = sio.load(path, trusted=trusted)
    assert isinstance(loaded, Pipeline)
    assert [name for name, _ in loaded.steps] == ["scale", "net"]
    assert type(loaded[-1]) is type(pipe[-1])
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
    if hasattr(pipe, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    for a, b in zip(loaded[-1].coefs_ + loaded[-1].intercepts_,
                    pipe[-1].coefs_ + pipe[-1].intercepts_):
        np.testing.assert_array_equal(a, b)
    # The loaded model is a live estimator, not a frozen copy: it keeps training alike.
    loaded[-1].partial_fit(loaded[0].transform(X), y)
    pipe[-1].partial_fit(pipe[0].transform(X), y)
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


def test_readme_lists_all_four_fastnet_types():
    assert sorted(readme_trusted_types()) == sorted([
        "fastnet.estimators.MLPRegressor", "fastnet.estimators.MLPClassifier",
        "fastnet.optimizers.Adam", "fastnet.optimizers.SGD"])

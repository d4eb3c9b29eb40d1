"""LossCurveDisplay on matplotlib's Agg backend: what is drawn is the estimator's own curves.

The oracle is always the fitted estimator's attributes (``loss_curve_``,
``validation_scores_``, ``best_validation_score_``, ``n_iter_``), read off the
matplotlib artists the display stores -- never the display's own inputs.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from fastnet import LossCurveDisplay, MLPClassifier, MLPRegressor  # noqa: E402

# Short fits on purpose: a curve of 15 epochs shows everything a plot test needs.
pytestmark = pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def reg_data():
    rng = np.random.RandomState(0)
    X = rng.randn(120, 3)
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.05 * rng.randn(120)
    return X, y


@pytest.fixture(scope="module")
def clf_data():
    rng = np.random.RandomState(1)
    X = rng.randn(150, 4)
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int) + (X[:, 2] > 1)
    return X, y


def _xy(line):
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def _legend_texts(disp):
    return [t.get_text() for t in disp.legend_.get_texts()]


def test_import_does_not_import_matplotlib():
    code = textwrap.dedent("""
        import sys
        import fastnet
        assert "matplotlib" not in sys.modules, "import fastnet imported matplotlib"
        from fastnet import LossCurveDisplay
        from fastnet.plotting import LossCurveDisplay as Direct
        assert LossCurveDisplay is Direct
        LossCurveDisplay(loss_curve=[1.0, 0.5])   # constructing draws nothing
        assert "matplotlib" not in sys.modules, "constructing the display imported matplotlib"
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_missing_matplotlib_names_the_extra(monkeypatch, reg_data):
    # None in sys.modules makes `import matplotlib.pyplot` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "fastnet\[plot\]"'):
        LossCurveDisplay(loss_curve=[1.0, 0.5]).plot()
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(*reg_data)
    with pytest.raises(ImportError, match="from_estimator requires matplotlib"):
        LossCurveDisplay.from_estimator(est)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_regressor_loss_curve_is_plotted_exactly(reg_data, solver):
    est = MLPRegressor(hidden_layer_sizes=(8,), solver=solver, max_iter=15, tol=0,
                       learning_rate_init=0.01, random_state=0).fit(*reg_data)
    disp = LossCurveDisplay.from_estimator(est)
    x, y = _xy(disp.loss_lines_[0])
    assert len(est.loss_curve_) == est.n_iter_ == 15
    np.testing.assert_array_equal(x, np.arange(1, est.n_iter_ + 1))
    np.testing.assert_array_equal(y, est.loss_curve_)
    # No early stopping: no score axes, nothing else drawn.
    assert disp.score_ax_ is None and disp.score_lines_ == [None]
    assert disp.best_markers_ == [None] and disp.validation_loss_lines_ == [None]
    assert len(disp.figure_.axes) == 1 and disp.ax_.get_lines() == disp.loss_lines_
    assert disp.ax_.get_xlabel() == "epoch"
    # loss_curve_ of squared_error is half the MSE plus alpha's penalty: say so.
    assert disp.ax_.get_ylabel() == "loss (half squared error + L2 penalty)"
    assert disp.legend_.get_title().get_text() == "MLPRegressor"
    assert disp.figure_ is disp.ax_.figure


def test_classifier_with_early_stopping_plots_scores_on_a_second_axis(clf_data):
    clf = MLPClassifier(hidden_layer_sizes=(10,), early_stopping=True, n_iter_no_change=5,
                        learning_rate_init=0.01, max_iter=60, random_state=0).fit(*clf_data)
    assert clf.n_iter_ < 60  # it did stop early, so the marker is not the last epoch trivially
    disp = LossCurveDisplay.from_estimator(clf)
    assert disp.score_ax_ is not None and disp.score_ax_ is not disp.ax_
    assert set(disp.figure_.axes) == {disp.ax_, disp.score_ax_}
    np.testing.assert_array_equal(_xy(disp.loss_lines_[0])[1], clf.loss_curve_)
    x, y = _xy(disp.score_lines_[0])
    np.testing.assert_array_equal(x, np.arange(1, clf.n_iter_ + 1))
    np.testing.assert_array_equal(y, clf.validation_scores_)
    assert disp.score_lines_[0] in disp.score_ax_.get_lines()
    assert disp.score_lines_[0] not in disp.ax_.get_lines()
    # The marker sits on the best validation score, the epoch whose weights are kept.
    bx, by = _xy(disp.best_markers_[0])
    assert by[0] == clf.best_validation_score_
    assert clf.validation_scores_[int(bx[0]) - 1] == clf.best_validation_score_
    assert clf.validation_scores_.index(clf.best_validation_score_) == int(bx[0]) - 1
    assert disp.score_ax_.get_ylabel() == "validation score (accuracy)"
    assert disp.ax_.get_ylabel() == "loss (log-loss + L2 penalty)"
    # Same curve, same color; the line style tells loss from score.
    assert disp.score_lines_[0].get_color() == disp.loss_lines_[0].get_color()
    assert disp.score_lines_[0].get_linestyle() != disp.loss_lines_[0].get_linestyle()
    texts = _legend_texts(disp)
    assert "training loss" in texts and "validation score (accuracy)" in texts
    assert disp.legend_.axes is disp.score_ax_  # above the score lines, not under them


def test_regressor_early_stopping_score_is_r2(reg_data):
    est = MLPRegressor(hidden_layer_sizes=(8,), early_stopping=True, alpha=0.0,
                       learning_rate_init=0.01, max_iter=20, random_state=0).fit(*reg_data)
    disp = LossCurveDisplay.from_estimator(est, mark_best=False)
    assert disp.score_ax_.get_ylabel() == "validation score (R²)"
    assert disp.ax_.get_ylabel() == "loss (half squared error)"  # alpha=0: no penalty term
    np.testing.assert_array_equal(_xy(disp.score_lines_[0])[1], est.validation_scores_)
    assert disp.best_markers_ == [None]


def test_several_estimators_on_one_axes(reg_data):
    rates = [0.001, 0.01, 0.1]
    ests = [MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=lr,
                         early_stopping=True, max_iter=12, tol=0, n_iter_no_change=12,
                         random_state=0).fit(*reg_data) for lr in rates]
    disp = LossCurveDisplay.from_estimator(ests)
    assert len(disp.loss_lines_) == len(disp.score_lines_) == 3
    for est, line, sline in zip(ests, disp.loss_lines_, disp.score_lines_):
        np.testing.assert_array_equal(_xy(line)[1], est.loss_curve_)
        np.testing.assert_array_equal(_xy(sline)[1], est.validation_scores_)
        assert sline.get_color() == line.get_color()
    assert len({line.get_color() for line in disp.loss_lines_}) == 3
    assert len(disp.figure_.axes) == 2  # one score axis for all three
    # Default names: what differs between the estimators, nothing else.
    texts = _legend_texts(disp)
    for lr in rates:
        assert f"learning_rate_init={lr!r}" in texts
    assert not any("MLPRegressor" in t for t in texts)
    # The best validation marker is one legend entry, not one per curve.
    assert sum(t.startswith("best validation score") for t in texts) == 1


def test_solvers_and_names(clf_data):
    ests = [MLPClassifier(hidden_layer_sizes=(6,), solver=s, max_iter=10, random_state=0)
            .fit(*clf_data) for s in ("sgd", "adam")]
    disp = LossCurveDisplay.from_estimator(ests, name=["plain SGD", "Adam"])
    # Training losses only: the names are the whole legend (no key of line styles).
    assert _legend_texts(disp) == ["plain SGD", "Adam"]
    assert disp.loss_lines_[0].get_label() == "plain SGD: training loss"
    np.testing.assert_array_equal(_xy(disp.loss_lines_[1])[1], ests[1].loss_curve_)
    with pytest.raises(ValueError, match="name has 1 entries for 2 curves"):
        LossCurveDisplay.from_estimator(ests, name=["only one"])


def test_second_display_on_the_same_axes_reuses_the_score_axis(clf_data):
    kw = dict(hidden_layer_sizes=(6,), early_stopping=True, max_iter=15, random_state=0)
    a = MLPClassifier(**kw).fit(*clf_data)
    b = MLPClassifier(learning_rate_init=0.01, **kw).fit(*clf_data)
    first = LossCurveDisplay.from_estimator(a, name="slow")
    second = LossCurveDisplay.from_estimator(b, name="fast", ax=first.ax_)
    assert second.ax_ is first.ax_ and second.score_ax_ is first.score_ax_
    assert len(first.figure_.axes) == 2
    assert second.loss_lines_[0].get_color() != first.loss_lines_[0].get_color()
    np.testing.assert_array_equal(_xy(second.score_lines_[0])[1], b.validation_scores_)
    # One legend, listing both curves.
    legends = [ax.get_legend() for ax in first.figure_.axes if ax.get_legend() is not None]
    assert legends == [second.legend_]
    assert _legend_texts(second)[:2] == ["slow", "fast"]


def test_legend_forgets_curves_removed_from_the_axes():
    first = LossCurveDisplay(loss_curve=[3.0, 2.0], name="old").plot()
    first.ax_.clear()
    second = LossCurveDisplay(loss_curve=[5.0, 1.0], name="new").plot(ax=first.ax_)
    assert second.legend_.get_title().get_text() == "new"
    assert _legend_texts(second) == ["training loss"]


def test_given_axes_is_used(reg_data):
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(*reg_data)
    fig, (left, right) = plt.subplots(1, 2)
    disp = LossCurveDisplay.from_estimator(est, ax=right)
    assert disp.ax_ is right and disp.figure_ is fig
    assert left.get_lines() == [] and right.get_lines() == disp.loss_lines_


def test_scikit_learn_estimator_and_pipeline(clf_data):
    X, y = clf_data
    sk = SkMLPClassifier(hidden_layer_sizes=(6,), max_iter=8, random_state=0).fit(X, y)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(6,), max_iter=8,
                                                         random_state=0)).fit(X, y)
    disp = LossCurveDisplay.from_estimator([sk, pipe])
    np.testing.assert_array_equal(_xy(disp.loss_lines_[0])[1], sk.loss_curve_)
    np.testing.assert_array_equal(_xy(disp.loss_lines_[1])[1], pipe[-1].loss_curve_)
    # Same class name, different libraries: the library tells them apart.
    assert _legend_texts(disp)[:2] == ["sklearn", "fastnet"]


def test_validation_loss_curve_when_the_estimator_has_one(reg_data):
    est = MLPRegressor(hidden_layer_sizes=(4,), early_stopping=True, max_iter=10,
                       random_state=0).fit(*reg_data)
    # validation_loss_curve_ is a newer attribute; an estimator that has it is
    # plotted with it, one that lacks it (getattr) without.
    if not hasattr(est, "validation_loss_curve_"):
        est.validation_loss_curve_ = [v * 1.5 for v in est.loss_curve_]
    disp = LossCurveDisplay.from_estimator(est)
    vline = disp.validation_loss_lines_[0]
    assert vline in disp.ax_.get_lines()  # the loss axis, not the score axis
    np.testing.assert_array_equal(_xy(vline)[1], est.validation_loss_curve_)
    assert vline.get_color() == disp.loss_lines_[0].get_color()
    assert "validation loss" in _legend_texts(disp)

    del est.validation_loss_curve_
    disp = LossCurveDisplay.from_estimator(est)
    assert disp.validation_loss_lines_ == [None]
    assert "validation loss" not in _legend_texts(disp)


def test_style_keywords():
    disp = LossCurveDisplay(loss_curve=[3.0, 2.0, 1.5], validation_scores=[0.1, 0.5, 0.4],
                            validation_loss_curve=[3.5, 2.5, 2.4])
    # **kwargs reach every line; the per-kind dicts win; aliases (ls, c) replace
    # the defaults instead of clashing with them.
    disp.plot(lw=3, loss_kw={"c": "red"}, score_kw={"ls": "-."})
    assert all(line.get_linewidth() == 3 for line in
               (disp.loss_lines_[0], disp.score_lines_[0], disp.validation_loss_lines_[0]))
    assert disp.loss_lines_[0].get_color() == "red"
    assert disp.score_lines_[0].get_color() == "red"  # follows its curve's color
    assert disp.score_lines_[0].get_linestyle() == "-."
    assert disp.validation_loss_lines_[0].get_linestyle() == ":"
    np.testing.assert_array_equal(_xy(disp.best_markers_[0]), ([2.0], [0.5]))


def test_best_marker_is_the_first_maximum():
    # Early stopping keeps the weights of the first epoch that reached the best
    # score (a later equal score is no improvement: "score > best").
    disp = LossCurveDisplay(loss_curve=[4.0, 3.0, 2.0, 1.0, 0.9],
                            validation_scores=[0.2, 0.7, 0.6, 0.7, 0.7]).plot()
    np.testing.assert_array_equal(_xy(disp.best_markers_[0]), ([2.0], [0.7]))


def test_direct_construction_shapes():
    disp = LossCurveDisplay(loss_curve=np.array([[3.0, 2.0, 1.0], [4.0, 2.0, 0.5]]),
                            name=["a", "b"]).plot()
    assert [list(_xy(line)[1]) for line in disp.loss_lines_] == [[3, 2, 1], [4, 2, 0.5]]
    # Curves of different lengths, scores for one of them only.
    disp = LossCurveDisplay(loss_curve=[[1.0, 0.5], [2.0, 1.0, 0.7, 0.6]],
                            validation_scores=[None, [0.2, 0.3, 0.5, 0.4]]).plot()
    assert len(_xy(disp.loss_lines_[1])[0]) == 4
    assert disp.score_lines_[0] is None
    np.testing.assert_array_equal(_xy(disp.score_lines_[1])[1], [0.2, 0.3, 0.5, 0.4])
    assert _legend_texts(disp)[:2] == ["curve 1", "curve 2"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(loss_curve=[]), "loss_curve is empty"),
    (dict(loss_curve=[[1.0, 2.0], []]), r"loss_curve\[1\] is empty"),
    (dict(loss_curve=[["a", "b"]]), "must be a sequence of numbers"),
    (dict(loss_curve=np.ones((2, 2, 2))), "one-dimensional"),
    (dict(loss_curve=None), "loss_curve is required"),
    (dict(loss_curve=[[1.0], [2.0]], validation_scores=[[0.1], [0.2], [0.3]]),
     "validation_scores has 3 curves but loss_curve has 2"),
    (dict(loss_curve=[1.0, 2.0], name=["a", "b"]), "name has 2 entries for 1 curves"),
])
def test_bad_data_is_refused_by_plot(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LossCurveDisplay(**kwargs).plot()


def test_unfitted_estimator():
    with pytest.raises(NotFittedError, match="MLPRegressor instance is not fitted"):
        LossCurveDisplay.from_estimator(MLPRegressor())
    assert issubclass(NotFittedError, ValueError)


def test_lbfgs_has_no_loss_curve(reg_data):
    est = MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=20,
                       random_state=0).fit(*reg_data)
    with pytest.raises(ValueError, match=r"solver='lbfgs'.*records no loss per epoch"):
        LossCurveDisplay.from_estimator(est)
    # A refit with lbfgs must not plot the curve an earlier adam fit left behind.
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(*reg_data)
    est.set_params(solver="lbfgs").fit(*reg_data)
    with pytest.raises(ValueError, match="solver='lbfgs'"):
        LossCurveDisplay.from_estimator(est)


def test_not_an_mlp(reg_data):
    with pytest.raises(TypeError, match="expects a fitted MLPRegressor or MLPClassifier"):
        LossCurveDisplay.from_estimator(LinearRegression().fit(*reg_data))
    with pytest.raises(ValueError, match="at least one estimator"):
        LossCurveDisplay.from_estimator([])

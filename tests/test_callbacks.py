"""scikit-learn's callback API (``sklearn.callback``, 1.9) on fastnet's estimators.

Oracles: scikit-learn's own callbacks (ProgressBar, rendered by rich into the
captured stdout, and its monitor's progress records; ScoringMonitor), fits
that end by ``max_iter`` at the epoch a callback stops at (same
``random_state``), scores computed from those fits, and scikit-learn's
meta-estimators (Pipeline, GridSearchCV) propagating callbacks.
"""

import pickle
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss, r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import fastnet
from fastnet import MLPClassifier, MLPRegressor, Network
from fastnet import training as _training

callback = pytest.importorskip("sklearn.callback", reason="scikit-learn >= 1.9 has callbacks")
from sklearn.callback import ProgressBar, ScoringMonitor  # noqa: E402
from sklearn.callback._callback_context import get_context_path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EPOCH_TASKS = ("epoch", "lbfgs-iter")


def _data(n=120, p=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    y = np.tanh(X @ rng.randn(p)) + 0.1 * rng.randn(n)
    return X, y


def _labels(y):
    return np.digitize(y, [-0.3, 0.3])  # three classes


class Recorder:
    """A callback that records its hooks; optionally stops after the k-th epoch/iteration.

    ``max_propagation_depth`` makes an instance auto-propagated (set on a
    meta-estimator, it reaches the estimators inside), as scikit-learn's own
    ProgressBar.
    """

    def __init__(self, stop_at=None, fail_at=None):
        self.stop_at = stop_at
        self.fail_at = fail_at
        self.events = []  # (hook, context, fitted_estimator)
        self.stopped_model = None

    def setup(self, estimator, context):
        self.events.append(("setup", context, None))

    def teardown(self, estimator, context):
        self.events.append(("teardown", context, None))

    def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None):
        self.events.append(("begin", context, fitted_estimator))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, metadata=None,
                        fitted_estimator=None):
        self.events.append(("end", context, fitted_estimator))
        if context.task_name in EPOCH_TASKS:
            done = len(self.ends(context.task_name))
            if done == self.fail_at:
                raise ValueError("callback failed on purpose")
            if done == self.stop_at:
                self.stopped_model = fitted_estimator
                return True
        return False

    def ends(self, task_name):
        """The end events, with a fitted estimator, of the tasks named ``task_name``."""
        return [e for e in self.events
                if e[0] == "end" and e[1].task_name == task_name and e[2] is not None]

    def count(self, hook):
        return sum(e[0] == hook for e in self.events)


class AutoRecorder(Recorder):
    max_propagation_depth = None


class UncopiedRecorder(Recorder):
    """A Recorder that fails if copied: a fit's rollback snapshot must leave callbacks be."""

    def __deepcopy__(self, memo):
        raise AssertionError("a callback was deep-copied")


@pytest.fixture(autouse=True)
def progress_bars_torn_down():
    """Every ProgressBar's monitor thread ends with its fit.  One left running (a
    teardown never called) would keep the test process alive at exit: release it,
    then fail."""
    from sklearn.callback import _progressbar

    yield
    left = list(_progressbar._run_queues)
    for key in left:
        _progressbar._run_queues.pop(key).put(None)
        _progressbar._run_monitors.pop(key).join()
    assert not left, "a ProgressBar was not torn down"


def _fit_quietly(est, X, y, **kwargs):
    """Fit; return the ConvergenceWarnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y, **kwargs)
    return [w for w in caught if issubclass(w.category, ConvergenceWarning)]


def _assert_same_model(a, b):
    """Bit-identical weights and bookkeeping: the same computation, in the same order."""
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(ca, cb)
    assert a.n_iter_ == b.n_iter_
    assert a.loss_ == b.loss_
    for name in ("t_", "loss_curve_", "best_loss_", "validation_scores_",
                 "best_validation_score_", "validation_loss_curve_"):
        assert getattr(a, name, None) == getattr(b, name, None), name


# --------------------------------------------------------------------------- API
def test_set_callbacks_validates_as_scikit_learn():
    est = MLPRegressor()
    for bad in (object(), None, ProgressBar):  # a class is not a callback instance
        with pytest.raises(TypeError, match="callbacks must be instances following the "
                                            "FitCallback protocol"):
            est.set_callbacks(bad)
    rec = Recorder()
    assert est.set_callbacks(rec) is est and est._skl_callbacks == [rec]
    assert clone(est)._skl_callbacks[0] is rec  # clone shares callbacks, as scikit-learn's
    est.set_callbacks()
    assert not hasattr(est, "_skl_callbacks")


def test_set_callbacks_without_sklearn_callback_raises_a_clear_error():
    """A scikit-learn without ``sklearn.callback`` (< 1.9): fastnet imports and fits;
    ``set_callbacks`` says what is missing.  Simulated by removing the mixin
    before fastnet is imported."""
    code = textwrap.dedent("""
        import numpy as np
        import sklearn.callback, sklearn.metrics, sklearn.model_selection
        import sklearn.neural_network, sklearn.pipeline, sklearn.preprocessing
        del sklearn.callback.CallbackSupportMixin  # now only fastnet misses it
        from fastnet import MLPRegressor
        X = np.arange(20.0).reshape(10, 2); y = X.sum(axis=1)
        MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=5).fit(X, y)
        try:
            MLPRegressor().set_callbacks(object())
        except ImportError as exc:
            print("ImportError:", exc)
    """)
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ImportError: set_callbacks needs scikit-learn >= 1.9" in out.stdout


# ------------------------------------------------------------------------- cost
def test_runs_of_epochs_stay_without_callbacks_or_with_a_progress_bar(epoch_calls):
    """No callback, or only ProgressBar: several epochs per compiled call; a callback
    that reads the model: one each.  The model is the same in all three."""
    X, y = _data()
    params = dict(hidden_layer_sizes=(6,), batch_size=16, max_iter=60, random_state=1,
                  tol=1e-3, n_iter_no_change=5)
    fits = {}
    for name, callbacks in (("none", ()), ("bar", (ProgressBar(),)),
                            ("monitor", (ScoringMonitor(scoring="r2"),))):
        epoch_calls.clear()
        est = MLPRegressor(**params).set_callbacks(*callbacks)
        _fit_quietly(est, X, y)
        assert sum(epoch_calls) == est.n_iter_
        fits[name] = (est, list(epoch_calls))
        assert not hasattr(est, "_callback_fit_ctx")  # torn down
    assert max(fits["none"][1]) > 1
    assert max(fits["bar"][1]) > 1
    assert max(fits["monitor"][1]) == 1  # (the first call times one batch: 0 epochs)
    _assert_same_model(fits["none"][0], fits["bar"][0])
    _assert_same_model(fits["none"][0], fits["monitor"][0])


# ----------------------------------------------------------------- progress bar
def _progress_records():
    """Patch ProgressBar's monitor thread to record the root bar's progress per task end."""
    from sklearn.callback._progressbar import RichProgressMonitor

    records = []
    real = RichProgressMonitor._on_task_end

    def recording(self, task_info):
        real(self, task_info)
        records.append(self.root_rich_task.progress)

    return records, mock.patch.object(RichProgressMonitor, "_on_task_end", recording)


@pytest.mark.parametrize("make, target", [
    (lambda: MLPRegressor(hidden_layer_sizes=(6,), batch_size=16, max_iter=80, tol=1e-3,
                          n_iter_no_change=4, random_state=1), "y"),
    (lambda: MLPClassifier(hidden_layer_sizes=(5,), solver="sgd", max_iter=7,
                           random_state=0), "labels"),
    (lambda: MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=300,
                           random_state=0), "labels"),
    (lambda: MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=12,
                          random_state=0), "y"),
], ids=["adam-stops", "sgd-max-iter", "lbfgs-converges", "lbfgs-max-iter"])
def test_progress_bar_counts_epochs_and_lbfgs_iterations(make, target, capsys):
    """The bar advances by 1/max_iter per epoch or L-BFGS iteration, up to n_iter_, and
    shows 100% at the end (scikit-learn's rule for a task that stops early)."""
    X, y = _data()
    y = _labels(y) if target == "labels" else y
    est = make()
    records, patch = _progress_records()
    with patch:
        _fit_quietly(est.set_callbacks(ProgressBar()), X, y)
    out = capsys.readouterr().out
    assert 1 < est.n_iter_ <= est.max_iter
    expected = [i / est.max_iter for i in range(1, est.n_iter_ + 1)] + [1.0]
    np.testing.assert_allclose(records, expected)
    assert re.search(rf"{type(est).__name__} - fit .*100%", out)
    assert not re.search(r"\b[0-9]{1,2}%", out)


# --------------------------------------------------------------- scoring monitor
def _monitor_scores(monitor, task_name):
    rows = monitor.get_logs().data
    epochs = [r for r in rows if r["task_name"] == task_name]
    assert [r["task_id"] for r in epochs] == list(range(len(epochs)))
    root = [r for r in rows if r["task_name"] == "fit"]
    return epochs, root


@pytest.mark.parametrize("make, scoring, metric, target", [
    (lambda **kw: MLPRegressor(hidden_layer_sizes=(6,), batch_size=16, **kw), "r2",
     lambda est, X, y: {"r2": r2_score(y, est.predict(X))}, "y"),
    (lambda **kw: MLPRegressor(hidden_layer_sizes=(6,), batch_size=16, early_stopping=True,
                               learning_rate_init=0.2, **kw), "r2",
     lambda est, X, y: {"r2": r2_score(y, est.predict(X))}, "y"),
    (lambda **kw: MLPClassifier(hidden_layer_sizes=(5,), solver="sgd", batch_size=20, **kw),
     ["accuracy", "neg_log_loss"],
     lambda est, X, y: {"accuracy": accuracy_score(y, est.predict(X)),
                        "neg_log_loss": -log_loss(y, est.predict_proba(X))}, "labels"),
    (lambda **kw: MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", **kw), "accuracy",
     lambda est, X, y: {"accuracy": accuracy_score(y, est.predict(X))}, "labels"),
], ids=["adam", "adam-early-stopping", "sgd-classifier", "lbfgs"])
def test_scoring_monitor_records_each_epochs_model(make, scoring, metric, target):
    """The score logged after epoch k is the score of the fit that ran k epochs
    (max_iter=k, same random_state), computed here from that fit's predictions."""
    X, y = _data()
    y = _labels(y) if target == "labels" else y
    common = dict(random_state=3, tol=0.0, n_iter_no_change=1000)
    K = 6
    monitor = ScoringMonitor(scoring=scoring)
    est = make(max_iter=K, **common).set_callbacks(monitor)
    _fit_quietly(est, X, y)
    task = "lbfgs-iter" if est.solver == "lbfgs" else "epoch"
    epochs, root = _monitor_scores(monitor, task)
    assert len(epochs) == est.n_iter_ == K
    for k, row in enumerate(epochs, start=1):
        reference = make(max_iter=k, **common)
        _fit_quietly(reference, X, y)
        for name, value in metric(reference, X, y).items():
            np.testing.assert_allclose(row[name], value, rtol=1e-12, atol=1e-15)
    assert len(root) == 1
    for name, value in metric(est, X, y).items():
        np.testing.assert_allclose(root[0][name], value, rtol=1e-12, atol=1e-15)


# -------------------------------------------------------------------------- stop
@pytest.mark.parametrize("make, target", [
    (lambda **kw: MLPRegressor(hidden_layer_sizes=(6,), batch_size=16, **kw), "y"),
    (lambda **kw: MLPClassifier(hidden_layer_sizes=(5,), solver="sgd", batch_size=20,
                                learning_rate="adaptive", **kw), "labels"),
    (lambda **kw: MLPRegressor(hidden_layer_sizes=(6,), batch_size=16, early_stopping=True,
                               learning_rate_init=0.2, **kw), "y"),
    (lambda **kw: MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", **kw), "labels"),
], ids=["adam", "sgd-adaptive-classifier", "adam-early-stopping", "lbfgs"])
def test_callback_stop_is_a_stop_at_that_epoch(make, target, epoch_calls):
    """A callback that returns True after epoch (iteration) k leaves the model a
    ``max_iter=k`` fit leaves: weights, n_iter_, loss_curve_, validation scores --
    without its ConvergenceWarning.  The fitted_estimator handed to the callback at
    that epoch is that model too."""
    X, y = _data()
    y = _labels(y) if target == "labels" else y
    common = dict(random_state=2, tol=0.0, n_iter_no_change=1000)
    k = 7
    stopper = Recorder(stop_at=k)
    est = make(max_iter=50, **common).set_callbacks(stopper)
    assert _fit_quietly(est, X, y) == []
    task = "lbfgs-iter" if est.solver == "lbfgs" else "epoch"
    assert len(stopper.ends(task)) == k  # no task after the stop
    if est.solver != "lbfgs":
        assert max(epoch_calls) == 1 and sum(epoch_calls) == k

    reference = make(max_iter=k, **common)
    assert len(_fit_quietly(reference, X, y)) == 1
    _assert_same_model(est, reference)
    _assert_same_model(stopper.stopped_model, reference)
    np.testing.assert_array_equal(est.predict(X), reference.predict(X))
    if est.early_stopping:
        # The restore of the best weights is part of what is compared.
        assert np.argmax(est.validation_scores_) + 1 < k


def test_fitted_estimator_is_a_frozen_copy():
    """Each epoch's fitted_estimator keeps that epoch's weights and curve while training
    moves on, and predicts as a fit stopped there would."""
    X, y = _data()
    rec = Recorder()
    params = dict(hidden_layer_sizes=(6,), batch_size=16, random_state=4, tol=0.0,
                  n_iter_no_change=1000)
    est = MLPRegressor(max_iter=5, **params).set_callbacks(rec)
    _fit_quietly(est, X, y)
    models = [e[2] for e in rec.ends("epoch")]
    # The epochs' begin hooks see the model as the epoch starts: epoch 1 the initial one.
    begins = [e for e in rec.events if e[0] == "begin" and e[1].task_name == "epoch"]
    assert [b[2].n_iter_ for b in begins] == [0, 1, 2, 3, 4]
    assert [m.n_iter_ for m in models] == [1, 2, 3, 4, 5]
    assert [len(m.loss_curve_) for m in models] == [1, 2, 3, 4, 5]
    third = MLPRegressor(max_iter=3, **params)
    _fit_quietly(third, X, y)
    np.testing.assert_array_equal(models[2].predict(X), third.predict(X))
    assert models[2].coefs_[0] is not est.coefs_[0]
    # Training the copy further does not touch the estimator it came from.
    before = est._network.params.flat.copy()
    _fit_quietly(models[2].set_params(warm_start=True, max_iter=2), X, y)
    np.testing.assert_array_equal(est._network.params.flat, before)


def test_lbfgs_stop_where_scipy_lets_stopiteration_through(monkeypatch):
    """scipy < 1.11 passes the iterate itself to the callback and lets its
    StopIteration escape ``minimize``: the stop still lands on the iterate (simulated
    on this scipy)."""
    import scipy.optimize

    real = scipy.optimize.minimize

    class Escaped(Exception):
        pass

    def old_minimize(fun, x0, callback=None, **kwargs):
        def positional(xk):  # the pre-1.11 convention: callback(xk)
            try:
                callback(xk)
            except StopIteration:
                raise Escaped from None
        try:
            return real(fun, x0, callback=positional, **kwargs)
        except Escaped:
            raise StopIteration from None

    X, y = _data()
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0, max_iter=50)
    expected = MLPRegressor(**params).set_callbacks(Recorder(stop_at=4))
    _fit_quietly(expected, X, y)
    monkeypatch.setattr(scipy.optimize, "minimize", old_minimize)
    est = MLPRegressor(**params).set_callbacks(Recorder(stop_at=4))
    assert _fit_quietly(est, X, y) == []
    assert est.n_iter_ == 4
    _assert_same_model(est, expected)


# ---------------------------------------------------------------- meta-estimators
def test_pipeline_propagates_auto_propagated_callbacks():
    X, y = _data()
    rec = AutoRecorder()
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPRegressor(hidden_layer_sizes=(5,), max_iter=6, tol=0.0,
                                          random_state=0))])
    _fit_quietly(pipe.set_callbacks(rec), X, y)
    mlp = pipe[-1]
    epochs = rec.ends("epoch")
    assert len(epochs) == mlp.n_iter_ == 6
    path = get_context_path(epochs[0][1])
    assert [(c.estimator_name, c.task_name) for c in path] == [
        ("Pipeline", "fit"), ("MLPRegressor", "fit"), ("MLPRegressor", "epoch")]
    assert path[1].source_estimator_name == "Pipeline"
    assert path[1].source_task_name == "fit-final-estimator"
    assert rec.count("setup") == rec.count("teardown") == 1  # once, on the Pipeline
    assert not hasattr(mlp, "_skl_callbacks")  # taken back after fit
    # A callback that is not auto-propagated stays on the meta-estimator.
    plain = Recorder()
    _fit_quietly(clone(pipe).set_callbacks(plain), X, y)
    assert plain.ends("epoch") == []
    # As for scikit-learn's own: auto-propagated callbacks belong on the meta-estimator.
    inner = Pipeline([("mlp", MLPRegressor(max_iter=2).set_callbacks(ProgressBar()))])
    with pytest.raises(TypeError, match="can't have auto-propagated callbacks"):
        inner.fit(X, y)


def test_grid_search_propagates_to_every_fit(capsys):
    X, y = _data()
    rec = AutoRecorder()
    mlp = MLPRegressor(hidden_layer_sizes=(5,), max_iter=4, tol=0.0, random_state=0)
    search = GridSearchCV(Pipeline([("scale", StandardScaler()), ("mlp", mlp)]),
                          {"mlp__alpha": [1e-4, 1e-2]}, cv=2)
    _fit_quietly(search.set_callbacks(rec, ProgressBar(max_propagation_depth=None)), X, y)
    roots = [e for e in rec.events if e[0] == "end" and e[1].estimator_name == "MLPRegressor"
             and e[1].task_name == "fit"]
    assert len(roots) == 2 * 2 + 1  # candidates x folds, and the refit
    epochs = rec.ends("epoch")
    assert len(epochs) == 5 * 4
    for _, ctx, _ in epochs:
        names = [c.estimator_name for c in get_context_path(ctx)]
        assert names[0] == "GridSearchCV" and names[-2:] == ["MLPRegressor", "MLPRegressor"]
    assert rec.count("setup") == rec.count("teardown") == 1
    out = capsys.readouterr().out
    assert out.count("Pipeline - fit-final-estimator | MLPRegressor - fit") == 5
    assert not re.search(r"\b[0-9]{1,2}%", out)


# ---------------------------------------------------------- fit's other paths
def test_partial_fit_is_one_epoch_task():
    X, y = _data()
    rec = Recorder()
    est = MLPRegressor(hidden_layer_sizes=(5,), random_state=0).set_callbacks(rec)
    for _ in range(3):
        est.partial_fit(X, y)
    roots = [e for e in rec.events if e[0] == "end" and e[1].task_name == "fit"]
    assert len(roots) == 3 and all(r[1].max_subtasks == 1 for r in roots)
    epochs = rec.ends("epoch")
    assert [e[2].n_iter_ for e in epochs] == [1, 1, 1]
    assert [e[2].t_ for e in epochs] == [120, 240, 360]
    classes = np.unique(_labels(y))
    clf = MLPClassifier(hidden_layer_sizes=(5,), random_state=0).set_callbacks(Recorder())
    clf.partial_fit(X, _labels(y), classes=classes)
    assert len(clf._skl_callbacks[0].ends("epoch")) == 1


def test_failed_fit_rolls_back_and_tears_callbacks_down():
    """A callback that raises at epoch 3: the error reaches the caller, the model is
    as before the call, the callbacks stay set (the same objects) and are torn down
    once -- ProgressBar's monitor thread included."""
    from sklearn.callback import _progressbar

    X, y = _data()
    est = MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0, warm_start=True)
    _fit_quietly(est, X, y)
    before = (est._network.params.flat.copy(), list(est.loss_curve_), est.n_iter_)
    failing, bar = UncopiedRecorder(fail_at=3), ProgressBar()
    est.set_callbacks(failing, bar)
    with pytest.raises(ValueError, match="callback failed on purpose"):
        est.fit(X, y)
    np.testing.assert_array_equal(est._network.params.flat, before[0])
    assert (est.loss_curve_, est.n_iter_) == (before[1], before[2])
    assert est._skl_callbacks[0] is failing and est._skl_callbacks[1] is bar
    assert failing.count("setup") == failing.count("teardown") == 1
    assert not hasattr(est, "_callback_fit_ctx") and _progressbar._run_monitors == {}
    # Still usable: the next fit trains and reports.
    est.set_callbacks(Recorder())
    _fit_quietly(est, X, y)
    assert len(est._skl_callbacks[0].ends("epoch")) == 5


def test_interrupted_fit_ends_every_task(monkeypatch):
    """Ctrl-C as an epoch starts: the fit returns (scikit-learn's warning), that
    epoch's task ends empty, the finished ones with their models."""
    X, y = _data()
    real = Network._run_epochs
    done = []

    def interrupt_after_two_epochs(self, *args, **kwargs):
        if sum(done) >= 2:
            raise KeyboardInterrupt
        done.append(real(self, *args, **kwargs))
        return done[-1]

    monkeypatch.setattr(Network, "_run_epochs", interrupt_after_two_epochs)
    rec = Recorder()
    est = MLPRegressor(hidden_layer_sizes=(5,), max_iter=20, random_state=0).set_callbacks(rec)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        est.fit(X, y)
    assert est.n_iter_ == 2
    assert [e[2].n_iter_ for e in rec.ends("epoch")] == [1, 2]
    assert rec.count("begin") == rec.count("end") == 1 + 3  # the root and three epochs
    assert rec.count("teardown") == 1


def test_pickle_and_save_with_callbacks(tmp_path):
    """As scikit-learn's estimators: the callbacks pickle with the estimator; fastnet's
    model files hold the model only."""
    X, y = _data()
    monitor = ScoringMonitor(scoring="r2")
    est = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    est.set_callbacks(ProgressBar(), monitor)
    restored = pickle.loads(pickle.dumps(est))  # before fit
    assert [type(c) for c in restored._skl_callbacks] == [ProgressBar, ScoringMonitor]
    _fit_quietly(est, X, y)
    net = est._network
    restored = pickle.loads(pickle.dumps(est))  # after fit
    assert est.__dict__.get("_network") is net  # pickling leaves the estimator as it was
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    _fit_quietly(restored, X, y)  # the restored monitor keeps the first run, logs a second
    assert len(restored._skl_callbacks[1].get_logs(select="all")) == 2
    assert len(monitor.get_logs(select="all")) == 1
    path = tmp_path / "model.fastnet"
    fastnet.save(est, path)
    loaded = fastnet.load(path)
    assert not hasattr(loaded, "_skl_callbacks")
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_no_context_is_created_without_callbacks(monkeypatch):
    """Without callbacks (and outside a meta-estimator) fit opens no callback context."""
    X, y = _data()
    opened = []
    real = _training.fit_stochastic

    def spy(est, *args, **kwargs):
        opened.append(hasattr(est, "_callback_fit_ctx"))
        return real(est, *args, **kwargs)

    monkeypatch.setattr(fastnet.estimators, "fit_stochastic", spy)
    _fit_quietly(MLPRegressor(hidden_layer_sizes=(5,), max_iter=3), X, y)
    _fit_quietly(MLPRegressor(hidden_layer_sizes=(5,), max_iter=3).set_callbacks(Recorder()),
                 X, y)
    assert opened == [False, True]

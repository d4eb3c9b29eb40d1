"""scikit-learn's estimator checks on fastnet.MLPRegressor and fastnet.MLPClassifier.

Every check of ``parametrize_with_checks`` must pass as it does for a
scikit-learn estimator: no expected failures are declared.  Small settings
keep the suite quick; ``random_state`` makes the checks that compare two fits
(idempotence, pickling, n_iter) deterministic.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import fastnet

ESTIMATORS = [
    fastnet.MLPRegressor(max_iter=100, random_state=0),
    fastnet.MLPRegressor(solver="lbfgs", max_iter=200, random_state=0),
    fastnet.MLPRegressor(loss="poisson", solver="lbfgs", max_iter=200, random_state=0),
    fastnet.MLPClassifier(max_iter=100, random_state=0),
    # max_iter=50: at 200 lbfgs iterations logistic outputs saturate to exactly 1.0 and
    # check_classifiers_multilabel_output_format_predict_proba fails for
    # scikit-learn's own MLPClassifier just the same.
    fastnet.MLPClassifier(solver="lbfgs", max_iter=50, random_state=0),
    fastnet.MLPClassifier(solver="sgd", max_iter=100, random_state=0),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)

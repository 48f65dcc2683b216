"""The non-neural models, as scikit-learn (or xgboost) estimators: nothing hand-written.

:func:`candidate_estimators` gives, for a model of the registry, the estimators to try; the
caller fits each on the training sets and keeps the one with the best validation Pearson
(``additive`` tries one ridge penalty per value of ``alphas``; the others have one candidate).
"""

from __future__ import annotations

from typing import Any

ESTIMATOR_MODELS = ("mean", "additive", "rf_embeddings", "rf_pair_features", "xgboost")


def candidate_estimators(model: str, settings: dict[str, Any], seed: int,
                         threads: int) -> list[tuple[dict[str, Any], Any]]:
    """``(hyperparameters, unfitted estimator)`` pairs for one model.

    Args:
        model: one of :data:`ESTIMATOR_MODELS`.
        settings: the model's config section (``baselines.additive``, ``.random_forest``,
            ``.xgboost``; empty for ``mean``).
        seed: fixes the trees' randomness.
        threads: cores the estimator may use.
    """
    if model == "mean":
        from sklearn.dummy import DummyRegressor

        return [({}, DummyRegressor(strategy="mean"))]
    if model == "additive":
        from sklearn.linear_model import Ridge

        return [({"alpha": alpha}, Ridge(alpha=alpha)) for alpha in settings["alphas"]]
    if model in ("rf_embeddings", "rf_pair_features"):
        from sklearn.ensemble import RandomForestRegressor

        params = {key: settings[key] for key in ("n_estimators", "max_depth",
                                                 "min_samples_leaf", "max_features")}
        return [(params, RandomForestRegressor(**params, n_jobs=threads, random_state=seed))]
    if model == "xgboost":
        try:
            from xgboost import XGBRegressor
        except ModuleNotFoundError as exc:
            raise RuntimeError("model xgboost needs the xgboost package: "
                               "pip install 'geneint[xgboost]'") from exc
        params = {key: settings[key] for key in ("n_estimators", "max_depth", "learning_rate",
                                                 "subsample", "early_stopping_rounds")}
        return [(params, XGBRegressor(**params, n_jobs=threads, random_state=seed,
                                      tree_method="hist"))]
    raise ValueError(f"{model!r} is not an estimator model; choose one of {ESTIMATOR_MODELS}")


def fit(estimator: Any, x_train, y_train, x_val, y_val) -> Any:
    """Fit on the training sets; xgboost also watches the validation sets to stop early."""
    if type(estimator).__name__ == "XGBRegressor":
        return estimator.fit(x_train, y_train, eval_set=[(x_val, y_val)], verbose=False)
    return estimator.fit(x_train, y_train)

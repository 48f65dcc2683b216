"""``predictions.parquet``: the one file every model writes, and all evaluation reads.

One row per (set, role) that a model predicted:

==================  =========  ==========================================================
column              dtype      meaning
==================  =========  ==========================================================
set_id              int64      row of ``interactions.parquet``
gene_a … gene_c     str        the set's genes (``gene_c`` empty for pairs)
arity               int8       2 or 3
role                str        ``train``, ``val`` or ``test`` (of the split fold)
tau                 float64    measured τ, published scale
tau_pred            float64    the model's τ̂, published scale
tau_noise_free      float64    optional: noise-free τ (synthetic data)
==================  =========  ==========================================================

Neural models, tree models and the mean write the same table, so evaluation, the summary and the
plots never load a model class.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geneint.data.files import (
    InputFormatError,
    PathLike,
    require_columns,
    write_parquet_atomic,
)
from geneint.train.sets import GENE_COLUMNS, SetTensors

PREDICTION_COLUMNS = ["set_id", *GENE_COLUMNS, "arity", "role", "tau", "tau_pred"]
PREDICTION_ROLES = ("train", "val", "test")


def predictions_frame(interactions: pd.DataFrame, sets: SetTensors, role: str,
                      tau_pred: np.ndarray) -> pd.DataFrame:
    """Rows of one role: the sets' genes and measured τ beside the model's predictions."""
    tau_pred = np.asarray(tau_pred, dtype=np.float64).reshape(-1)
    if tau_pred.shape[0] != len(sets.tau):
        raise ValueError(f"{len(sets.tau)} {role} sets but {tau_pred.shape[0]} predictions")
    rows = interactions.iloc[sets.set_id.numpy()]
    out = pd.DataFrame({
        "set_id": sets.set_id.numpy().astype(np.int64),
        **{c: rows[c].to_numpy() for c in GENE_COLUMNS},
        "arity": rows["arity"].to_numpy(np.int8), "role": role,
        "tau": rows["tau"].to_numpy(np.float64), "tau_pred": tau_pred,
    })
    if "tau_noise_free" in rows:
        out["tau_noise_free"] = rows["tau_noise_free"].to_numpy(np.float64)
    return out


def write_predictions(frame: pd.DataFrame, path: PathLike) -> None:
    validate_predictions(frame, path)
    extra = [c for c in frame.columns if c not in PREDICTION_COLUMNS]
    write_parquet_atomic(frame[PREDICTION_COLUMNS + extra].reset_index(drop=True), path)


def read_predictions(path: PathLike) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    validate_predictions(frame, path)
    return frame


def validate_predictions(frame: pd.DataFrame, path: PathLike) -> None:
    require_columns(frame, PREDICTION_COLUMNS, path)
    unknown = sorted(set(frame["role"]) - set(PREDICTION_ROLES))
    if unknown:
        raise InputFormatError(path, 0, f"unknown roles {unknown}; expected {PREDICTION_ROLES}")
    repeated = frame.duplicated(["set_id", "role"]).to_numpy()
    if repeated.any():
        row = frame.iloc[int(np.flatnonzero(repeated)[0])]
        raise InputFormatError(path, 0, f"set {row['set_id']} is predicted twice as "
                                        f"{row['role']}")
    bad = ~np.isfinite(frame["tau_pred"].to_numpy(np.float64))
    if bad.any():
        row = frame.iloc[int(np.flatnonzero(bad)[0])]
        raise InputFormatError(path, 0, f"{int(bad.sum())} predictions are not finite, e.g. "
                                        f"set {row['set_id']} ({row['role']})")

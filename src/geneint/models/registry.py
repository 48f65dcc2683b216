"""Every model the sweep can train: its name, how it is trained, and what it needs.

A model declares its inputs (``needs``) and the workflow builds only those: a sweep of
baselines runs no pretraining and builds no graphs. Its swept axes are declared in the sweep
schema (``models.<name>``); ``input_axes`` are the axes that choose input files (which STRING
release, which λ, which pretraining) rather than being passed as flags; ``settings`` are the
config sections or keys passed to it as flags; ``needs_when`` are inputs needed only at one
value of an axis (hetero_sagpool's pretrained features). Pure data, no torch: the workflow
reads this at parse time.

Runners:

- ``neural``: a :class:`~geneint.models.base.SetModel` trained by
  :class:`~geneint.train.set_regression.SetRegression` under Lightning (GPU- and DDP-capable;
  the workflow's ``train_model`` rule).
- ``estimator``: a scikit-learn-style estimator fitted on set features on CPU cores
  (:mod:`geneint.train.estimators`; the ``fit_estimator`` rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Inputs a model can need, besides the interactions, the gene index and the split: the
#: network graphs of its graph set, the pretrained networks (``pretrained.pt``: encoders,
#: heads, embedding table), only their gene embeddings (``embeddings.pt``), the filtered
#: ontology (``ontology.json``), the metabolic model's relations (the metabolism folder; only
#: for points whose graph set has ``metabolism``), or the FBA deletion growth tables.
NEEDS = ("graphs", "pretrained", "embeddings", "ontology", "metabolism", "fba_growth")
RUNNERS = ("neural", "estimator")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    runner: str
    summary: str
    needs: frozenset[str] = field(default_factory=frozenset)
    input_axes: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()
    #: Inputs needed only at some values of an axis: need → (axis, value).
    needs_when: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.runner not in RUNNERS:
            raise ValueError(f"{self.name}: runner must be one of {RUNNERS}")
        unknown = (self.needs | set(self.needs_when)) - set(NEEDS)
        if unknown:
            raise ValueError(f"{self.name}: unknown needs {sorted(unknown)}")


_PRETRAINING_AXES = ("graphs", "variant", "dim", "lambda_mode")

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (
    ModelSpec("dango", "neural",
              "DANGO: per-network GNNs (pretrained one job per network), meta-embedding and "
              "Hyper-SAGNN, trained jointly with the reconstruction loss",
              needs=frozenset({"graphs", "pretrained"}), input_axes=("graphs", "lambda_mode"),
              settings=("train", "pretrain.embedding_seed")),
    ModelSpec("mean", "estimator",
              "the training sets' mean τ for every set: the MSE baseline (its Pearson is "
              "undefined)"),
    ModelSpec("additive", "estimator",
              "ridge regression on gene-set membership (the sum of one-hot gene vectors): "
              "per-gene effects, no interaction; the penalty is chosen on validation",
              settings=("baselines.additive",)),
    ModelSpec("rf_embeddings", "estimator",
              "random forest on the pretrained per-network gene embeddings (DANGO's baseline): "
              "per network, the sum and the element-wise product over the set's genes",
              needs=frozenset({"embeddings"}), input_axes=_PRETRAINING_AXES,
              settings=("baselines.random_forest",)),
    ModelSpec("rf_pair_features", "estimator",
              "random forest on network features of the set's gene pairs: per channel the "
              "edge weight, both degrees and the common neighbours",
              needs=frozenset({"graphs"}), input_axes=("graphs",),
              settings=("baselines.random_forest",)),
    ModelSpec("xgboost", "estimator",
              "gradient-boosted trees (xgboost) on the rf_embeddings features, early-stopped "
              "on validation",
              needs=frozenset({"embeddings"}), input_axes=_PRETRAINING_AXES,
              settings=("baselines.xgboost",)),
    ModelSpec("dcell", "neural",
              "DCell: a visible neural network with one subsystem per ontology term (its "
              "children's outputs and its own genes' states), leaves to root, a head per term",
              needs=frozenset({"ontology"}), settings=("dcell",)),
    ModelSpec("multigraph", "neural",
              "one heterogeneous GNN (GATv2 per relation) over every graph of the set and the "
              "metabolic relations; a whole-cell embedding-difference head and a DANGO-style "
              "set head mixed by a learned gate",
              needs=frozenset({"graphs", "metabolism"}), input_axes=("graphs",),
              settings=("multigraph",)),
    ModelSpec("hetero_sagpool", "neural",
              "a classifier of interaction classes (negative / neutral / positive τ): a "
              "heterogeneous GNN (one convolution per relation) with SAGPooling after each of "
              "13 rounds over the perturbed genes' neighbourhood, mean-pooled",
              needs=frozenset({"graphs"}), input_axes=("graphs",),
              settings=("hetero_sagpool", "evaluate"),
              needs_when={"embeddings": ("features", "pretrained")}),
    ModelSpec("fba", "estimator",
              "flux balance analysis on the metabolic model: growth of every single, double "
              "and triple deletion, and τ from those fitnesses (Kuzmin's definitions); no "
              "training",
              needs=frozenset({"fba_growth"})),
)}


def model_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}") from None


def models_run_by(runner: str) -> list[str]:
    return [name for name, spec in MODELS.items() if spec.runner == runner]

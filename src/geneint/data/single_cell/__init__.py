"""The single-cell perturbation study's data: Perturb-seq AnnData files (raw, as published, and
the canonical ``cells.h5ad`` between stages), the synthetic data set with a known causal graph,
CausalBench's preprocessing, split and training regimes, and the known edges the networks are
scored against."""

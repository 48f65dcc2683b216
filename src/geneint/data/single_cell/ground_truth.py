"""Known edges a predicted network is scored against (CausalBench's biological evaluation).

- the true graph of the synthetic data (``true_graph.tsv``: source, target, weight);
- the Krumsiek 2011 myeloid network behind scanpy's bundled ``krumsiek11`` simulation: its
  coupling list pairs each gene with the genes its Boolean rule reads (regulator → target);
- ChIP-seq TF → target edges from ChIP-Atlas, as CausalBench ships them inside its package
  (``causalscbench/data_access/data/{K562,Hep_G2}_ChipSeq.csv``: target, weight, source).

Every set is of directed (source, target) gene-symbol pairs, without self-loops.
"""

from __future__ import annotations

import importlib.resources

import pandas as pd

from geneint.data.files import InputFormatError, PathLike, iter_lines, require_columns

Edges = set[tuple[str, str]]

CHIPSEQ_FILES = {"chipseq_k562": "K562_ChipSeq.csv", "chipseq_hepg2": "Hep_G2_ChipSeq.csv"}


def read_edge_table(path: PathLike) -> Edges:
    frame = pd.read_csv(path, sep="\t")
    require_columns(frame, ["source", "target"], path)
    return {(str(s), str(t)) for s, t in zip(frame["source"], frame["target"]) if s != t}


def write_edge_table(edges: pd.DataFrame, path: PathLike) -> None:
    from geneint.data.files import write_text_atomic

    write_text_atomic(path, edges.to_csv(sep="\t", index=False))


def krumsiek11_edges() -> Edges:
    """Regulator → target pairs of the coupling list in scanpy's ``sim_models/krumsiek11.txt``."""
    path = importlib.resources.files("scanpy") / "sim_models" / "krumsiek11.txt"
    edges: Edges = set()
    in_couplings = False
    for number, line in iter_lines(str(path)):
        if line.startswith("# coupling list"):
            in_couplings = True
            continue
        if not in_couplings or not line.strip() or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 3:
            raise InputFormatError(path, number, f"expected 'target regulator weight', got"
                                                 f" {line!r}")
        target, regulator, _ = fields
        if target != regulator:
            edges.add((regulator, target))
    if not edges:
        raise InputFormatError(path, 0, "no coupling list found")
    return edges


def chipseq_edges(name: str) -> Edges:
    """ChIP-seq TF → target edges of one cell line, from the causalbench package's data."""
    try:
        folder = importlib.resources.files("causalscbench.data_access") / "data"
    except ModuleNotFoundError:
        raise RuntimeError("the ChIP-seq ground truth ships inside the causalbench package:"
                           " pip install --no-deps causalbench==1.1.2") from None
    path = folder / CHIPSEQ_FILES[name]
    frame = pd.read_csv(str(path), usecols=["source", "target"])
    return {(s, t) for s, t in zip(frame["source"], frame["target"]) if s != t}


def ground_truth_kind(setting: str, dataset: str) -> str:
    """The ground truth ``evaluate.ground_truth: auto`` stands for, per dataset."""
    if setting != "auto":
        return setting
    return {"synthetic": "true_graph", "krumsiek11": "krumsiek11",
            "replogle_k562": "chipseq_k562", "replogle_rpe1": "chipseq_hepg2"}.get(dataset,
                                                                                   "none")


def load_ground_truth(kind: str, true_graph: PathLike | None = None) -> Edges | None:
    if kind == "none":
        return None
    if kind == "true_graph":
        if true_graph is None:
            raise ValueError("ground truth true_graph needs the true graph's file")
        return read_edge_table(true_graph)
    if kind == "krumsiek11":
        return krumsiek11_edges()
    return chipseq_edges(kind)

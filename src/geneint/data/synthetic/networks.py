"""Synthetic gene–gene networks in their published formats: BioGRID TAB3, YEASTRACT, TFLink.

:func:`write_synthetic_networks` writes, under ``out_dir``, :data:`BIOGRID_FILE`,
:data:`REGULATION_FILE` (gzip) and :data:`TFLINK_FILE`, read back by
:func:`~geneint.data.biogrid.read_biogrid_tab3`, :func:`~geneint.data.regulation.read_regulation`
and :func:`~geneint.data.tflink.read_tflink`. With ``s_ij`` the cosine of the hidden factors
(see :mod:`geneint.data.synthetic`), the planted signal is:

* **physical** — informative: ``5 G`` distinct pairs (mean degree 10) drawn without replacement
  with weight ``exp(10 s_ij)`` (κ above STRING's most informative channels, 8), almost all
  within a module; each pair is reported by ``1 + Poisson(0.5)`` evidence rows (Affinity
  Capture-MS, Two-hybrid, Reconstituted Complex…; interactor order random).
* **genetic** — moderately informative: ``3 G`` pairs with weight ``exp(3 s_ij)``,
  ``1 + Poisson(0.2)`` rows each (Negative Genetic, Positive Genetic, Synthetic Lethality…).
* **regulatory** — 5 % of genes (named ones) are TFs; each regulates about ``0.06 G`` targets
  drawn without replacement with weight ``exp(2)`` for genes of the TF's own module and 1
  otherwise: moderately informative, directed.
* **tflink** — pure noise: 5 % of genes, chosen at random, each with about ``0.08 G`` uniformly
  random targets, independent of ``s_ij``.

Imperfections each reader must count: BioGRID rows with a human interactor (organism 9606), rows
whose systematic name is ``-``, self interactions, rows naming an ORF outside SGD and repeated
evidence (merged duplicates); YEASTRACT and TFLink rows with names SGD does not know,
autoregulation (self loops), ORFs outside SGD and repeated rows. The returned stats hold the
expected reader QC counts (``<source>["qc"]``) for the universe = SGD genes.

Everything is drawn from ``numpy.random.default_rng([seed, RNG_STREAM])``, a stream of its own,
so the other synthetic files do not change with this generator; output is byte-identical for a
seed.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geneint.data.biogrid import TAB3_COLUMNS, YEAST_TAXON
from geneint.data.files import HO_MARKER, PathLike, atomic_output, is_orf, write_text_atomic
from geneint.data.synthetic.genes import GeneFactors, GeneTable
from geneint.data.synthetic.string_releases import (
    n_pairs,
    pair_cosines,
    pair_genes,
    sample_edges,
)
from geneint.data.tflink import TFLINK_COLUMNS, TFLINK_ORGANISM

BIOGRID_FILE = "biogrid/BIOGRID-ORGANISM-Saccharomyces_cerevisiae_S288c-4.4.240.tab3.txt"
REGULATION_FILE = "regulation/RegulationTwoColumnTable_Documented_2013927.tsv.gz"
TFLINK_FILE = "tflink/TFLink_Saccharomyces_cerevisiae_interactions_All_simpleFormat_v1.0.tsv"
#: Second seed word of this generator's random stream (``default_rng([seed, RNG_STREAM])``).
RNG_STREAM = 0x6E
PHYSICAL = {"degree": 10, "slope": 10.0, "repeats": 0.5, "systems": {
    "Affinity Capture-MS": 0.45, "Two-hybrid": 0.25, "Affinity Capture-Western": 0.1,
    "Reconstituted Complex": 0.08, "Co-purification": 0.05, "PCA": 0.07}}
GENETIC = {"degree": 6, "slope": 3.0, "repeats": 0.2, "systems": {
    "Negative Genetic": 0.45, "Positive Genetic": 0.15, "Synthetic Lethality": 0.15,
    "Synthetic Growth Defect": 0.12, "Synthetic Rescue": 0.05, "Dosage Rescue": 0.08}}
TF_FRACTION = 0.05
REGULON_FRACTION = {"regulatory": 0.06, "tflink": 0.08}
MODULE_PREFERENCE = 2.0  # log-weight of a same-module target (regulatory)
HUMAN_TAXON = 9606
_ORGANISM_NAME = {YEAST_TAXON: "Saccharomyces cerevisiae (S288c)", HUMAN_TAXON: "Homo sapiens"}
_AUTHORS = ["Krogan NJ", "Gavin AC", "Ho Y", "Uetz P", "Ito T", "Tarassov K", "Costanzo M",
            "Collins SR", "Tong AH", "Schuldiner M", "Babu M", "Hein MY"]


def _n_bad(n_rows: int, rate: float = 0.005) -> int:
    """How many imperfect rows of one kind to plant: a small fraction, at least 2."""
    return max(2, round(rate * n_rows))


def _unknown(n: int, known: set[str], orf: bool, rng: np.random.Generator) -> list[str]:
    """``n`` distinct names SGD does not list: ORFs (``YPR917W``) or standard-like (``Kep417``)."""
    out: list[str] = []
    while len(out) < n:
        name = (f"Y{'ABCDEFGHIJKLMNOP'[rng.integers(16)]}{'LR'[rng.integers(2)]}"
                f"{int(rng.integers(1, 1000)):03d}{'WC'[rng.integers(2)]}" if orf else
                f"{'BCDFGKLMNPRSTVZ'[rng.integers(15)]}{'aeiou'[rng.integers(5)]}"
                f"{'bcdfgklmnrstvz'[rng.integers(14)]}{int(rng.integers(100, 1000))}")
        if name.upper() not in known and name not in out and is_orf(name.upper()) == orf:
            out.append(name)
    return out


def _mean_cosine(unit: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    return round(float(np.einsum("ij,ij->i", unit[a], unit[b]).mean()), 4) if len(a) else 0.0


# --------------------------------------------------------------------------------------------
# BioGRID
# --------------------------------------------------------------------------------------------


def _biogrid(genes: GeneTable, unit: np.ndarray, rng: np.random.Generator
             ) -> tuple[str, dict[str, Any], dict[str, float]]:
    g = len(genes)
    cosine = pair_cosines(unit)
    rows_a, rows_b, systems, qc, cos = [], [], [], {}, {}
    for kind, spec in (("physical", PHYSICAL), ("genetic", GENETIC)):
        n_edges = min(round(spec["degree"] * g / 2), n_pairs(g))
        i, j = pair_genes(sample_edges(cosine, n_edges, spec["slope"], rng), g)
        cos[kind] = _mean_cosine(unit, i, j)
        copies = 1 + rng.poisson(spec["repeats"], len(i))  # repeated evidence
        a, b = np.repeat(i, copies), np.repeat(j, copies)
        swap = rng.random(len(a)) < 0.5
        rows_a.append(np.where(swap, b, a))
        rows_b.append(np.where(swap, a, b))
        names, p = zip(*spec["systems"].items(), strict=True)
        systems.append(rng.choice(np.array(names, dtype=object), size=len(a), p=p))
        qc[f"edges_{kind}"] = len(i)
    del cosine
    n_valid = sum(len(x) for x in rows_a)
    qc["duplicate_edges_merged"] = n_valid - qc["edges_physical"] - qc["edges_genetic"]
    # Features after the G genes: ORFs SGD does not list, yeast features without an ORF ("-"),
    # human proteins; each bad row pairs one with a random yeast gene. Then self interactions.
    n_unknown, n_dash, n_human, n_self = (_n_bad(n_valid, r) for r in (0.005, 0.005, 0.01,
                                                                       0.005))
    unknown = _unknown(n_unknown, {*genes.names.tolist(), HO_MARKER}, True, rng)
    taxon = np.r_[np.full(g + n_unknown + n_dash, YEAST_TAXON), np.full(n_human, HUMAN_TAXON)]
    feature = pd.DataFrame({
        "Systematic Name": [*genes.names, *unknown, *["-"] * (n_dash + n_human)],
        "Official Symbol": [s or n for s, n in zip(genes.standard_names, genes.names,
                                                   strict=True)]
        + unknown + [f"SNR{k + 1}" for k in range(n_dash)] + [f"HSG{k + 1}" for k in
                                                               range(n_human)],
        "Organism ID": taxon.astype(str),
        "Organism Name": [_ORGANISM_NAME[t] for t in taxon.tolist()],
    })
    k = np.arange(len(feature))
    feature["Entrez Gene"] = np.where(taxon == YEAST_TAXON, 850_000 + k, 7000 + k).astype(str)
    feature["BioGRID ID"] = (30_000 + k).astype(str)
    feature["SWISS-PROT Accessions"] = [f"P{10_000 + x:05d}" for x in k.tolist()]
    feature["REFSEQ Accessions"] = [f"NP_{9000 + x:06d}" for x in k.tolist()]
    extra = np.arange(g, len(feature))
    self_genes = rng.choice(g, size=n_self, replace=False)
    bad_a = np.r_[rng.integers(0, g, size=len(extra)), self_genes]
    bad_b = np.r_[extra, self_genes]
    human = np.r_[taxon[extra] == HUMAN_TAXON, np.zeros(n_self, bool)]
    bad_spec = np.where(human | (rng.random(len(bad_a)) < 0.5), 0, 1)  # physical | genetic
    bad_system = np.array([str(rng.choice(list((PHYSICAL, GENETIC)[s]["systems"])))
                           for s in bad_spec.tolist()], dtype=object)
    swap = rng.random(len(bad_a)) < 0.5
    a = np.concatenate([*rows_a, np.where(swap, bad_b, bad_a)])
    b = np.concatenate([*rows_b, np.where(swap, bad_a, bad_b)])
    system = np.concatenate([*systems, bad_system])
    physical = {*PHYSICAL["systems"]}
    kind = np.array(["physical" if x in physical else "genetic" for x in system], dtype=object)
    qc.update(rows_read=len(a), rows_physical=int((kind == "physical").sum()),
              rows_genetic=int((kind == "genetic").sum()), rows_non_yeast=n_human,
              rows_without_systematic_orf=n_dash, genes_outside_universe=n_unknown,
              self_loops=n_self)

    order = rng.permutation(len(a))  # the evidence rows of a pair are not adjacent
    a, b, system, kind = a[order], b[order], system[order], kind[order]
    pubs = rng.integers(0, max(10, g // 5), size=len(a)).tolist()
    columns = {TAB3_COLUMNS[0]: (100_000 + np.arange(len(a))).astype(str),
               "Experimental System": system, "Experimental System Type": kind,
               "Author": [f"{_AUTHORS[p % len(_AUTHORS)]} ({2000 + p % 24})" for p in pubs],
               "Publication Source": [f"PUBMED:{11_000_000 + 7919 * p}" for p in pubs],
               "Throughput": ["Low Throughput" if p % 3 == 0 else "High Throughput"
                              for p in pubs],
               "Source Database": "BIOGRID"}
    for side, rows in (("A", a), ("B", b)):
        for name, values in feature.items():
            columns[f"{name} Interactor {side}"] = values.to_numpy()[rows]
    frame = pd.DataFrame({c: columns.get(c, "-") for c in TAB3_COLUMNS}, index=np.arange(len(a)))
    text = frame.to_csv(sep="\t", index=False, lineterminator="\n", quoting=csv.QUOTE_NONE)
    systems_count = pd.Series(system).value_counts().sort_index()
    stats = {"rows": len(a), "edges_physical": qc["edges_physical"],
             "edges_genetic": qc["edges_genetic"],
             "experimental_systems": {str(k): int(v) for k, v in systems_count.items()},
             "qc": qc}
    return text, stats, cos


# --------------------------------------------------------------------------------------------
# TF → target networks
# --------------------------------------------------------------------------------------------


def _regulons(tfs: np.ndarray, n_genes: int, size: float, key_boost: np.ndarray,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per TF, ``~size`` distinct targets (not itself) by Gumbel top-k on ``boost + Gumbel``."""
    k = np.clip(np.round(size * rng.uniform(0.5, 1.5, len(tfs))).astype(int), 1, n_genes - 1)
    key = key_boost - np.log(-np.log(rng.random((len(tfs), n_genes))))
    key[np.arange(len(tfs)), tfs] = -np.inf
    top = np.argsort(-key, axis=1, kind="stable")[:, : k.max()]
    take = np.arange(k.max())[None, :] < k[:, None]
    return np.repeat(tfs, k), top[take]


def _tf_edges(name: str, genes: GeneTable, factors: GeneFactors, tfs: np.ndarray,
              rng: np.random.Generator) -> tuple[list[tuple[str, str]], dict, float]:
    """Rows ``(tf name, target name)`` with the planted imperfections, and expected QC."""
    g = len(genes)
    if name == "regulatory":
        module = factors.module
        boost = MODULE_PREFERENCE * ((module[tfs, None] == module[None, :])
                                     & (module[tfs, None] >= 0))
    else:
        boost = np.zeros((len(tfs), g))
    tf, target = _regulons(tfs, g, REGULON_FRACTION[name] * g, boost, rng)
    cos = _mean_cosine(factors.unit, tf, target)
    n_edges = len(tf)
    n_dup, n_unmapped, n_unknown = (_n_bad(n_edges) for _ in range(3))
    n_self = max(2, round(0.2 * len(tfs)))
    known = {*genes.names.tolist(), HO_MARKER, *(s.upper() for s in genes.standard_names if s)}
    dup = rng.choice(n_edges, size=n_dup, replace=False)
    self_tf = rng.choice(tfs, size=min(n_self, len(tfs)), replace=False)
    pick_tf = rng.choice(tfs, size=n_unmapped + n_unknown)
    style = _yeastract_name if name == "regulatory" else _tflink_name
    rows = [(style(genes, int(t)), style(genes, int(x)))
            for t, x in zip(np.r_[tf, tf[dup], self_tf].tolist(),
                            np.r_[target, target[dup], self_tf].tolist(), strict=True)]
    unmapped = _unknown(n_unmapped, known, False, rng)
    # half the unknown names stand for the TF, half for the target
    rows += [(u, style(genes, int(t))) if k % 2 else (style(genes, int(t)), u)
             for k, (u, t) in enumerate(zip(unmapped, pick_tf[:n_unmapped], strict=True))]
    rows += [(style(genes, int(t)), _orf_style(orf) if name == "regulatory" else orf)
             for t, orf in zip(pick_tf[n_unmapped:], _unknown(n_unknown, known, True, rng),
                               strict=True)]
    qc = {"rows_read": len(rows), "rows_unmapped_name": n_unmapped,
          "genes_outside_universe": n_unknown, "self_loops": len(self_tf),
          "duplicate_edges_merged": n_dup, f"edges_{name}": n_edges}
    return rows, qc, cos


def _orf_style(orf: str) -> str:
    """YEASTRACT writes ORFs with a lower-case strand letter: ``YKL112w``, ``YAL068w-a``."""
    return orf[:6] + orf[6:].lower()


def _yeastract_name(genes: GeneTable, i: int) -> str:
    standard = genes.standard_names[i]
    return standard.capitalize() if standard else _orf_style(genes.names[i])


def _tflink_name(genes: GeneTable, i: int) -> str:
    return genes.standard_names[i] or genes.names[i]


def _tflink_text(rows: list[tuple[str, str]], genes: GeneTable, rng: np.random.Generator
                 ) -> str:
    index = {n: i for names in (genes.names, genes.standard_names)
             for i, n in enumerate(names.tolist()) if n}

    def ids(name: str) -> list[str]:  # UniProt accession, NCBI gene id ("-" if unknown)
        i = index.get(name)
        return ["-", "-"] if i is None else [f"P{10_000 + i:05d}", str(850_000 + i)]

    methods = ["chromatin immunoprecipitation assay", "ChIP-seq",
               "electrophoretic mobility shift assay", "inferred by curator"]
    sources = ["YEASTRACT", "GTRD", "YEASTRACT;GTRD", "JASPAR"]
    small = (rng.random(len(rows)) < 0.2).tolist()
    method = rng.integers(0, len(methods), len(rows)).tolist()
    source = rng.integers(0, len(sources), len(rows)).tolist()
    pmids = rng.integers(10_000_000, 35_000_000, size=(len(rows), 2)).tolist()
    lines = ["\t".join(TFLINK_COLUMNS)]
    for k, (tf, target) in enumerate(rows):
        (u_tf, e_tf), (u_t, e_t) = ids(tf), ids(target)
        pubmed = ";".join(map(str, pmids[k])) if small[k] else str(pmids[k][0])
        lines.append("\t".join([u_tf, u_t, e_tf, e_t, tf, target, methods[method[k]], pubmed,
                                TFLINK_ORGANISM, sources[source[k]],
                                "Yes" if small[k] else "No", "-", "-", "-", "-"]))
    return "\n".join(lines) + "\n"


def write_synthetic_networks(out_dir: PathLike, genes: GeneTable, factors: GeneFactors,
                             seed: int) -> dict[str, Any]:
    """Write the three network files under ``out_dir``; return their stats for the manifest.

    Stats: ``files`` (relative paths), ``biogrid`` / ``regulation`` / ``tflink`` (rows, edges,
    ``qc`` = the counts the readers report with the SGD genes as universe) and ``signal``
    (mean cosine ``s_ij`` of each network's distinct edges and of all pairs).
    """
    rng = np.random.default_rng([seed, RNG_STREAM])
    out_dir = Path(out_dir)
    unit = factors.unit
    biogrid_text, biogrid_stats, cos = _biogrid(genes, unit, rng)
    write_text_atomic(out_dir / BIOGRID_FILE, biogrid_text)

    named = np.flatnonzero(genes.standard_names != "")
    n_tf = max(2, round(TF_FRACTION * len(genes)))
    reg_tfs = np.sort(rng.choice(named, size=min(n_tf, len(named)), replace=False))
    reg_rows, reg_qc, cos["regulatory"] = _tf_edges("regulatory", genes, factors, reg_tfs, rng)
    reg_rows.sort(key=lambda r: r[0])  # the published table is grouped by TF
    text = "".join(f"{tf};{target}\n" for tf, target in reg_rows)
    with atomic_output(out_dir / REGULATION_FILE) as tmp, open(tmp, "wb") as raw, \
            gzip.GzipFile(filename=Path(REGULATION_FILE).stem, mode="wb", fileobj=raw,
                          compresslevel=6, mtime=0) as gz:
        gz.write(text.encode("utf-8"))

    tfl_tfs = np.sort(rng.choice(len(genes), size=n_tf, replace=False))
    tfl_rows, tfl_qc, cos["tflink"] = _tf_edges("tflink", genes, factors, tfl_tfs, rng)
    tfl_rows = [tfl_rows[k] for k in rng.permutation(len(tfl_rows))]
    write_text_atomic(out_dir / TFLINK_FILE, _tflink_text(tfl_rows, genes, rng))

    probe = rng.integers(0, len(genes), size=(20_000, 2))
    probe = probe[probe[:, 0] != probe[:, 1]]
    cos["all_pairs"] = _mean_cosine(unit, probe[:, 0], probe[:, 1])
    return {
        "files": {"biogrid": BIOGRID_FILE, "regulation": REGULATION_FILE,
                  "tflink": TFLINK_FILE},
        "biogrid": biogrid_stats,
        "regulation": {"rows": reg_qc["rows_read"], "transcription_factors": len(reg_tfs),
                       "edges": reg_qc["edges_regulatory"], "qc": reg_qc},
        "tflink": {"rows": tfl_qc["rows_read"], "transcription_factors": len(tfl_tfs),
                   "edges": tfl_qc["edges_tflink"], "qc": tfl_qc},
        "signal": {f"mean_cosine_{k}": v for k, v in cos.items()},
    }

"""Writing the synthetic data set: :func:`synthesize` and the file layout it writes.

:func:`synthesize` runs the generator end to end from one seed (genes, factors, both STRING
releases, the screen) in a fixed random-draw order, writes every file in its published format
under the paths below and returns the manifest with its key numbers.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geneint.data.files import HO_MARKER, PathLike, write_text_atomic
from geneint.data.genes import write_sgd_features
from geneint.data.kuzmin import write_kuzmin2018_tsv
from geneint.data.string_writer import write_string_links
from geneint.data.synthetic.genes import draw_factors, make_genes, sgd_feature_frame
from geneint.data.synthetic.metabolism import GEM_FILE, write_synthetic_gem
from geneint.data.synthetic.networks import (
    BIOGRID_FILE,
    REGULATION_FILE,
    TFLINK_FILE,
    write_synthetic_networks,
)
from geneint.data.synthetic.ontology import GAF_FILE, GO_OBO_FILE, write_synthetic_go
from geneint.data.synthetic.scales import (
    MIN_COMBINED_SCORE,
    RELEASES,
    ScaleSpec,
    resolve_scale,
)
from geneint.data.synthetic.screen import design_screen, observe_screen, truth_table
from geneint.data.synthetic.string_releases import (
    make_string_v9,
    make_string_v11,
    pair_cosines,
)

log = logging.getLogger(__name__)

STRING_FILE = "string/4932.protein.links.detailed.v{version}.txt.gz"
KUZMIN_FILE = "kuzmin2018/aao1729_data_s1.tsv"
SGD_FILE = "sgd/SGD_features.tab"
TRUTH_FILE = "truth/tau_noise_free.tsv"
FACTORS_FILE = "truth/gene_factors.tsv"
MANIFEST_FILE = "manifest.json"
TRUTH_HEADER = ["gene_a", "gene_b", "gene_c", "tau_noise_free"]


def _tsv(frame: pd.DataFrame, float_format: str = "%.8g") -> str:
    return frame.to_csv(sep="\t", index=False, lineterminator="\n", float_format=float_format)


def _repeated_sets(sets: np.ndarray, arity: int) -> int:
    mask = (sets[:, 2] >= 0) if arity == 3 else (sets[:, 2] < 0)
    _, counts = np.unique(sets[mask], axis=0, return_counts=True)
    return int((counts > 1).sum())


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    return round(float(np.corrcoef(a, b)[0, 1]), 4) if len(a) > 1 else None


def synthesize(out_dir: PathLike, seed: int = 0, scale: str | ScaleSpec = "demo",
               noise_sd: float | None = None) -> dict[str, Any]:
    """Write a complete synthetic raw data set (see the package docstring) into ``out_dir``.

    Args:
        out_dir: folder that receives ``string/``, ``kuzmin2018/``, ``sgd/``, ``go/``,
            ``truth/`` and ``manifest.json``; existing files are replaced atomically.
        seed: everything is drawn from ``numpy.random.default_rng(seed)`` (the GO files from
            their own stream, ``default_rng([seed, RNG_STREAM])``); the same seed gives
            byte-identical files.
        scale: ``"demo"`` (600 genes, ~20k trigenic rows), ``"seed"`` (6,607 genes, ~91k
            trigenic rows) or a :class:`ScaleSpec`.
        noise_sd: sd of the Gaussian measurement noise on τ and ε; ``None`` picks it so that
            Pearson(observed, noise-free τ) over trigenic rows is about 0.825.

    Returns:
        The manifest: ``files`` (absolute paths here; relative to ``out_dir`` in
        ``manifest.json``, so the file does not depend on where it was written) and key
        numbers — genes, edges per channel and release, gained-zero fractions, rows, repeated
        sets, noise sd, oracle Pearson.
    """
    if noise_sd is not None and not noise_sd >= 0:
        raise ValueError(f"noise_sd must be a non-negative number or None, got {noise_sd!r}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    spec = resolve_scale(scale)
    scale_name = scale if isinstance(scale, str) else "custom"
    rng = np.random.default_rng(seed)

    genes = make_genes(spec.n_genes, rng)
    factors = draw_factors(spec.n_genes, rng, n_factors=spec.n_factors, n_modules=spec.n_modules)
    log.info("genes: %s (+%s in SGD), %s modules, K=%d", f"{len(genes):,}", HO_MARKER,
             int(factors.module.max()) + 1, spec.n_factors)

    cosine = pair_cosines(factors.unit)
    v9 = make_string_v9(cosine, len(genes), rng)
    v11 = make_string_v11(v9, cosine, len(genes), rng)
    del cosine
    for version, release in zip(RELEASES, (v9, v11), strict=True):
        log.info("STRING v%s: %s pairs (%s dropped below %d), edges %s", version,
                 f"{release.stats['pairs']:,}", f"{release.stats['pairs_below_150_dropped']:,}",
                 MIN_COMBINED_SCORE, release.stats["edges"])
    log.info("v11.0 gained fraction of v9.1 zeros: %s", v11.stats["gained_zero_fraction"])

    design = design_screen(factors, spec, rng)
    screen = observe_screen(design, genes, factors, rng, noise_sd=noise_sd)
    truth = truth_table(screen, genes)

    files = {
        "string_v9.1": STRING_FILE.format(version="9.1"),
        "string_v11.0": STRING_FILE.format(version="11.0"),
        "kuzmin2018": KUZMIN_FILE,
        "sgd_features": SGD_FILE,
        "truth_tau": TRUTH_FILE,
        "truth_factors": FACTORS_FILE,
        "go_obo": GO_OBO_FILE,
        "sgd_gaf": GAF_FILE,
        "biogrid": BIOGRID_FILE,
        "regulation": REGULATION_FILE,
        "tflink": TFLINK_FILE,
        "yeast_gem": GEM_FILE,
    }
    for version, release in zip(RELEASES, (v9, v11), strict=True):
        write_string_links(release.frame(genes.names), out_dir / files[f"string_v{version}"],
                           version=version)
    write_kuzmin2018_tsv(screen.rows, out_dir / KUZMIN_FILE)
    write_sgd_features(sgd_feature_frame(genes), out_dir / SGD_FILE)
    write_text_atomic(out_dir / TRUTH_FILE, _tsv(truth))
    factor_frame = pd.DataFrame({
        "gene": genes.names, "module": factors.module, "bias": factors.bias,
        "fitness": factors.fitness,
        **{f"z{d + 1}": factors.z[:, d] for d in range(factors.z.shape[1])},
    })
    write_text_atomic(out_dir / FACTORS_FILE, _tsv(factor_frame, float_format="%.6f"))
    # Its own random stream: the files above do not change with the ontology generator.
    go_stats = write_synthetic_go(out_dir, genes, factors, seed)
    log.info("GO: %s terms (%s obsolete), %s GAF rows", f"{go_stats['obo']['terms']:,}",
             go_stats["obo"]["obsolete_terms"], f"{go_stats['gaf']['rows']:,}")
    network_stats = write_synthetic_networks(out_dir, genes, factors, seed)
    network_stats.pop("files", None)
    log.info("networks: mean cosine of edges %s", network_stats["signal"])
    gem_stats = write_synthetic_gem(out_dir, genes, factors, seed)

    tri = screen.gene_sets[:, 2] >= 0
    tau_tri = screen.tau_noise_free[tri]
    combined_col = screen.rows.iloc[:, 10].astype(float).to_numpy()
    screened = np.unique(screen.gene_sets[screen.gene_sets >= 0])
    manifest: dict[str, Any] = {
        "generator": "geneint.data.synthetic",
        "seed": seed,
        "scale": scale_name,
        "scale_spec": asdict(spec),
        "files": files,
        "genes": {
            "n_genes": len(genes),
            "n_sgd_orfs": len(genes) + 1,
            "n_factors": int(factors.z.shape[1]),
            "n_modules": int(factors.module.max()) + 1,
            "genes_without_module": int((factors.module < 0).sum()),
        },
        "string": {version: release.stats for version, release in
                   zip(RELEASES, (v9, v11), strict=True)},
        "kuzmin2018": {
            "rows": len(screen.rows),
            "trigenic_rows": int(tri.sum()),
            "digenic_rows": int((~tri).sum()),
            "double_mutant_queries": int((design.query_genes[:, 1] >= 0).sum()),
            "single_mutant_queries": int((design.query_genes[:, 1] < 0).sum()),
            "array_strains": len(design.array_genes),
            "ts_array_strains": int(design.array_ts.sum()),
            "genes_screened": len(screened),
            "unique_trigenic_sets": int((truth["gene_c"] != "").sum()),
            "unique_digenic_sets": int((truth["gene_c"] == "").sum()),
            "repeated_trigenic_sets": _repeated_sets(screen.gene_sets, 3),
            "repeated_digenic_sets": _repeated_sets(screen.gene_sets, 2),
            "rows_negative_combined_fitness": int((combined_col < 0).sum()),
        },
        "signal": {
            "noise_sd": round(screen.noise_sd, 6),
            "oracle_pearson_trigenic": _pearson(screen.tau_observed[tri], tau_tri),
            "tau_noise_free_min": round(float(tau_tri.min()), 4) if len(tau_tri) else None,
            "tau_noise_free_max": round(float(tau_tri.max()), 4) if len(tau_tri) else None,
            "tau_noise_free_sd": round(float(tau_tri.std()), 4) if len(tau_tri) else None,
            "fraction_tau_below_-0.05": round(float((tau_tri < -0.05).mean()), 4)
            if len(tau_tri) else None,
            "fraction_tau_above_0.05": round(float((tau_tri > 0.05).mean()), 4)
            if len(tau_tri) else None,
        },
        "go": go_stats,
        "networks": network_stats,
        "metabolism": gem_stats,
    }
    write_text_atomic(out_dir / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
    log.info("screen: %s trigenic + %s digenic rows, %s genes, %d repeated triples; noise sd "
             "%.4f, oracle Pearson %s", f"{manifest['kuzmin2018']['trigenic_rows']:,}",
             f"{manifest['kuzmin2018']['digenic_rows']:,}", f"{len(screened):,}",
             manifest["kuzmin2018"]["repeated_trigenic_sets"], screen.noise_sd,
             manifest["signal"]["oracle_pearson_trigenic"])
    log.info("synthetic data set (seed %d, scale %s) written to %s in %.1f s", seed, scale_name,
             out_dir, time.perf_counter() - started)
    result = dict(manifest)
    result["files"] = {k: str(out_dir / v) for k, v in files.items()}
    result["files"]["manifest"] = str(out_dir / MANIFEST_FILE)
    return result

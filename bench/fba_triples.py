"""FBA trigenic scores per second on one core: every deletion a triple's τ needs, solved once
through :class:`~geneint.models.fba.DeletionFitness`'s cache — medians over repeated runs.

    python bench/fba_triples.py [--gem path/to/yeast-GEM.yml]
                                [--triples 200] [--repeats 3]

Model: ``--gem`` (SBML, YAML or cobra JSON), by default the synthetic GEM of ``geneint synth``
(``--scale demo`` or ``seed``) written to a temporary folder. ``N`` random triples of distinct
in-model genes are drawn (``--seed``). Figures:

- ``load``: reading ``--gem``, and the same model from cobra JSON (what FBA jobs read);
- ``lp``: one wild-type ``slim_optimize``, and the mean time per LP of the cold run;
- ``cold``: a fresh cache — :func:`required_gene_sets`, every deletion (LPs, or none when the
  set disables no reaction), Kuzmin's τ; ``warm``: the same triples again, every set cached.

The process is pinned to one core. Rows are printed and appended to ``bench/results.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cobra
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    return {"cpu": cpu, "cores_used": len(os.sched_getaffinity(0)),
            "python": platform.python_version(), "cobra": cobra.__version__,
            "solver": cobra.Configuration().solver.__name__.rsplit(".", 1)[-1]}


def synthetic_gem(folder: Path, scale: str, seed: int) -> Path:
    from geneint.data.synthetic import draw_factors, make_genes, resolve_scale
    from geneint.data.synthetic.metabolism import GEM_FILE, write_synthetic_gem

    spec = resolve_scale(scale)
    rng = np.random.default_rng(seed)
    genes = make_genes(spec.n_genes, rng)
    factors = draw_factors(spec.n_genes, rng, n_factors=spec.n_factors,
                           n_modules=spec.n_modules)
    write_synthetic_gem(folder, genes, factors, seed)
    return folder / GEM_FILE


def timed(fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - start


def main() -> None:
    from geneint.data.metabolism import load_gem
    from geneint.models.fba import DeletionFitness, required_gene_sets
    from geneint.train.fba import interaction_scores

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gem", help="model file (default: the synthetic GEM)")
    parser.add_argument("--scale", choices=("demo", "seed"), default="demo")
    parser.add_argument("--triples", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", default=str(HERE / "results.jsonl"))
    parser.add_argument("--skip-unused", action=argparse.BooleanOptionalAction, default=True,
                        help="no LP when the lost reactions carry no wild-type (pFBA) flux")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as one Slurm task

    with tempfile.TemporaryDirectory() as tmp:
        gem = Path(args.gem) if args.gem else synthetic_gem(Path(tmp), args.scale, args.seed)
        model, load_s = timed(load_gem, gem)
        cobra.io.save_json_model(model, str(Path(tmp) / "model.json"))
        _, json_load_s = timed(load_gem, Path(tmp) / "model.json")
    genes = sorted(g.id for g in model.genes)
    rng = np.random.default_rng(args.seed)
    triples = pd.DataFrame([sorted(rng.choice(genes, size=3, replace=False))
                            for _ in range(args.triples)], columns=["gene_a", "gene_b", "gene_c"])
    wild = [timed(model.slim_optimize)[1] for _ in range(20)]

    def cold() -> tuple[DeletionFitness, pd.DataFrame]:
        fitness = DeletionFitness(model, skip_unused=args.skip_unused)
        for key in required_gene_sets(triples.to_numpy().tolist(), fitness.genes):
            fitness(key)
        return fitness, interaction_scores(triples, fitness)

    runs, warm_runs = [], []
    for _ in range(args.repeats):
        (fitness, scores), seconds = timed(cold)
        runs.append(seconds)
        warm_runs.append(timed(interaction_scores, triples, fitness)[1])
    stats = fitness.stats()
    tau = scores["tau"].to_numpy()
    cold_s, warm_s = statistics.median(runs), statistics.median(warm_runs)
    row = {"benchmark": "FBA triples per second (one core)", "gem": str(gem),
           "genes": len(model.genes), "reactions": len(model.reactions),
           "growth": model.slim_optimize(), "triples": args.triples, "repeats": args.repeats,
           "skip_unused": args.skip_unused,
           "load_s": load_s, "json_load_s": json_load_s,
           "wild_type_lp_s": statistics.median(wild), "lp_s": cold_s / max(1, stats["lps_solved"]),
           "cold_s": cold_s, "cold_runs": runs, "cold_triples_per_s": args.triples / cold_s,
           "warm_s": warm_s, "warm_triples_per_s": args.triples / warm_s, **stats,
           "deletion_sets": stats["cached_sets"],
           "tau_nonzero": int((np.abs(tau) > 1e-6).sum()),
           "tau_min": float(tau.min()), "tau_max": float(tau.max()),
           "machine": {**machine(), "command": " ".join(sys.argv),
                       "date": time.strftime("%Y-%m-%d %H:%M")}}
    print(f"# {row['machine']['cpu']}, 1 core, cobra {cobra.__version__}, median of "
          f"{args.repeats}; {gem.name}: {row['genes']} genes, {row['reactions']} reactions, "
          f"growth {row['growth']:.4g}")
    print(f"load {load_s:.2f} s ({gem.suffix}), from cobra JSON {json_load_s:.2f} s; "
          f"wild-type LP {row['wild_type_lp_s'] * 1e3:.1f} ms")
    print(f"cold: {cold_s:.2f} s for {args.triples} triples = {row['cold_triples_per_s']:.1f} "
          f"triples/s; {stats['cached_sets']} deletion sets, {stats['lps_solved']} LPs "
          f"({row['lp_s'] * 1e3:.1f} ms each incl. knockout, {stats['lps_retried']} retried); "
          f"no LP: {stats['lps_skipped']} lose no reaction, {stats['lps_unused']} lose only "
          "reactions without wild-type flux")
    print(f"warm: {warm_s * 1e3:.1f} ms = {row['warm_triples_per_s']:.0f} triples/s; "
          f"τ ≠ 0 for {row['tau_nonzero']} of {args.triples} (range {row['tau_min']:.3g} .. "
          f"{row['tau_max']:.3g})")
    with open(args.results, "a") as log:
        log.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()

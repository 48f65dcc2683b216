"""GRAPE's training step at Norman's size: seconds per optimiser step and peak memory, with the
original's settings (hidden 256, 3 structure-learning layers × 3 heads, 4 GAT heads) except
that each gene keeps its 20 strongest edges instead of the 0.015 threshold, a description view
of 768 and a sequence view of 256 dimensions (BERT and HyenaDNA sizes), a quarter of the genes
non-coding — medians over repeated runs, each in a fresh process.

    python bench/grape_step.py [--genes 5045] [--perturbations 32] [--neighbours 20]
                               [--repeats 3] [--threads 2]

A step runs the model once per perturbation in the batch (the original's 32 random cells touch
about 32 perturbations), so its cost grows with ``--perturbations`` and with the genes squared
(structure learning is dense over gene pairs). Random features and targets: the cost does not
depend on the values, except through the number of edges the thresholds keep, which is printed.
Rows are printed and appended to ``bench/results.jsonl``; ``docs/benchmarks.md`` quotes them.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import seed_scale  # noqa: E402  (fresh-process runs, peak RSS, results rows)

VIEW_DIMS = (768, 256)


def measure_steps(genes: int, perturbations: int, steps: int, neighbours: int) -> dict:
    import numpy as np
    import torch
    import torch.nn.functional as F

    from geneint.schema import config_default
    from geneint.train.grape import GrapeSettings, build_model, factor_matrix

    settings = GrapeSettings.from_mapping({**config_default("perturbation.response.grape"),
                                           "neighbours": neighbours})
    rng = np.random.default_rng(0)
    views = [rng.normal(size=(genes, d)).astype(np.float32) for d in VIEW_DIMS]
    coding = rng.random(genes) >= 0.25
    torch.manual_seed(0)
    model = build_model(genes, views, coding, settings)
    view_tensors = [torch.as_tensor(v) for v in views]
    model.set_initial_graph(view_tensors)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.lr)
    control = torch.zeros(genes)
    target = torch.as_tensor(rng.normal(size=(perturbations, genes)).astype(np.float32))
    seconds, edges = [], 0
    for step in range(steps + 1):                 # the first step warms up
        knocked = [[int(g)] for g in rng.choice(genes, perturbations, replace=False)]
        started = time.perf_counter()
        optimiser.zero_grad()
        profiles, graph = model(view_tensors, factor_matrix(knocked, genes, 0.0), control)
        loss = F.mse_loss(profiles, target) + F.mse_loss(graph, model.initial)
        loss.backward()
        optimiser.step()
        if step:
            seconds.append(time.perf_counter() - started)
        edges = int((graph > 0).sum())
    return {"step_seconds": statistics.median(seconds), "genes": genes,
            "perturbations": perturbations, "initial_edges": int((model.initial > 0).sum()),
            "learned_edges": edges, "hidden": settings.hidden}


def main() -> None:
    parser = seed_scale.epoch_bench_parser(__doc__)
    parser.add_argument("--genes", type=int, default=5045, help="Norman's gene count")
    parser.add_argument("--perturbations", type=int, default=32, help="per step")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per run")
    parser.add_argument("--neighbours", type=int, default=20,
                        help="strongest edges kept per gene (config/perturbation_norman.yaml's"
                             " 20; 0 = the threshold alone, which keeps no edge at this size)")
    args = parser.parse_args()
    if args.what == "_child":
        seed_scale.report_child(args.threads, lambda: measure_steps(
            args.genes, args.perturbations, args.steps, args.neighbours))
        return
    info = seed_scale.run_info(args)
    results = [seed_scale.run_script(__file__, "_child", "--genes", str(args.genes),
                                     "--perturbations", str(args.perturbations),
                                     "--steps", str(args.steps), "--neighbours",
                                     str(args.neighbours), "--threads", str(args.threads))
               for _ in range(args.repeats)]
    runs = [r["step_seconds"] for r in results]
    title = "GRAPE training step (s)"
    row = {"benchmark": title, "setup": f"{args.genes} genes, {args.perturbations}"
                                        " perturbations per step",
           "runs": runs, "median": statistics.median(runs),
           "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
           **{k: v for k, v in results[0].items() if k != "step_seconds"}}
    print(f"{title}: median {row['median']:.4g} (runs {', '.join(f'{r:.4g}' for r in runs)};"
          f" peak RSS {row['peak_rss_mb']:.0f} MB; {row['learned_edges']} learned edges)",
          flush=True)
    seed_scale.write_rows(args.results, {"grape": row}, info)


if __name__ == "__main__":
    main()

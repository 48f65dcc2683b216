"""CaTran's training throughput (cells/s) and peak memory on a synthetic Perturb-seq data set of
2,000 genes × 50,000 cells, and the CausalBench evaluator's time for a 1,000-edge network —
medians over repeated runs, each in a fresh process.

    python bench/catran_throughput.py [--data bench/.data] [--repeats 3] [--threads 2]

Data: ``geneint perturbation synth`` with 2,000 genes (1.5 parents each), 10,000 controls and
20 cells per knocked-down gene (50,000 cells), preprocessed as the workflow does and split
80/20. CaTran trains with the schema's defaults (the original's: batches of 2,048 cells, 25 per
intervention, 500 sampled genes, 11 attention blocks, Lion) on every training cell (the
interventional regime); ``--steps`` optimiser steps are timed after a warm-up step. The
evaluator scores 1,000 random edges on the 10,000 test cells with the false omission rate
from 500 sampled pairs (the workflow's setting). Rows are printed and appended to
``bench/results.jsonl``; ``docs/benchmarks.md`` quotes them.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import seed_scale  # noqa: E402  (fresh-process runs, peak RSS, results rows)

SCALES = {"seed": {"genes": 2000, "control_cells": 10_000, "cells_per_perturbation": 20},
          "demo": {"genes": 40, "control_cells": 1000, "cells_per_perturbation": 100}}


def prepare(data: Path, scale: str) -> tuple[Path, Path]:
    """cells.h5ad + split.tsv of the benchmark's data set (made once)."""
    folder = data / "perturbation" / scale
    cells, split = folder / "cells.h5ad", folder / "split.tsv"
    if not cells.exists():
        settings = SCALES[scale]
        seed_scale.geneint("perturbation", "synth", "--genes", str(settings["genes"]),
                           "--control-cells", str(settings["control_cells"]),
                           "--cells-per-perturbation", str(settings["cells_per_perturbation"]),
                           "--out", str(folder / "raw"))
        seed_scale.geneint("perturbation", "prepare", "--raw", str(folder / "raw" / "cells.h5ad"),
                           "--min-cells", "10", "--out", str(cells), "--split", str(split))
    return cells, split


def load(cells_path: Path, split_path: Path):
    from geneint.data.single_cell.anndata_io import read_cells
    from geneint.data.single_cell.preprocess import read_split

    cells = read_cells(cells_path)
    return cells, read_split(split_path, cells.n_obs)


def measure_training(cells_path: Path, split_path: Path, steps: int) -> dict:
    import lightning as L
    import numpy as np

    from geneint.data.single_cell.anndata_io import INTERVENTION
    from geneint.schema import config_default
    from geneint.train.catran import CaTranModule, CaTranSettings, batches
    from geneint.train.grn import knockdown_index

    cells, roles = load(cells_path, split_path)
    train = cells[roles == "train"]
    labels = train.obs[INTERVENTION].astype(str).to_numpy()
    expression = np.asarray(train.X, dtype=np.float32)
    settings = CaTranSettings.from_mapping(config_default("perturbation.catran"))
    loader = batches(expression, knockdown_index(labels, list(train.var_names)), labels,
                     settings, seed=0)

    class StepTimer(L.Callback):
        def __init__(self) -> None:
            self.starts: list[float] = []

        def on_train_batch_start(self, *args) -> None:
            self.starts.append(time.perf_counter())

        def on_train_end(self, *args) -> None:
            self.starts.append(time.perf_counter())

    timer = StepTimer()
    L.seed_everything(0)
    trainer = L.Trainer(accelerator="cpu", max_steps=steps + 1, callbacks=[timer],
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    trainer.fit(CaTranModule(cells.n_vars, settings), loader)
    seconds = timer.starts[-1] - timer.starts[1]          # after the warm-up step
    return {"cells_per_second": steps * loader.batch_size / seconds,
            "step_seconds": seconds / steps, "batch_size": loader.batch_size,
            "train_cells": len(labels), "genes": cells.n_vars,
            "sampled_genes": min(settings.sample_genes, cells.n_vars)}


def measure_evaluator(cells_path: Path, split_path: Path, edges: int) -> dict:
    import numpy as np

    from geneint.data.single_cell.anndata_io import INTERVENTION
    from geneint.evaluate.causal import StatisticalEvaluator
    from geneint.models.grn_baselines import random_network

    cells, roles = load(cells_path, split_path)
    test = cells[roles == "test"]
    genes = list(cells.var_names)
    network = random_network(len(genes), edges, seed=0)
    names = np.asarray(genes, dtype=object)
    started = time.perf_counter()
    evaluator = StatisticalEvaluator(np.asarray(test.X), test.obs[INTERVENTION].astype(str),
                                     genes)
    metrics, _ = evaluator.evaluate(names[network.sources], names[network.targets], 500)
    return {"seconds": time.perf_counter() - started, "edges": edges,
            "test_cells": int(test.n_obs), "precision": metrics["precision"]}


def run_child(data: Path, scale: str, threads: int, kind: str, amount: int) -> dict:
    return seed_scale.run_script(__file__, "_child", "--data", str(data), "--scale", scale,
                                 "--threads", str(threads), "--kind", kind,
                                 "--amount", str(amount))


def main() -> None:
    parser = seed_scale.epoch_bench_parser(__doc__)
    parser.add_argument("--steps", type=int, default=10, help="timed optimiser steps")
    parser.add_argument("--edges", type=int, default=1000, help="edges the evaluator scores")
    parser.add_argument("--kind", choices=("training", "evaluator"))   # child only
    parser.add_argument("--amount", type=int)                          # child only
    args = parser.parse_args()
    data = Path(args.data)
    if args.what == "_child":
        cells, split = prepare(data, args.scale)
        measure = measure_training if args.kind == "training" else measure_evaluator
        seed_scale.report_child(args.threads, lambda: measure(cells, split, args.amount))
        return
    prepare(data, args.scale)
    info = seed_scale.run_info(args)
    rows = {}
    for kind, amount, metric, title in (
            ("training", args.steps, "cells_per_second", "CaTran training throughput (cells/s)"),
            ("evaluator", args.edges, "seconds", f"CausalBench evaluation of {args.edges} edges"
                                                 " (s)")):
        results = [run_child(data, args.scale, args.threads, kind, amount)
                   for _ in range(args.repeats)]
        runs = [r[metric] for r in results]
        rows[kind] = {"benchmark": title, "setup": f"{results[0].get('genes', '')} genes"
                      if kind == "training" else f"{results[0]['test_cells']} test cells",
                      "runs": runs, "median": statistics.median(runs),
                      "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
                      **{k: v for k, v in results[0].items() if k not in (metric,)}}
        print(f"{title}: median {rows[kind]['median']:.4g} (runs "
              f"{', '.join(f'{r:.4g}' for r in runs)}; peak RSS "
              f"{rows[kind]['peak_rss_mb']:.0f} MB)", flush=True)
    seed_scale.write_rows(args.results, rows, info)


if __name__ == "__main__":
    main()

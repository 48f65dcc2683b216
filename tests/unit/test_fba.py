"""FBA deletion fitness and Kuzmin's scores on toy models with known answers, the synthetic GEM,
and the metabolism tables (plus one slow test on the real Yeast-GEM)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import cobra
import numpy as np
import pandas as pd
import pytest

from geneint.data.files import InputFormatError, QCReport
from geneint.data.metabolism import (
    MODEL_FILE,
    gem_relations,
    gpr_clauses,
    load_gem,
    read_metabolism,
    read_metabolism_model,
    write_metabolism,
)
from geneint.data.synthetic import draw_factors, make_genes
from geneint.data.synthetic.metabolism import GEM_FILE, write_synthetic_gem
from geneint.models.fba import DeletionFitness, plan_chunks, required_gene_sets
from geneint.train.fba import (
    fba_predictions,
    growth_table,
    interaction_scores,
    read_growth_tables,
    write_growth_table,
)


def toy_model(routes: dict[str, tuple[str, float]]) -> cobra.Model:
    """Uptake of ``a`` (≤ 10), routes ``a → b`` (id: (GPR, capacity)), biomass ``b →``."""
    model = cobra.Model("toy")
    a, b = cobra.Metabolite("a", compartment="c"), cobra.Metabolite("b", compartment="c")
    reactions = [cobra.Reaction("EX_a", lower_bound=-10, upper_bound=0),
                 cobra.Reaction("BIOMASS", lower_bound=0, upper_bound=1000)]
    reactions[0].add_metabolites({a: -1})
    reactions[1].add_metabolites({b: -1})
    for rid, (gpr, capacity) in routes.items():
        rxn = cobra.Reaction(rid, lower_bound=0, upper_bound=capacity)
        rxn.add_metabolites({a: -1, b: 1})
        rxn.gene_reaction_rule = gpr
        reactions.append(rxn)
    model.add_reactions(reactions)
    model.objective = "BIOMASS"
    return model


def pairs(*sets: tuple[str, ...]) -> pd.DataFrame:
    rows = [list(s) + [""] * (3 - len(s)) for s in sets]
    return pd.DataFrame(rows, columns=["gene_a", "gene_b", "gene_c"])


@pytest.mark.parametrize("skip", [True, False])
def test_isozymes_are_synthetic_lethal(skip: bool) -> None:
    fitness = DeletionFitness(toy_model({"R": ("A or B", 1000)}), skip_unaffected=skip)
    assert fitness.wild_type == pytest.approx(10)
    assert (fitness(["A"]), fitness(["B"]), fitness(["A", "B"])) == (1.0, 1.0, 0.0)
    assert interaction_scores(pairs(("A", "B")), fitness)["tau"].tolist() == [-1.0]
    # One isozyme alone disables no reaction: with skipping, only the double needs an LP.
    assert fitness.lps_solved == (1 if skip else 3)


def test_complex_subunits_are_each_lethal_without_interaction() -> None:
    fitness = DeletionFitness(toy_model({"R": ("A and B", 1000)}))
    assert (fitness(["A"]), fitness(["B"]), fitness(["A", "B"])) == (0.0, 0.0, 0.0)
    assert interaction_scores(pairs(("A", "B")), fitness)["tau"].tolist() == [0.0]


def test_parallel_routes_give_known_tau_and_a_series_gene_masks_it() -> None:
    # Three routes of capacity 5 each for an uptake of 10: any one is dispensable, any two
    # halve growth, all three kill: f_i = 1, f_ij = 0.5, f_ijk = 0, so ε_ij = −0.5 and
    # τ = 0 − 1 − 3 · (−0.5) = +0.5. D is a second, essential step in series.
    model = toy_model({"RA": ("A", 5), "RB": ("B", 5), "RC": ("C", 5)})
    c_met = cobra.Metabolite("c", compartment="c")
    model.reactions.BIOMASS.add_metabolites({model.metabolites.b: 1, c_met: -1})
    step = cobra.Reaction("RD", upper_bound=1000)
    step.add_metabolites({model.metabolites.b: -1, c_met: 1})
    step.gene_reaction_rule = "D"
    model.add_reactions([step])
    fitness = DeletionFitness(model)
    scores = interaction_scores(pairs(("A", "B", "C"), ("A", "B", "D"), ("A", "B")), fitness)
    assert scores["f_ab"].tolist() == [0.5, 0.5, 0.5]
    assert scores["eps_ab"].tolist() == [-0.5, -0.5, -0.5]
    assert scores["tau"].tolist() == pytest.approx([0.5, 0.0, -0.5], abs=1e-12)
    assert scores["f_c"].tolist() == [1.0, 0.0, 1.0]


def test_genes_outside_the_model_have_fitness_one_and_zero_tau() -> None:
    fitness = DeletionFitness(toy_model({"RA": ("A", 5), "RB": ("B or C", 5)}))
    assert fitness(["X"]) == fitness(["X", "Y"]) == 1.0
    scores = interaction_scores(pairs(("A", "X", "Y"), ("A", "B", "X"), ("B", "C", "X"),
                                      ("X", "Y", "Z")), fitness)
    assert scores["tau"].tolist() == [0.0, 0.0, 0.0, 0.0]  # exactly
    assert scores["f_abc"].tolist() == [0.5, 0.5, 0.5, 1.0]


def test_each_gene_set_is_solved_once() -> None:
    model = toy_model({"RA": ("A", 5), "RB": ("B", 5), "RC": ("C", 5)})
    fitness = DeletionFitness(model, skip_unused=False)
    interaction_scores(pairs(("A", "B", "C"), ("A", "B", "C"), ("A", "B", "X")), fitness)
    # Distinct in-model sets: A, B, C, AB, AC, BC, ABC — 7 LPs; everything else is a hit.
    assert fitness.stats() == {"lps_solved": 7, "lps_skipped": 0, "lps_unused": 0,
                               "lps_retried": 0, "cache_hits": 14, "cached_sets": 7}
    fitness(("C", "A", "B"))
    assert fitness.lps_solved == 7 and fitness.cache_hits == 15


def test_deleting_reactions_without_wild_type_flux_needs_no_lp() -> None:
    # Route B costs two a per b, so the parsimonious optimum leaves it unused.
    model = toy_model({"RA": ("A", 1000), "RB": ("B", 1000)})
    model.reactions.RB.add_metabolites({model.metabolites.a: -1})
    fitness = DeletionFitness(model)
    assert fitness.unused == {"RB"}
    assert (fitness(["B"]), fitness(["A"]), fitness(["A", "B"])) == (1.0, 0.5, 0.0)
    assert (fitness.lps_unused, fitness.lps_solved) == (1, 2)
    assert DeletionFitness(model, skip_unused=False)(["B"]) == 1.0


def test_stalled_lps_are_retried_then_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    model = toy_model({"RA": ("A", 5), "RB": ("B", 5), "RC": ("C", 5)})
    fitness = DeletionFitness(model, skip_unused=False)
    stalls = {"left": 1, "now": False}
    solve, real_status = model.slim_optimize, type(model.solver).status

    def slim_optimize(*args, **kwargs):  # the next n LPs end as GLPK's time limit would
        stalls["now"] = stalls["left"] > 0
        stalls["left"] -= 1
        return float("nan") if stalls["now"] else solve(*args, **kwargs)

    monkeypatch.setattr(model, "slim_optimize", slim_optimize)
    monkeypatch.setattr(type(model.solver), "status", property(
        lambda solver: "time_limit" if stalls["now"] else real_status.fget(solver)))
    assert fitness(["A", "B"]) == 0.5 and fitness.lps_retried == 1
    stalls["left"] = 3
    with pytest.raises(RuntimeError, match="A;C"):
        fitness(["C", "A"])
    import swiglpk

    config = model.solver.configuration
    assert config.timeout is None and config._smcp.meth == swiglpk.GLP_PRIMAL  # restored


def test_kuzmin_formulas_match_hand_computed_numbers() -> None:
    f = {("A",): 0.9, ("B",): 0.8, ("C",): 0.7, ("A", "B"): 0.6, ("A", "C"): 0.65,
         ("B", "C"): 0.5, ("A", "B", "C"): 0.2}
    scores = interaction_scores(pairs(("C", "A", "B"), ("B", "A")), f)
    # ε_ab = 0.6 − 0.72; τ = 0.2 − 0.504 + 0.12·0.7 − 0.02·0.8 + 0.06·0.9
    assert scores["eps_ab"].iloc[1] == pytest.approx(-0.12)
    assert scores["tau"].tolist() == pytest.approx([-0.182, -0.12])
    with pytest.raises(KeyError, match="required_gene_sets"):
        interaction_scores(pairs(("A", "D")), f)


def test_required_sets_and_chunks_cover_every_set_once() -> None:
    sets = [("C", "A", "B"), ("A", "B", ""), ("B", "D", "X")]
    needed = required_gene_sets(sets)
    assert needed[:4] == [("A",), ("B",), ("C",), ("D",)]
    assert len(needed) == len(set(needed)) == 5 + 6 + 2  # singles, pairs, triples
    assert ("B", "D") in required_gene_sets(sets, model_genes={"A", "B", "C", "D"})
    assert ("X",) not in required_gene_sets(sets, model_genes={"A", "B", "C", "D"})
    chunks = plan_chunks(needed, 5)
    flat = [s for chunk in chunks for s in chunk]
    assert sorted(flat) == sorted(needed) and len(flat) == len(needed)
    rng = np.random.default_rng(0)
    shuffled = [tuple(rng.permutation(s)) for s in rng.permutation(np.array(needed, object))]
    assert plan_chunks(shuffled, 5) == chunks
    assert [len(c) for c in plan_chunks(needed[:2], 4)] == [1, 1, 0, 0]
    with pytest.raises(ValueError, match="2 or 3"):
        required_gene_sets([("A",)])


def test_growth_tables_from_chunks_combine(tmp_path: Path) -> None:
    model = toy_model({"RA": ("A", 5), "RB": ("B", 5), "RC": ("C", 5)})
    sets = [("A", "B", "C"), ("A", "B", "")]
    paths = []
    for i, chunk in enumerate(plan_chunks(required_gene_sets(sets), 2)):
        path = tmp_path / f"chunk{i}.{'tsv' if i else 'parquet'}"
        write_growth_table(growth_table(DeletionFitness(model), chunk), path)
        paths.append(path)
    combined = read_growth_tables(paths)
    assert len(combined) == 7 and combined[("A", "B")] == 0.5
    scores = interaction_scores(pairs(*sets), combined)
    assert scores["tau"].tolist() == pytest.approx([0.5, -0.5])
    clash = tmp_path / "clash.tsv"
    clash.write_text("genes\tfitness\nA;B\t0.4\n")
    with pytest.raises(InputFormatError, match="clash.tsv:2"):
        read_growth_tables([*paths, clash])


def test_fba_predictions_have_the_predictions_format(tmp_path: Path) -> None:
    from geneint.data.canonical import gene_set_frame
    from geneint.train.predictions import read_predictions, write_predictions
    from geneint.train.sets import SplitSets, set_tensors

    frame = gene_set_frame([["A", "B", "C"], ["A", "B"], ["A", "X"], ["B", "C", "X"]])
    frame["tau"] = [0.1, -0.2, 0.0, 0.3]
    tensors = set_tensors(frame, ["A", "B", "C", "X"])
    data = SplitSets(frame, ["A", "B", "C", "X"], {"train": tensors.subset(np.array([0, 3])),
                                                   "val": tensors.subset(np.array([1])),
                                                   "test": tensors.subset(np.array([2]))},
                     tau_scale=None)
    fitness = DeletionFitness(toy_model({"RA": ("A", 5), "RB": ("B", 5), "RC": ("C", 5)}))
    predicted = fba_predictions(data, fitness)
    write_predictions(predicted, tmp_path / "predictions.parquet")
    back = read_predictions(tmp_path / "predictions.parquet").set_index("set_id")
    assert back["role"].to_dict() == {0: "train", 3: "train", 1: "val", 2: "test"}
    assert back["tau_pred"].to_dict() == pytest.approx({0: 0.5, 3: 0.0, 1: -0.5, 2: 0.0})


# ---------------------------------------------------------------------------------------------
# The synthetic GEM and the metabolism tables
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_gem(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, object]:
    rng = np.random.default_rng(0)
    genes = make_genes(600, rng)
    factors = draw_factors(600, rng)
    out = tmp_path_factory.mktemp("gem")
    started = time.perf_counter()
    stats = write_synthetic_gem(out, genes, factors, seed=3)
    stats["seconds"] = time.perf_counter() - started
    return out, stats, (genes, factors)


def test_synthetic_gem_is_deterministic_bytes(synthetic_gem, tmp_path: Path) -> None:
    out, stats, (genes, factors) = synthetic_gem
    assert stats["seconds"] < 3
    again = write_synthetic_gem(tmp_path, genes, factors, seed=3)
    assert again == {k: v for k, v in stats.items() if k != "seconds"}
    first = (out / GEM_FILE).read_bytes()
    assert (tmp_path / GEM_FILE).read_bytes() == first
    # Another process with another string-hash seed (cobra collects genes in sets).
    code = ("import numpy as np, sys; from geneint.data.synthetic import draw_factors, "
            "make_genes; from geneint.data.synthetic.metabolism import write_synthetic_gem; "
            "rng = np.random.default_rng(0); g = make_genes(600, rng); "
            "write_synthetic_gem(sys.argv[1], g, draw_factors(600, rng), seed=3)")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "other")], check=True, env=env)
    assert hashlib.sha256((tmp_path / "other" / GEM_FILE).read_bytes()).digest() == \
        hashlib.sha256(first).digest()
    write_synthetic_gem(tmp_path / "seed4", genes, factors, seed=4)
    assert (tmp_path / "seed4" / GEM_FILE).read_bytes() != first


def test_synthetic_gem_grows_and_has_the_planted_interactions(synthetic_gem) -> None:
    out, stats, (genes, factors) = synthetic_gem
    model = load_gem(out / GEM_FILE)
    assert 80 <= len(model.genes) <= 120 and 130 <= len(model.reactions) <= 170
    fitness = DeletionFitness(model)
    assert fitness.wild_type == pytest.approx(stats["growth"], rel=1e-6) and stats["growth"] > 0
    singles = np.array([fitness([g.id]) for g in model.genes])
    assert int((singles == 0).sum()) == stats["essential_genes"] > 0
    assert ((singles > 0) & (singles < 1)).any()  # bypasses and respiration: partial fitness
    isozymes = pairs(*(tuple(s.split("+")) for s in stats["examples"]["isozymes"]))
    assert (interaction_scores(isozymes, fitness)["tau"] == -1.0).all()
    triples = pairs(*(tuple(s.split("+")) for s in stats["examples"]["isozymes3"]))
    assert (interaction_scores(triples, fitness)["tau"] == -1.0).all()
    # Metabolic genes come from a few modules of the planted signal.
    index = {name: i for i, name in enumerate(genes.names)}
    modules = factors.module[[index[g.id] for g in model.genes]]
    assert len(set(modules.tolist())) <= 5


def test_metabolism_tables_on_the_synthetic_gem(synthetic_gem, tmp_path: Path) -> None:
    out, _, (genes, _) = synthetic_gem
    model = load_gem(out / GEM_FILE)
    dropped = sorted(g.id for g in model.genes)[:5]
    index = [g for g in genes.names.tolist() if g not in dropped]
    qc = QCReport(out / GEM_FILE)
    tables = gem_relations(model, index, qc)
    assert qc.counts["gpr_genes_not_in_gene_index"] == 5
    assert len(qc.examples["gpr_genes_not_in_gene_index"]) == 5
    assert not set(dropped) & set(tables.gene_reaction["gene"])
    assert qc.counts["reactions"] == len(model.reactions) and qc.counts["exchange_reactions"] == 3
    assert qc.info["metabolites_per_compartment"].keys() == {"c", "e", "m"}
    groups = tables.gene_reaction.groupby("reaction")
    assert groups.get_group("RESP")["gpr_group"].tolist() == [0, 0, 0]  # complex
    assert sorted(groups.get_group("GLCt")["gpr_group"]) == [0, 1]  # isozymes
    rm = tables.reaction_metabolite
    assert rm.loc[rm["reaction"] == "GLYC", "coefficient"].tolist() == [-1.0, 2.0]
    gp = tables.gene_pairs
    assert (gp["gene_a"] < gp["gene_b"]).all() and gp["weight"].dtype == np.float32
    assert set(gp["network"]) == {"metabolism"} and not gp["directed"].any()
    write_metabolism(tables, model, tmp_path)
    back = read_metabolism(tmp_path)
    pd.testing.assert_frame_equal(back.gene_pairs, gp)
    pd.testing.assert_frame_equal(back.gene_reaction, tables.gene_reaction)
    assert read_metabolism_model(tmp_path).slim_optimize() == pytest.approx(
        model.slim_optimize())


def test_gpr_clauses_and_unreadable_models(tmp_path: Path) -> None:
    gpr = cobra.core.GPR.from_string("(A and B) or (C and (D or E)) or A and B")
    assert gpr_clauses(gpr) == [["A", "B"], ["C", "D"], ["C", "E"]]
    bad = tmp_path / "broken.xml"
    bad.write_text("<sbml>not a model")
    with pytest.raises(InputFormatError, match="broken.xml"):
        load_gem(bad)
    with pytest.raises(InputFormatError, match="unknown model format"):
        load_gem(tmp_path.joinpath("model.mat").touch() or tmp_path / "model.mat")


@pytest.mark.realdata
@pytest.mark.slow
def test_real_yeast_gem(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "yeast_gem" / "yeast-GEM.yml"
    if not path.exists():
        pytest.skip(f"{path} not found")
    model = load_gem(path)
    assert (len(model.reactions), len(model.genes)) == (4131, 1161)
    growth = model.slim_optimize()
    assert growth == pytest.approx(0.0858, abs=5e-5)
    qc = QCReport(path)
    tables = gem_relations(model, None, qc)
    assert len(tables.gene_reaction) > 0 and tables.gene_reaction["gene"].nunique() == 1161
    assert qc.counts["reactions_without_gpr"] > 0 and qc.counts["exchange_reactions"] > 0
    write_metabolism(tables, model, tmp_path)
    reloaded = load_gem(tmp_path / MODEL_FILE)
    assert reloaded.slim_optimize() == pytest.approx(growth, rel=1e-9)
    # HEM13 is essential in the model; GLPK's warm-started primal simplex can stall on it
    # (minutes), the dual retry answers in about a second.
    fitness = DeletionFitness(reloaded)
    assert fitness(["YDR044W"]) == 0.0 and fitness(["YDR044W", "YAL001C"]) == 0.0

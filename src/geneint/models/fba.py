"""Flux balance analysis as an interaction model: no training, deletion fitness from a GEM.

The relative fitness of a deletion set ``S`` is ``f(S) = growth(S knocked out) / growth(wild
type)`` (:class:`DeletionFitness`). Interactions follow Kuzmin et al. 2018:
``ε_ij = f_ij − f_i f_j`` and ``τ_ijk = f_ijk − f_i f_j f_k − ε_ij f_k − ε_ik f_j − ε_jk f_i``
(:func:`kuzmin_scores`). For a workflow on a cluster: :func:`required_gene_sets` lists
every deletion the scores need and :func:`plan_chunks` splits them over jobs;
:mod:`geneint.train.fba` writes each job's growth table and combines them.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from itertools import combinations

import cobra
import numpy as np

log = logging.getLogger(__name__)

GeneSet = tuple[str, ...]
GROWTH_COLUMNS = ["genes", "fitness"]
#: Relative fitness this close to 0 or 1 is snapped to it. GLPK's warm-started optima differ
#: from the wild type's by up to ~4e-7 (relative) on Yeast-GEM for deletions with no effect;
#: unsnapped, that round-off would show as tiny interactions between unrelated genes.
SNAP = 1e-6
#: Flux below this in the wild-type witness counts as unused.
ZERO_FLUX = 1e-9


class DeletionFitness:
    """Relative growth of gene deletion sets, each distinct set solved once.

    Genes outside the model are ignored (a set of them only has fitness 1). Two shortcuts give
    fitness 1 without an LP, both exact: ``skip_unaffected`` — the deletion disables no
    reaction (every GPR it touches still evaluates true, e.g. one isozyme of two);
    ``skip_unused`` — every reaction it disables carries no flux in a parsimonious wild-type
    optimum, which therefore stays feasible and optimal. Infeasible LPs count as zero growth.

    GLPK's primal simplex, warm-started from the previous basis, stalls on a few deletions of
    Yeast-GEM (``YDR044W``: > 9 minutes); after ``timeout`` seconds the LP is retried with the
    dual simplex from the same basis (~1 s there), then from a fresh basis without a limit. An
    LP that still has no answer raises :class:`RuntimeError` naming the deletion set.
    """

    def __init__(self, model: cobra.Model, skip_unaffected: bool = True,
                 skip_unused: bool = True, timeout: int = 2) -> None:
        self.model = model
        self.skip_unaffected = skip_unaffected
        self.timeout = timeout
        self.genes = frozenset(g.id for g in model.genes)
        self.wild_type = float(model.slim_optimize(error_value=0.0))
        if not self.wild_type > 0:
            raise ValueError(f"model {model.id!r} does not grow (objective "
                             f"{self.wild_type}); relative fitness is undefined")
        self.unused: frozenset[str] = frozenset()
        if skip_unused:
            from cobra.flux_analysis import pfba

            fluxes = pfba(model).fluxes
            self.unused = frozenset(fluxes.index[fluxes.abs().to_numpy() < ZERO_FLUX])
        self.cache: dict[GeneSet, float] = {(): 1.0}
        self.lps_solved = 0
        self.lps_skipped = 0
        self.lps_unused = 0
        self.lps_retried = 0
        self.cache_hits = 0

    def key(self, genes: Iterable[str]) -> GeneSet:
        """The sorted in-model genes of a set: what its fitness depends on."""
        return tuple(sorted({g for g in genes if g in self.genes}))

    def __call__(self, genes: Iterable[str]) -> float:
        key = self.key(genes)
        if key in self.cache:
            self.cache_hits += 1
            return self.cache[key]
        value = self._solve(key)
        self.cache[key] = value
        return value

    def _solve(self, key: GeneSet) -> float:
        model = self.model
        reactions = knocked_out_reactions(model, key)
        if not reactions and self.skip_unaffected:
            self.lps_skipped += 1
            return 1.0
        if reactions and all(r.id in self.unused for r in reactions):
            self.lps_unused += 1
            return 1.0
        with model:  # bounds are restored on leaving the context
            for rxn in reactions:
                rxn.knock_out()
            growth = self._optimize(key)
        self.lps_solved += 1
        value = max(0.0, growth / self.wild_type)
        if value < SNAP:
            return 0.0
        return 1.0 if abs(value - 1.0) < SNAP else value

    def _optimize(self, key: GeneSet) -> float:
        """Growth of the current (knocked-out) model; 0 when infeasible."""
        solver = self.model.solver
        config = solver.configuration
        glpk = getattr(config, "_smcp", None)  # GLPK's simplex parameters (private in optlang)
        attempts = [(self.timeout, None, False)]
        if glpk is not None:
            import swiglpk

            attempts += [(10 * self.timeout, swiglpk.GLP_DUALP, False),
                         (None, swiglpk.GLP_DUALP, True)]
        saved = (config.timeout, glpk.meth if glpk is not None else None)
        try:
            for i, (limit, method, fresh_basis) in enumerate(attempts):
                self.lps_retried += i > 0
                config.timeout = limit
                if method is not None:
                    glpk.meth = method
                if fresh_basis:
                    swiglpk.glp_adv_basis(solver.problem, 0)
                growth = self.model.slim_optimize(error_value=float("nan"))
                if solver.status == "optimal":
                    return float(growth)
                if solver.status == "infeasible":
                    return 0.0
                log.warning("deletion %s: LP %s after attempt %d", ";".join(key),
                            solver.status, i + 1)
        finally:
            config.timeout = saved[0]
            if glpk is not None:
                glpk.meth = saved[1]
        raise RuntimeError(f"no LP solution for the deletion of {';'.join(key)} "
                           f"(status {solver.status})")

    def stats(self) -> dict[str, int]:
        return {"lps_solved": self.lps_solved, "lps_skipped": self.lps_skipped,
                "lps_unused": self.lps_unused, "lps_retried": self.lps_retried,
                "cache_hits": self.cache_hits, "cached_sets": len(self.cache) - 1}


def knocked_out_reactions(model: cobra.Model, genes: Collection[str]) -> list[cobra.Reaction]:
    """Reactions whose GPR is false once ``genes`` are deleted (sorted by id), as
    ``cobra.manipulation.knock_out_model_genes`` would disable them, without touching the
    model (an isozyme's partner keeps its reaction on)."""
    deleted = set(genes)
    touched = {r for g in deleted for r in model.genes.get_by_id(g).reactions}
    return sorted((r for r in touched if not r.gpr.eval(deleted)), key=lambda r: r.id)


def gene_set(genes: Iterable[str | None]) -> GeneSet:
    """Sorted genes of a set, empty names (``gene_c`` of a pair) dropped."""
    return tuple(sorted(g for g in genes if g))


def required_gene_sets(sets: Iterable[Sequence[str]], model_genes: Collection[str] | None = None
                       ) -> list[GeneSet]:
    """Every deletion set the scores of ``sets`` need (singles, pairs, triples), deduplicated,
    sorted by size and then names. With ``model_genes``, subsets are first restricted to them
    (genes outside the model do not change growth), which drops sets that become duplicates or
    empty."""
    keep = None if model_genes is None else set(model_genes)
    needed: set[GeneSet] = set()
    for raw in sets:
        genes = gene_set(raw)
        if len(genes) not in (2, 3) or len(set(genes)) != len(genes):
            raise ValueError(f"a set must hold 2 or 3 distinct genes, got {tuple(raw)!r}")
        if keep is not None:
            genes = tuple(g for g in genes if g in keep)
        for k in range(1, len(genes) + 1):
            needed.update(combinations(genes, k))
    return sorted(needed, key=lambda s: (len(s), s))


def plan_chunks(gene_sets: Iterable[GeneSet], n_chunks: int) -> list[list[GeneSet]]:
    """Split deletion sets over ``n_chunks`` jobs: every set once, whatever the input order.

    Sets are sorted (size, names) and dealt round-robin, so each chunk gets a similar mix of
    singles, pairs and triples. Always ``n_chunks`` lists (some empty when there are fewer
    sets), so a workflow can name its outputs before knowing the sets."""
    if n_chunks < 1:
        raise ValueError(f"n_chunks must be at least 1, got {n_chunks}")
    ordered = sorted({gene_set(s) for s in gene_sets}, key=lambda s: (len(s), s))
    return [ordered[i::n_chunks] for i in range(n_chunks)]



def kuzmin_scores(f: dict[str, np.ndarray], triple: np.ndarray) -> dict[str, np.ndarray]:
    """Kuzmin et al. 2018 from the fitness of every subset of a set (``f_a`` … ``f_abc``; a
    pair's missing gene has fitness 1): ``ε_ij = f_ij − f_i f_j`` and
    ``τ_ijk = f_ijk − f_i f_j f_k − ε_ij f_k − ε_ik f_j − ε_jk f_i``; ``tau`` is ε_ab for pairs
    (``triple`` False) and τ for triples."""
    eps_ab = f["f_ab"] - f["f_a"] * f["f_b"]
    eps_ac = f["f_ac"] - f["f_a"] * f["f_c"]
    eps_bc = f["f_bc"] - f["f_b"] * f["f_c"]
    tau = (f["f_abc"] - f["f_a"] * f["f_b"] * f["f_c"] - eps_ab * f["f_c"] - eps_ac * f["f_b"]
           - eps_bc * f["f_a"])
    # LP round-off (~1e-7 on Yeast-GEM) would make every score of genes with partial fitness
    # a tiny non-zero number; below SNAP a score is 0, as the fitness values are snapped.
    eps_ab, eps_ac, eps_bc, tau = (np.where(np.abs(x) < SNAP, 0.0, x)
                                   for x in (eps_ab, eps_ac, eps_bc, tau))
    return {"eps_ab": eps_ab, "eps_ac": eps_ac, "eps_bc": eps_bc,
            "tau": np.where(triple, tau, eps_ab)}

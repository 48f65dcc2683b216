# The single-cell perturbation study (target `perturbation`): raw Perturb-seq cells → canonical
# cells.h5ad + stratified split → one network per model x training regime x seed → CausalBench
# evaluation → summary and plots. Settings: the config's `perturbation` section
# (src/geneint/schemas/perturbation.schema.yaml). Wiring only; the science is in
# geneint.data.single_cell, geneint.models (catran, network_edges, grn_baselines),
# geneint.train.grn, geneint.evaluate (causal, network), geneint.report.perturbation.
from geneint.schema import config_node, config_schema, fill_defaults  # noqa: E402

# Snakemake fills defaults only in the top-level file; this section lives in its own schema.
config["perturbation"] = fill_defaults(
    config.get("perturbation", {}), config_node("perturbation"), config_schema()
)
PERTURBATION = config["perturbation"]
SC_DATASET = PERTURBATION["dataset"]
SC_RAW_DIR = "data/raw/perturbation"
SC_PROCESSED = f"{PROCESSED}/perturbation/{SC_DATASET}"
SC_RESULTS = f"results/{RUN}/perturbation/{SC_DATASET}"
# File name of each real data set's raw download, as published.
SC_RAW_FILENAMES = {
    "replogle_k562": "K562_essential_raw_singlecell_01.h5ad",
    "replogle_rpe1": "rpe1_raw_singlecell_01.h5ad",
    "replogle_summary": "1-s2.0-S0092867422005979-mmc2.xlsx",
    "norman": "perturb_processed.h5ad",
    "adamson": "perturb_processed.h5ad",
}
SC_NETWORK = f"{SC_RESULTS}/{{model}}/{{regime}}/seed{{seed}}"


wildcard_constraints:
    regime=r"observational|interventional|partial0\.[0-9]*[1-9]",
    sc_source="|".join(SC_RAW_FILENAMES),


rule synthesize_perturbseq:
    output:
        cells=f"{SC_RAW_DIR}/synthetic/cells.h5ad",
        truth=f"{SC_RAW_DIR}/synthetic/true_graph.tsv",
    log:
        "logs/perturbation/synthesize.log",
    params:
        out=folder_of("cells"),
        settings=lambda wildcards: sc_section_flags("synthetic"),
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint perturbation synth {params.settings} --out {params.out} > {log} 2>&1"


rule download_perturbseq:
    output:
        f"{SC_RAW_DIR}/{{sc_source}}/{{filename}}",
    log:
        "logs/perturbation/download_{sc_source}_{filename}.log",
    params:
        flags=lambda wildcards: download_spec_flags(
            PERTURBATION["downloads"], wildcards.sc_source, "perturbation.downloads"
        ),
    resources:
        mem_mb=1000,
        runtime=240,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint download --name {wildcards.sc_source} {params.flags} --out {output}"
        " > {log} 2>&1"


ruleorder: synthesize_perturbseq > download_perturbseq


rule prepare_cells:
    input:
        unpack(sc_raw_inputs),
    output:
        cells=f"{SC_PROCESSED}/cells.h5ad",
        split=f"{SC_PROCESSED}/split.tsv",
        qc=f"{SC_PROCESSED}/cells.h5ad.qc.json",
    log:
        f"logs/{RUN}/perturbation/{SC_DATASET}/prepare.log",
    params:
        dataset=SC_DATASET,
        raw=sc_raw_flags,
        settings=lambda wildcards: sc_section_flags("columns", "preprocess", "split"),
    resources:
        mem_mb=16000,
        runtime=60,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint perturbation prepare --dataset {params.dataset} {params.raw} {params.settings}"
        " --out {output.cells} --split {output.split} > {log} 2>&1"


rule infer_network:
    wildcard_constraints:
        model="|".join(PERTURBATION["models"]),
    input:
        cells=rules.prepare_cells.output.cells,
        split=rules.prepare_cells.output.split,
    output:
        edges=f"{SC_NETWORK}/edges.tsv",
        summary=f"{SC_NETWORK}/inference.json",
    log:
        f"logs/{RUN}/perturbation/{SC_DATASET}/{{model}}/{{regime}}/seed{{seed}}/infer.log",
    params:
        # Only the settings the model reads: changing CaTran's reruns no baseline.
        settings=lambda wildcards: sc_section_flags(
            "edges", "orientation", *{"catran": ["catran"], "correlation": ["correlation"]}.get(
                wildcards.model, []
            )
        ),
    # One thread: the demo's networks train side by side on 2 cores. At CausalBench's size
    # (500 sampled genes per batch) CaTran wants more: profiles/slurm sets them.
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint perturbation infer --model {wildcards.model} --regime {wildcards.regime}"
        " --seed {wildcards.seed} --cells {input.cells} --split {input.split}"
        " {params.settings} --threads {threads} --out {output.edges} > {log} 2>&1"


rule evaluate_network:
    wildcard_constraints:
        model="|".join(PERTURBATION["models"]),
    input:
        unpack(sc_true_graph),
        edges=rules.infer_network.output.edges,
        cells=rules.prepare_cells.output.cells,
        split=rules.prepare_cells.output.split,
    output:
        metrics=f"{SC_NETWORK}/metrics.json",
        scored=f"{SC_NETWORK}/scored_edges.tsv",
    log:
        f"logs/{RUN}/perturbation/{SC_DATASET}/{{model}}/{{regime}}/seed{{seed}}/evaluate.log",
    params:
        dataset=SC_DATASET,
        truth=sc_true_graph_flag,
        settings=lambda wildcards: sc_section_flags("evaluate"),
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint perturbation evaluate --edges {input.edges} --cells {input.cells}"
        " --split {input.split} --dataset {params.dataset} {params.truth} {params.settings}"
        " --out {output.metrics} > {log} 2>&1"


localrules:
    aggregate_networks,


rule aggregate_networks:
    input:
        sc_all_metrics(),
    output:
        summary=report(
            f"{SC_RESULTS}/summary.tsv",
            category="Perturbation study",
            caption="../report/perturbation_summary.rst",
        ),
        by_model=report(
            f"{SC_RESULTS}/summary_by_model.tsv",
            category="Perturbation study",
            caption="../report/perturbation_summary.rst",
        ),
        metrics_plot=report(
            f"{SC_RESULTS}/plots/network_metrics.png",
            category="Perturbation study",
            caption="../report/perturbation_metrics.rst",
        ),
        tradeoff_plot=report(
            f"{SC_RESULTS}/plots/wasserstein_for.png",
            category="Perturbation study",
            caption="../report/perturbation_tradeoff.rst",
        ),
    log:
        f"logs/{RUN}/perturbation/{SC_DATASET}/aggregate.log",
    params:
        results=folder_of("summary"),
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint perturbation aggregate --metrics {input} --results {params.results}"
        " > {log} 2>&1"


include: "perturbation_response.smk"


rule perturbation:
    input:
        rules.aggregate_networks.output,
        rules.aggregate_responses.output if RESPONSE["models"] else [],

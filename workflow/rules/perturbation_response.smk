# The perturbation study's response task (part of target `perturbation`): GEARS-layout cells
# (synthetic, norman, adamson) → checked copy + DE rankings + GEARS' simulation split → one
# prediction per model x seed → GEARS' metrics → summary and plots. Settings:
# `perturbation.response` (src/geneint/schemas/perturbation.schema.yaml). Wiring only; the
# science is in geneint.data.single_cell (gears_format, response_split, synthetic_response,
# gene_features), geneint.models (grape, response_baselines), geneint.train (response, grape),
# geneint.evaluate (response, perturbation_response), geneint.report.response.
from geneint.models.response_baselines import BASELINES  # noqa: E402

RESPONSE = PERTURBATION["response"]
RESPONSE_DATASETS = ("synthetic", "norman", "adamson")
if RESPONSE["models"] and SC_DATASET not in RESPONSE_DATASETS:
    fail(
        f"{source_of(('perturbation', 'dataset'), CONFIG_SOURCES)}: perturbation.response: "
        f"the response task reads GEARS' layout ({', '.join(RESPONSE_DATASETS)}), not "
        f"{SC_DATASET}; set perturbation.response.models: [] to run the network task alone"
    )
SC_RESPONSE_RAW = (
    f"{SC_RAW_DIR}/synthetic/response"
    if SC_DATASET == "synthetic"
    else f"{SC_RAW_DIR}/{SC_DATASET}"
)
SC_RESPONSE_DATA = f"{SC_PROCESSED}/response"
SC_RESPONSE = f"{SC_RESULTS}/response"
SC_PREDICTION = f"{SC_RESPONSE}/{{model}}/seed{{seed}}"


rule synthesize_response:
    output:
        data=f"{SC_RAW_DIR}/synthetic/response/perturb_processed.h5ad",
        truth=f"{SC_RAW_DIR}/synthetic/response/true_graph.tsv",
        description=f"{SC_RAW_DIR}/synthetic/response/description.tsv",
        sequence=f"{SC_RAW_DIR}/synthetic/response/sequence.tsv",
        biotypes=f"{SC_RAW_DIR}/synthetic/response/biotypes.tsv",
    log:
        "logs/perturbation/synthesize_response.log",
    params:
        out=folder_of("data"),
        settings=lambda wildcards: sc_section_flags("synthetic")
        + " "
        + section_flags("perturbation.response.synthetic"),
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint perturbation synth-response {params.settings} --out {params.out} > {log} 2>&1"


rule prepare_response:
    input:
        raw=f"{SC_RESPONSE_RAW}/perturb_processed.h5ad",
    output:
        data=f"{SC_RESPONSE_DATA}/perturb_processed.h5ad",
        split=f"{SC_RESPONSE_DATA}/split.tsv",
        qc=f"{SC_RESPONSE_DATA}/perturb_processed.h5ad.qc.json",
    log:
        f"logs/{RUN}/perturbation/{SC_DATASET}/prepare_response.log",
    params:
        settings=lambda wildcards: section_flags("perturbation.response.split"),
    resources:
        # The expression is densified and ranked by scanpy: about 12x the file (Norman: 12 GB).
        mem_mb=lambda wildcards, input: max(4000, int(12 * input.size_mb)),
        runtime=60,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint perturbation prepare-response --raw {input.raw} {params.settings}"
        " --out {output.data} --split {output.split} > {log} 2>&1"


rule predict_baseline_response:
    wildcard_constraints:
        model="|".join(BASELINES),
    input:
        data=rules.prepare_response.output.data,
        split=rules.prepare_response.output.split,
    output:
        predictions=f"{SC_PREDICTION}/predictions.h5ad",
        summary=f"{SC_PREDICTION}/prediction.json",
    log:
        f"logs/{RUN}/perturbation/{SC_DATASET}/response/{{model}}/seed{{seed}}/predict.log",
    resources:
        mem_mb=8000,
        runtime=30,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint perturbation predict --model {wildcards.model} --seed {wildcards.seed}"
        " --data {input.data} --split {input.split} --out {output.predictions} > {log} 2>&1"


# GRAPE: its own rule so that a cluster profile gives it a GPU and the baselines none.
rule train_response_model:
    wildcard_constraints:
        model="grape",
    input:
        unpack(response_feature_inputs),
        data=rules.prepare_response.output.data,
        split=rules.prepare_response.output.split,
    output:
        predictions=f"{SC_PREDICTION}/predictions.h5ad",
        summary=f"{SC_PREDICTION}/prediction.json",
    log:
        f"logs/{RUN}/perturbation/{SC_DATASET}/response/{{model}}/seed{{seed}}/predict.log",
    params:
        features=response_feature_flags,
        settings=lambda wildcards: section_flags("perturbation.response.grape"),
    # One thread: the demo's models train side by side on 2 cores; profiles/slurm gives each
    # GRAPE job a GPU and more cores.
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint perturbation predict --model {wildcards.model} --seed {wildcards.seed}"
        " --data {input.data} --split {input.split} {params.features} {params.settings}"
        " --threads {threads} --out {output.predictions} > {log} 2>&1"


rule evaluate_response:
    wildcard_constraints:
        model="|".join(RESPONSE["models"]) or "none",
    input:
        predictions=f"{SC_PREDICTION}/predictions.h5ad",
        data=rules.prepare_response.output.data,
        split=rules.prepare_response.output.split,
    output:
        metrics=f"{SC_PREDICTION}/metrics.json",
        per_perturbation=f"{SC_PREDICTION}/per_perturbation.tsv",
        deltas=f"{SC_PREDICTION}/de_deltas.tsv",
    log:
        f"logs/{RUN}/perturbation/{SC_DATASET}/response/{{model}}/seed{{seed}}/evaluate.log",
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint perturbation evaluate-response --predictions {input.predictions}"
        " --data {input.data} --split {input.split} --out {output.metrics} > {log} 2>&1"


localrules:
    aggregate_responses,


rule aggregate_responses:
    input:
        response_all_metrics(),
    output:
        summary=report(
            f"{SC_RESPONSE}/summary.tsv",
            category="Perturbation study",
            subcategory="Response prediction",
            caption="../report/response_summary.rst",
        ),
        by_model=report(
            f"{SC_RESPONSE}/summary_by_model.tsv",
            category="Perturbation study",
            subcategory="Response prediction",
            caption="../report/response_summary.rst",
        ),
        metrics_plot=report(
            f"{SC_RESPONSE}/plots/response_metrics.png",
            category="Perturbation study",
            subcategory="Response prediction",
            caption="../report/response_metrics.rst",
        ),
        delta_plot=report(
            f"{SC_RESPONSE}/plots/response_delta.png",
            category="Perturbation study",
            subcategory="Response prediction",
            caption="../report/response_delta.rst",
        ),
    log:
        f"logs/{RUN}/perturbation/{SC_DATASET}/aggregate_responses.log",
    params:
        results=folder_of("summary"),
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint perturbation aggregate-response --metrics {input} --results {params.results}"
        " > {log} 2>&1"


# The response task alone: snakemake --cores 2 perturbation_response
rule perturbation_response:
    input:
        rules.aggregate_responses.output,

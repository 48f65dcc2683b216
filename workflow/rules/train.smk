# Stage 4: every sweep point x seed trains its model and writes predictions.parquet; evaluation
# reads predictions + split only, whatever the model. Swept values come from the path ({point});
# the settings a model uses are params, so changing one reruns exactly that model's jobs.
# Neural models run under Lightning (GPU, multi-node DDP under profiles/slurm); estimators run
# on CPU cores. Resumable checkpoints live in results/<run>/.work/, outside declared outputs.

TRAIN = "{run}/train/{point}/seed{seed}"


rule train_model:
    input:
        unpack(get_model_inputs),
        interactions=rules.parse_interactions.output[0],
        genes=rules.build_gene_index.output[0],
        split=get_split_file,
    output:
        predictions=f"results/{TRAIN}/predictions.parquet",
        checkpoint=f"results/{TRAIN}/best.ckpt",
        curve=f"results/{TRAIN}/metrics.csv",
        summary=f"results/{TRAIN}/train_summary.json",
    wildcard_constraints:
        point=sweeps.point_pattern(models_run_by("neural")),
    log:
        f"logs/{TRAIN}.log",
    benchmark:
        f"benchmarks/{TRAIN}.tsv"
    params:
        model=model_name,
        fold=split_fold,
        inputs=model_input_flags,
        settings=model_flags,
        out=folder_of("predictions"),
        work_dir="results/{run}/.work/train/{point}/seed{seed}",
    # All the cores it is given (capped at --cores): training runs alone or on its own node.
    # Under Slurm, threads are per DDP rank (profiles/slurm sets them).
    threads: 8
    resources:
        mem_mb=8000,
        runtime=240,
        # How the DDP ranks are started: empty runs one process; profiles/slurm sets an srun
        # line. A resource, not a param, so switching local <-> Slurm retrains nothing.
        launcher="",
    conda:
        "../../envs/geneint.yaml"
    shell:
        "{resources.launcher} geneint train {params.model} --interactions"
        " {input.interactions} --genes {input.genes} --split {input.split}"
        " --fold {params.fold} {params.inputs} {params.settings} --seed {wildcards.seed}"
        " --threads {threads} --no-progress-bar --work-dir {params.work_dir}"
        " --out {params.out} > {log} 2>&1"


rule fit_estimator:
    input:
        unpack(get_model_inputs),
        interactions=rules.parse_interactions.output[0],
        genes=rules.build_gene_index.output[0],
        split=get_split_file,
    output:
        predictions=f"results/{TRAIN}/predictions.parquet",
        summary=f"results/{TRAIN}/train_summary.json",
    wildcard_constraints:
        point=sweeps.point_pattern(models_run_by("estimator")),
    log:
        f"logs/{TRAIN}.log",
    benchmark:
        f"benchmarks/{TRAIN}.tsv"
    params:
        model=model_name,
        fold=split_fold,
        inputs=model_input_flags,
        settings=model_flags,
        out=folder_of("predictions"),
    # Tree models use every core they are given (n_jobs); the mean and ridge use one.
    threads: 4
    resources:
        mem_mb=8000,
        runtime=120,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint train {params.model} --interactions {input.interactions}"
        " --genes {input.genes} --split {input.split} --fold {params.fold} {params.inputs}"
        " {params.settings} --seed {wildcards.seed} --threads {threads}"
        " --out {params.out} > {log} 2>&1"


rule evaluate_model:
    input:
        unpack(get_gene_names_source),
        predictions=f"results/{TRAIN}/predictions.parquet",
        split=get_split_file,
    output:
        metrics="results/{run}/eval/{point}/seed{seed}/metrics.json",
        table="results/{run}/eval/{point}/seed{seed}/predictions.tsv",
    log:
        "logs/{run}/eval/{point}/seed{seed}.log",
    params:
        fold=split_fold,
        strong=config["evaluate"]["strong_threshold"],
        strong_by_arity=flag_value(config["evaluate"]["strong_threshold_by_arity"]),
        class_edges=flag_value(config["evaluate"]["class_edges"]),
        names=gene_names_flag,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint evaluate --predictions {input.predictions} --split {input.split}"
        " --fold {params.fold} --strong-threshold {params.strong}"
        " --strong-threshold-by-arity {params.strong_by_arity}"
        " --class-edges {params.class_edges} --out {output.metrics}"
        " --table {output.table} {params.names} > {log} 2>&1"


# DCell only: which terms matter (RLIPP) and every term's output on the test sets.
rule interpret_dcell:
    input:
        checkpoint=f"results/{TRAIN}/best.ckpt",
        ontology=f"{PROCESSED}/ontology.json",
        interactions=rules.parse_interactions.output[0],
        genes=rules.build_gene_index.output[0],
        split=get_split_file,
    output:
        importance="results/{run}/interpret/{point}/seed{seed}/term_importance.tsv",
        activations="results/{run}/interpret/{point}/seed{seed}/term_activations.npz",
    wildcard_constraints:
        point=sweeps.point_pattern(["dcell"]),
    log:
        "logs/{run}/interpret/{point}/seed{seed}.log",
    params:
        fold=split_fold,
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint interpret --checkpoint {input.checkpoint} --ontology {input.ontology}"
        " --interactions {input.interactions} --genes {input.genes} --split {input.split}"
        " --fold {params.fold} --threads {threads} --importance {output.importance}"
        " --activations {output.activations} > {log} 2>&1"

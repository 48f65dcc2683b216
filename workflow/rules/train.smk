# Stage 4: joint training per sweep point x seed, then evaluation on the test sets.
# Swept values come from the path (wildcards); shared knobs are params, so changing one reruns
# exactly the training jobs. Resumable checkpoints live in results/<run>/.work/, outside the
# declared outputs, so an interrupted job continues where it stopped.

POINT = POINTS.wildcard_pattern


rule train_model:
    input:
        interactions=rules.parse_interactions.output[0],
        genes=rules.build_gene_index.output[0],
        split=get_split_file,
        graphs=get_point_graphs,
        pretrained=get_point_pretrained,
    output:
        checkpoint=f"results/{{run}}/train/{POINT}/seed{{seed}}/best.ckpt",
        curve=f"results/{{run}}/train/{POINT}/seed{{seed}}/metrics.csv",
        summary=f"results/{{run}}/train/{POINT}/seed{{seed}}/train_summary.json",
    log:
        f"logs/{{run}}/train/{POINT}/seed{{seed}}.log",
    benchmark:
        f"benchmarks/{{run}}/train/{POINT}/seed{{seed}}.tsv"
    params:
        fold=split_fold,
        work_dir=f"results/{{run}}/.work/train/{POINT}/seed{{seed}}",
        epochs=config["train"]["epochs"],
        batch_size=config["train"]["batch_size"],
        weight_decay=config["train"]["weight_decay"],
        gradient_clip=config["train"]["gradient_clip"],
        alpha=config["train"]["alpha"],
        alpha_epochs=config["train"]["alpha_epochs"],
        recon_genes=config["train"]["recon_genes_per_step"],
        lr_scheduler=config["train"]["lr_scheduler"],
        patience=config["train"]["patience"],
        embedding_seed=config["pretrain"]["embedding_seed"],
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
        "{resources.launcher} geneint train --interactions {input.interactions} --genes {input.genes}"
        " --split {input.split} --fold {params.fold} --graphs {input.graphs}"
        " --pretrained {input.pretrained} --variant {wildcards.variant} --dim {wildcards.dim}"
        " --embedding-seed {params.embedding_seed}"
        " --alpha-schedule {wildcards.alpha_schedule} --lr {wildcards.lr}"
        " --epochs {params.epochs} --batch-size {params.batch_size}"
        " --weight-decay {params.weight_decay} --gradient-clip {params.gradient_clip}"
        " --alpha {params.alpha} --alpha-epochs {params.alpha_epochs}"
        " --recon-genes-per-step {params.recon_genes} --lr-scheduler {params.lr_scheduler}"
        " --patience {params.patience} --seed {wildcards.seed} --threads {threads}"
        " --no-progress-bar --work-dir {params.work_dir}"
        " --out $(dirname {output.checkpoint}) > {log} 2>&1"


rule evaluate_model:
    input:
        checkpoint=rules.train_model.output.checkpoint,
        interactions=rules.parse_interactions.output[0],
        genes=rules.build_gene_index.output[0],
        split=get_split_file,
        graphs=get_point_graphs,
    output:
        metrics=f"results/{{run}}/eval/{POINT}/seed{{seed}}/metrics.json",
        predictions=f"results/{{run}}/eval/{POINT}/seed{{seed}}/predictions.parquet",
    log:
        f"logs/{{run}}/eval/{POINT}/seed{{seed}}.log",
    params:
        fold=split_fold,
        strong=config["evaluate"]["strong_threshold"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint evaluate --checkpoint {input.checkpoint} --interactions {input.interactions}"
        " --genes {input.genes} --split {input.split} --fold {params.fold}"
        " --graphs {input.graphs} --strong-threshold {params.strong}"
        " --out $(dirname {output.metrics}) > {log} 2>&1"

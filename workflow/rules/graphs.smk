# Stage 2: one graph per network (STRING channel of a release) and λ mode; the split files.


rule build_graph:
    input:
        edges=expand(rules.parse_string.output[0], release=STRING_RELEASES),
        genes=rules.build_gene_index.output[0],
    output:
        "data/processed/graphs/lambda~{lambda_mode}/{network}.npz",
    log:
        "logs/graphs/lambda~{lambda_mode}/{network}.log",
    params:
        releases=" ".join(STRING_RELEASES),
        lambda_config=lambda_config_flag,
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint graphs build --network {wildcards.network} --edges {input.edges}"
        " --releases {params.releases} --genes {input.genes}"
        " --lambda-mode {wildcards.lambda_mode} {params.lambda_config} --out {output}"
        " > {log} 2>&1"


rule make_split:
    input:
        rules.parse_interactions.output[0],
    output:
        "data/processed/splits/{kind}.parquet",
    log:
        "logs/splits/{kind}.log",
    params:
        seed=config["split"]["seed"],
        folds=config["split"]["folds"],
        val_fraction=config["split"]["val_fraction"],
        heldout=config["split"]["heldout_genes"],
        arities=" ".join(str(a) for a in config["split"]["arities"]),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint split --interactions {input} --kind {wildcards.kind} --seed {params.seed}"
        " --folds {params.folds} --val-fraction {params.val_fraction}"
        " --heldout-genes {params.heldout} --arity {params.arities} --out {output} > {log} 2>&1"

# Stage 2: one graph per network (STRING channel of a release) and λ mode; the split files.
# Built only for the points whose models need graphs (see geneint.models.registry).


rule build_graph:
    input:
        edges=expand(f"{PROCESSED}/string/v{{release}}.parquet", release=STRING_RELEASES),
        genes=rules.build_gene_index.output[0],
    output:
        f"{PROCESSED}/graphs/lambda~{{lambda_mode}}/{{network}}.npz",
    log:
        f"logs/{RUN}/graphs/lambda~{{lambda_mode}}/{{network}}.log",
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
        f"{PROCESSED}/splits/{{kind}}.parquet",
    log:
        f"logs/{RUN}/splits/{{kind}}.log",
    params:
        settings=section_flags("split"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint split --interactions {input} --kind {wildcards.kind} {params.settings}"
        " --out {output} > {log} 2>&1"

# Stage 2: one graph per network (a STRING channel of a release, or physical, regulatory, …)
# and λ mode; the split files. Built only for the points whose models need graphs (see
# geneint.models.registry); which networks a point has is its graph set (geneint.graphs.sets).


rule build_graph:
    input:
        edges=get_network_edges,
        genes=rules.build_gene_index.output[0],
    output:
        f"{PROCESSED}/graphs/lambda~{{lambda_mode}}/{{network}}.npz",
    log:
        f"logs/{RUN}/graphs/lambda~{{lambda_mode}}/{{network}}.log",
    params:
        releases=network_release_flag,
        lambda_config=lambda_config_flag,
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint graphs build --network {wildcards.network} --edges {input.edges}"
        " {params.releases} --genes {input.genes}"
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

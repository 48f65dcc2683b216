# Stage 1: raw files (synthesised or downloaded) -> canonical tables + QC reports.

if is_synthetic():

    rule synthesize_demo:
        output:
            string=expand(
                "{dir}/string/4932.protein.links.detailed.v{release}.txt.gz",
                dir=SYNTHETIC_DIR,
                release=STRING_RELEASES,
            ),
            kuzmin2018=raw_path("kuzmin2018"),
            sgd_features=raw_path("sgd_features"),
            truth=f"{SYNTHETIC_DIR}/truth/tau_noise_free.tsv",
            factors=f"{SYNTHETIC_DIR}/truth/gene_factors.tsv",
            manifest=f"{SYNTHETIC_DIR}/manifest.json",
        log:
            "logs/data/synthesize_demo.log",
        benchmark:
            "benchmarks/data/synthesize_demo.tsv"
        params:
            out=folder_of("manifest"),
            seed=config["data"]["synthetic"]["seed"],
            scale=config["data"]["synthetic"]["scale"],
        resources:
            mem_mb=4000,
            runtime=15,
        conda:
            "../../envs/geneint.yaml"
        shell:
            "geneint synth --out {params.out} --seed {params.seed}"
            " --scale {params.scale} > {log} 2>&1"

else:

    rule download_source:
        output:
            "data/raw/{source}/{filename}",
        log:
            "logs/data/download_{source}_{filename}.log",
        params:
            flags=download_flags,
        resources:
            mem_mb=1000,
            runtime=120,
        conda:
            "../../envs/geneint.yaml"
        shell:
            "geneint download --name {wildcards.source} {params.flags}"
            " --out {output} > {log} 2>&1"


rule parse_string:
    input:
        get_raw_string,
    output:
        f"{PROCESSED}/string/v{{release}}.parquet",
    log:
        "logs/data/parse_string_v{release}.log",
    benchmark:
        "benchmarks/data/parse_string_v{release}.tsv"
    resources:
        mem_mb=6000,
        runtime=30,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint parse string --raw {input} --out {output} > {log} 2>&1"


rule build_gene_index:
    input:
        sgd=raw_path("sgd_features"),
        string=expand(rules.parse_string.output[0], release=STRING_RELEASES),
    output:
        f"{PROCESSED}/genes.tsv",
    log:
        "logs/data/build_gene_index.log",
    params:
        universe=config["genes"]["universe"],
        qualifiers=sgd_qualifier_flag,
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint genes --sgd {input.sgd} --string {input.string} --universe {params.universe}"
        " {params.qualifiers} --out {output} > {log} 2>&1"


rule parse_interactions:
    input:
        unpack(get_raw_interaction_tables),
        unpack(get_truth),
        genes=rules.build_gene_index.output[0],
    output:
        f"{PROCESSED}/interactions.parquet",
    log:
        "logs/data/parse_interactions.log",
    benchmark:
        "benchmarks/data/parse_interactions.tsv"
    params:
        sources=interaction_flags,
        unknown_genes=config["interactions"]["unknown_genes"],
        duplicates=config["interactions"]["duplicates"],
        arities=" ".join(str(a) for a in config["interactions"]["arities"]),
    resources:
        mem_mb=6000,
        runtime=30,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint parse interactions {params.sources} --genes {input.genes}"
        " --unknown-genes {params.unknown_genes} --duplicates {params.duplicates}"
        " --arity {params.arities} --out {output} > {log} 2>&1"

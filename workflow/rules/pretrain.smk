# Stage 3: pretraining, one job per network (and architecture); shared by every sweep point
# that uses the same network, variant, embedding size and λ mode. Runs only for points whose
# models need pretrained networks or their embeddings.

PRETRAIN = "{run}/pretrain/variant~{variant}/dim~{dim}/lambda~{lambda_mode}/{network}"


rule pretrain_network:
    input:
        graph=f"{PROCESSED}/graphs/lambda~{{lambda_mode}}/{{network}}.npz",
        genes=rules.build_gene_index.output[0],
    output:
        pretrained=f"results/{PRETRAIN}/pretrained.pt",
        embeddings=f"results/{PRETRAIN}/embeddings.pt",
        curve=f"results/{PRETRAIN}/metrics.csv",
    log:
        f"logs/{PRETRAIN}.log",
    benchmark:
        f"benchmarks/{PRETRAIN}.tsv"
    params:
        out=folder_of("pretrained"),
        settings=section_flags("pretrain"),
        work_dir="results/{run}/.work/pretrain/variant~{variant}/dim~{dim}/lambda~{lambda_mode}/{network}",
    # One thread: several pretraining jobs run side by side, and multi-threaded torch processes
    # sharing cores slow each other down by an order of magnitude (OpenMP oversubscription).
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../../envs/geneint.yaml"
    shell:
        "geneint pretrain --graph {input.graph} --genes {input.genes}"
        " --variant {wildcards.variant} --dim {wildcards.dim} {params.settings}"
        " --threads {threads} --no-progress-bar --work-dir {params.work_dir}"
        " --out {params.out} > {log} 2>&1"

# Stage 3: pretraining, one job per network (and architecture); shared by every sweep point
# that uses the same network, variant, embedding size and λ mode.


rule pretrain_network:
    input:
        graph="data/processed/graphs/lambda~{lambda_mode}/{network}.npz",
        genes=rules.build_gene_index.output[0],
    output:
        pretrained="results/{run}/pretrain/variant~{variant}/dim~{dim}/lambda~{lambda_mode}/{network}/pretrained.pt",
        embeddings="results/{run}/pretrain/variant~{variant}/dim~{dim}/lambda~{lambda_mode}/{network}/embeddings.pt",
        curve="results/{run}/pretrain/variant~{variant}/dim~{dim}/lambda~{lambda_mode}/{network}/metrics.csv",
    log:
        "logs/{run}/pretrain/variant~{variant}/dim~{dim}/lambda~{lambda_mode}/{network}.log",
    benchmark:
        "benchmarks/{run}/pretrain/variant~{variant}/dim~{dim}/lambda~{lambda_mode}/{network}.tsv"
    params:
        epochs=config["pretrain"]["epochs"],
        batch_size=config["pretrain"]["batch_size"],
        lr=config["pretrain"]["lr"],
        embedding_seed=config["pretrain"]["embedding_seed"],
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
        " --variant {wildcards.variant} --dim {wildcards.dim} --epochs {params.epochs}"
        " --batch-size {params.batch_size} --lr {params.lr}"
        " --embedding-seed {params.embedding_seed} --threads {threads} --no-progress-bar"
        " --out $(dirname {output.pretrained}) > {log} 2>&1"

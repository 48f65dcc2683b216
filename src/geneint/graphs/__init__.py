"""Stage 2: per-network edge tensors over one gene index, and the λ rule."""

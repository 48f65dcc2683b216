"""geneint: higher-order genetic interaction prediction with graph neural networks."""

__version__ = "0.1.0"

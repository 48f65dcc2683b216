"""Models: plain ``torch.nn.Module``s built from PyTorch Geometric layers, scikit-learn
estimators for the baselines, and the registry of every model the sweep can train.

Nothing here reads files or configs, knows about Lightning, or moves tensors between devices;
training in :mod:`geneint.train` receives these models and owns the losses' weighting, the
optimisers and the logging. Submodules are imported on use (``geneint.models.registry`` is read
by the workflow at parse time and must not pull in torch).
"""

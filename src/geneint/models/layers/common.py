"""Small helpers shared by the layers: activations by name and argument checks."""

from __future__ import annotations

from torch import nn

#: Activation names accepted by every module here. "swish" is the original code's x·sigmoid(x).
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "swish": nn.SiLU,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
}


def activation_from_name(name: str) -> nn.Module:
    """A fresh activation module from its name (``relu``, ``swish``/``silu``, ``gelu``)."""
    try:
        return ACTIVATIONS[name.lower()]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; expected one of "
                         f"{sorted(ACTIVATIONS)}") from None


def check_positive(name: str, value: int | None, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value is None or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


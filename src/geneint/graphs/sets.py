"""Graph sets: the ``graphs`` sweep axis, e.g. ``string9.1+physical+regulatory+metabolism``.

A graph set is ``+``-joined components. Each component names where its networks come from:

===============  ==============================================  ====================  ========
component        networks (gene–gene graphs over the gene index)  raw source            directed
===============  ==============================================  ====================  ========
``string<r>``    ``string_v<r>_<channel>``, one per configured    STRING release ``r``  no
                 channel (``graphs.channels``)
``physical``     ``physical``: BioGRID physical interactions      ``biogrid``           no
``genetic``      ``genetic``: BioGRID genetic interactions        ``biogrid``           no
``regulatory``   ``regulatory``: TF → target (YEASTRACT)          ``regulation``        yes
``tflink``       ``tflink``: TF → target (TFLink)                 ``tflink``            yes
``metabolism``   ``metabolism``: genes sharing a reaction          ``yeast_gem``         no
===============  ==============================================  ====================  ========

Models over gene–gene graphs (DANGO, the pair-feature forest) take every network of the set;
directed networks are symmetrised for them. ``multigraph`` also reads the metabolic model's
typed relations (gene–reaction, reaction–metabolite) when the set has ``metabolism``. Pure
Python: the workflow reads this at parse time.
"""

from __future__ import annotations

import re

#: Components other than STRING releases, and the raw source each is parsed from.
NETWORK_SOURCES = {"physical": "biogrid", "genetic": "biogrid", "regulatory": "regulation",
                   "tflink": "tflink", "metabolism": "yeast_gem"}
DIRECTED_NETWORKS = frozenset({"regulatory", "tflink"})
_STRING = re.compile(r"^string(?P<release>[0-9]+\.[0-9]+)$")
#: The pattern of one component and of a set (the sweep schema uses the same text).
COMPONENT_PATTERN = r"string[0-9]+\.[0-9]+|" + "|".join(NETWORK_SOURCES)
GRAPH_SET_PATTERN = rf"^({COMPONENT_PATTERN})(\+({COMPONENT_PATTERN}))*$"


def components(graph_set: str) -> list[str]:
    """``string9.1+physical`` → [``string9.1``, ``physical``]; rejects unknown or repeated
    components."""
    parts = graph_set.split("+")
    for part in parts:
        if not (_STRING.match(part) or part in NETWORK_SOURCES):
            raise ValueError(f"graph set {graph_set!r}: unknown component {part!r}; use "
                             f"string<release> (e.g. string9.1) or one of "
                             f"{', '.join(NETWORK_SOURCES)}")
    if len(set(parts)) != len(parts):
        raise ValueError(f"graph set {graph_set!r} repeats a component")
    return parts


def string_releases(graph_set: str) -> list[str]:
    """The STRING releases of a set (``string9.1+string12.0`` → [``9.1``, ``12.0``])."""
    return [m["release"] for part in components(graph_set) if (m := _STRING.match(part))]


def other_networks(graph_set: str) -> list[str]:
    """The set's non-STRING networks, in set order."""
    return [part for part in components(graph_set) if part in NETWORK_SOURCES]


def networks(graph_set: str, channels: list[str]) -> list[str]:
    """Every gene–gene network of a set, in set order (a release's channels in config order)."""
    names = []
    for part in components(graph_set):
        match = _STRING.match(part)
        names += [f"string_v{match['release']}_{c}" for c in channels] if match else [part]
    return names


def raw_sources(graph_set: str) -> list[str]:
    """The raw sources (``data.downloads`` keys) a set's non-STRING networks are parsed from."""
    return sorted({NETWORK_SOURCES[n] for n in other_networks(graph_set)})


def has_metabolism(graph_set: str) -> bool:
    return "metabolism" in components(graph_set)


def is_string_network(network: str) -> bool:
    return network.startswith("string_v")

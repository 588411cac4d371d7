r"""Shared helpers of the structured weight generators.

Every structured generator (:class:`~spikey.snn.weight.layered.Layered`,
:class:`~spikey.snn.weight.ring.Ring`, :class:`~spikey.snn.weight.small_world.SmallWorld`,
:class:`~spikey.snn.weight.sparse_ei.SparseEI`, ...) draws the magnitude of an
existing synapse as

.. math:: w_{jk} = \bar w \, X_{jk}, \qquad \mathbb E[X] = 1,

where :math:`\bar w` is the mean weight of the synapse's group (a layer pair,
a population pair, the inputs) and :math:`X \ge 0` follows ``distribution``
with relative spread :math:`s` (``spread``):

=============  ==========================================================
``constant``   :math:`X = 1`
``uniform``    :math:`X \sim U(1 - s, 1 + s)` (needs :math:`s \le 1`)
``normal``     :math:`X \sim \mathcal N(1, s^2)`, negative draws become 0
``lognormal``  :math:`\ln X \sim \mathcal N(-\sigma^2/2, \sigma^2)`,
               :math:`\sigma^2 = \ln(1 + s^2)`: mean 1, coefficient of
               variation :math:`s`
=============  ==========================================================

so scaling every mean by :math:`g` scales every weight by :math:`g` (a sweep of
the weight scale keeps the structure and the shape of the distribution).
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import ConfigError, Key, is_per_member

#: The distribution keys shared by the structured generators.
DISTRIBUTION_KEYS = (
    Key("distribution", "str", "Shape of each group's weight distribution around its mean w: "
        "'constant' (exactly w), 'uniform' (U[w(1-s), w(1+s)]), 'normal' (N(w, (s w)^2), "
        "negative draws become 0) or 'lognormal' (mean w, coefficient of variation s).",
        "constant", choices=("constant", "uniform", "normal", "lognormal")),
    Key("spread", "float", "Relative spread s of the weight distribution (see distribution); "
        "'uniform' needs s <= 1.", 0.0, range=(0, None)),
)

#: Inputs -> body keys shared by the recurrent generators.
INPUT_KEYS = (
    Key("input_density", "float", "Probability of each input -> body synapse.", 0.1,
        range=(0, 1)),
    Key("input_weight", "float", "Mean weight of input -> body synapses (mV).", 1.0,
        range=(0, None)),
)


def check_distribution(part) -> None:
    """Reject a ``uniform`` distribution whose spread would draw negative weights."""
    if part.distribution == "uniform" and part.spread > 1:
        raise ConfigError(f"{part.owner}.spread = {part.spread} with distribution 'uniform'; "
                          "expected spread <= 1 (U[w(1-s), w(1+s)] must stay >= 0)")


def draw_weights(rng: np.random.Generator, mean, shape, distribution: str,
                 spread: float) -> np.ndarray:
    """Weights ``mean * X`` of the given shape (see the module docstring for ``X``).

    Parameters
    ----------
    rng : numpy.random.Generator
        The member's generator.
    mean : float or numpy.ndarray
        Mean weight, broadcast against ``shape``.
    shape : tuple of int
    distribution : {'constant', 'uniform', 'normal', 'lognormal'}
    spread : float
        Relative spread :math:`s`.

    Returns
    -------
    numpy.ndarray
        Non-negative float64 weights of ``shape``.
    """
    if distribution == "constant" or spread == 0:
        x = np.ones(shape)
    elif distribution == "uniform":
        x = rng.uniform(1.0 - spread, 1.0 + spread, size=shape)
    elif distribution == "normal":
        x = np.maximum(rng.normal(1.0, spread, size=shape), 0.0)
    elif distribution == "lognormal":
        sigma2 = np.log1p(spread * spread)
        x = rng.lognormal(-0.5 * sigma2, np.sqrt(sigma2), size=shape)
    else:  # validated by the Key's choices; kept for direct callers
        raise ValueError(f"distribution = {distribution!r}; expected one of "
                         "['constant', 'uniform', 'normal', 'lognormal']")
    return np.asarray(mean, dtype=np.float64) * x


def member_value(part, name: str):
    """Key ``name`` of ``part`` for the member being generated (``part.member``).

    A per-member key (``{"per_member": [...]}`` in the config) holds one value
    per batch member once built; any other key holds one value for all.
    """
    if is_per_member(part.config[name]):
        return getattr(part, name)[part.member]
    return getattr(part, name)


def input_synapses(rng: np.random.Generator, part, n_inputs: int, n_neurons: int):
    """``(matrix, mask)`` rows of the inputs: each synapse exists with ``input_density``.

    Returns
    -------
    matrix : numpy.ndarray
        ``(n_inputs, n_neurons)`` weights (zero where absent).
    mask : numpy.ndarray
        ``(n_inputs, n_neurons)`` booleans.
    """
    mask = rng.random((n_inputs, n_neurons)) < part.input_density
    weights = draw_weights(rng, member_value(part, "input_weight"), (n_inputs, n_neurons),
                           part.distribution, part.spread)
    return weights * mask, mask


def ring_lattice(n: int, k: int, directed: bool) -> np.ndarray:
    r"""Adjacency ``(n, n)`` of a ring lattice: ``A[i, j]`` is the synapse ``i -> j``.

    Neuron :math:`i` projects to :math:`i \pm 1, \dots, i \pm k \pmod n`
    (undirected, in- and out-degree :math:`2k`), or to :math:`i + 1, \dots,
    i + k` only (``directed``, in- and out-degree :math:`k`).
    """
    offsets = np.arange(1, k + 1)
    if not directed:
        offsets = np.concatenate([offsets, -offsets])
    adjacency = np.zeros((n, n), dtype=bool)
    rows = np.repeat(np.arange(n), offsets.size)
    adjacency[rows, (rows + np.tile(offsets, n)) % n] = True
    return adjacency


def check_ring(part, n: int) -> None:
    """``k`` neighbours per side must fit on a ring of ``n`` neurons without overlap."""
    need = part.k + 1 if part.directed else 2 * part.k + 1
    if n < need:
        side = "on one side (directed)" if part.directed else "on each side"
        raise ConfigError(f"{part.owner}.k = {part.k} neighbours {side} needs n_neurons >= {need}; "
                          f"got n_neurons = {n}")


def fraction_list(part, name: str, count: int, what: str, low=0.0, high=None) -> list:
    """Key ``name`` (a number or a list) as ``count`` floats in ``[low, high]``.

    Raises ConfigError naming the key, its value and the expected length or range.
    """
    value = member_value(part, name)
    values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value] * count
    if len(values) != count:
        raise ConfigError(f"{part.owner}.{name} = {value!r} has {len(values)} values; expected one "
                          f"number or {count} ({what})")
    for v in values:
        ok = isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and v == v
        if not ok or v < low or (high is not None and v > high):
            bounds = f"{low} <= value" + ("" if high is None else f" <= {high}")
            raise ConfigError(f"{part.owner}.{name} = {value!r}; expected numbers with {bounds}")
    return [float(v) for v in values]


def structural_keys(keys) -> tuple:
    """Names of ``keys``: they shape the generated matrix, so they cannot change after build."""
    return tuple(k.name for k in keys)

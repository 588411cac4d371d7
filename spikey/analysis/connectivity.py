r"""Structure of a weight mask: degrees, densities and clustering.

The functions read one member's existence mask ``mask`` of shape
``(n_inputs + n_neurons, n_neurons)`` (rows presynaptic, inputs first; e.g.
``net.weights.mask[b]``) or its body block ``A = mask[n_inputs:]``, where
:math:`A_{jk}` means the synapse :math:`j \to k`.

* in-degree of body neuron :math:`k`: :math:`\sum_j A_{jk}`; out-degree of
  :math:`j`: :math:`\sum_k A_{jk}`.
* density of the block from population :math:`P` to :math:`Q`: the present
  synapses over the possible pairs :math:`|P||Q| - |P \cap Q|` (no self-pairs).
* clustering (Watts & Strogatz 1998) of the undirected graph
  :math:`U = A \lor A^\top`: node :math:`i` with :math:`k_i` neighbours and
  :math:`t_i` triangles has :math:`C_i = 2 t_i / (k_i (k_i - 1))`
  (0 when :math:`k_i < 2`); :math:`t_i = (U^3)_{ii} / 2`. A ring lattice of
  :math:`k` neighbours per side has :math:`C = 3(k-1) / (2(2k-1))`, a random
  graph of mean degree :math:`\bar k` about :math:`\bar k / N`.
"""

from __future__ import annotations

import numpy as np


def _body(mask, n_inputs: int) -> np.ndarray:
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2 or mask.shape[0] - n_inputs != mask.shape[1]:
        raise ValueError(f"mask has shape {mask.shape}; expected (n_inputs + n_neurons, "
                         f"n_neurons) with n_inputs = {n_inputs}")
    return mask[n_inputs:]


def in_degree(mask, n_inputs: int = 0) -> np.ndarray:
    """Body synapses arriving at each body neuron, ``(n_neurons,)``.

    Parameters
    ----------
    mask : array-like of bool
        ``(n_inputs + n_neurons, n_neurons)``, one member.
    n_inputs : int
        Leading input rows, left out.
    """
    return _body(mask, n_inputs).sum(axis=0)


def out_degree(mask, n_inputs: int = 0) -> np.ndarray:
    """Body synapses leaving each body neuron, ``(n_neurons,)`` (see :func:`in_degree`)."""
    return _body(mask, n_inputs).sum(axis=1)


def block_density(mask, pre, post, n_inputs: int = 0) -> float:
    """Fraction of present synapses from body neurons ``pre`` to body neurons ``post``.

    Self-pairs :math:`i \\to i` are not counted as possible synapses.

    Parameters
    ----------
    mask : array-like of bool
        ``(n_inputs + n_neurons, n_neurons)``, one member.
    pre, post : array-like of int or bool
        Body indices (or boolean masks) of the two populations.
    n_inputs : int
        Leading input rows.
    """
    body = _body(mask, n_inputs)
    n = body.shape[1]
    pre = np.flatnonzero(np.asarray(pre)) if np.asarray(pre).dtype == bool else np.asarray(pre)
    post = np.flatnonzero(np.asarray(post)) if np.asarray(post).dtype == bool else np.asarray(post)
    block = body[np.ix_(pre, post)]
    shared = np.intersect1d(pre, post)
    possible = pre.size * post.size - shared.size
    if possible <= 0:
        raise ValueError(f"block_density: no possible synapses from {pre.size} to {post.size} "
                         f"neurons (of {n})")
    return float((block.sum() - body[shared, shared].sum()) / possible)


def clustering_coefficient(adjacency) -> float:
    """Mean local clustering of the undirected graph ``A | A.T`` (self-pairs ignored).

    Parameters
    ----------
    adjacency : array-like of bool
        ``(N, N)`` body adjacency, ``A[j, k]`` = synapse ``j -> k``.

    Returns
    -------
    float
        The mean of :math:`C_i` over all nodes (nodes of degree < 2 count 0).
    """
    a = np.asarray(adjacency, dtype=bool)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency has shape {a.shape}; expected a square (N, N) matrix")
    u = (a | a.T).astype(np.float64)
    np.fill_diagonal(u, 0.0)
    degree = u.sum(axis=1)
    triangles = ((u @ u) * u).sum(axis=1) / 2.0  # (U^3)_ii / 2
    pairs = degree * (degree - 1.0) / 2.0
    local = np.divide(triangles, pairs, out=np.zeros_like(triangles), where=pairs > 0)
    return float(local.mean())

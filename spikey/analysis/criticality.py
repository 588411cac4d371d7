r"""Criticality of spiking activity: avalanches, power laws, branching ratio, variability.

Every function takes a boolean spike raster of shape ``(T, N)`` (``T`` steps,
``N`` neurons) or a batch ``(B, T, N)`` — e.g. :attr:`Network.tick_spikes` —
and returns plain numbers, dicts, arrays or DataFrames. Batch members are
independent recordings: nothing (an avalanche, an interval, a bin pair) spans
two members.

**Binning.** The population count of bin :math:`t` is

.. math:: n_t = \sum_{s = t\Delta}^{(t+1)\Delta - 1} \sum_{i=1}^{N} z_{s,i},

with :math:`\Delta` = ``bin_size`` steps (a trailing partial bin is dropped).

**Avalanches** (Beggs & Plenz 2003). An avalanche is a maximal run of
non-empty bins :math:`n_a, \dots, n_{b-1} > 0` with :math:`n_{a-1} = n_b = 0`;
its *duration* is :math:`D = b - a` bins and its *size* :math:`S = \sum_{t=a}^{b-1} n_t`
spikes. Runs cut by the start or end of a recording are incomplete and left
out unless asked for.

**Branching ratio** :math:`\sigma`: the mean number of descendants (spikes in
bin :math:`t+1`) per ancestor (spike in bin :math:`t`). For a Galton–Watson
process :math:`\mathbb E[n_{t+1} \mid n_t] = \sigma n_t`; :math:`\sigma < 1`
activity dies out (subcritical), :math:`\sigma = 1` is critical,
:math:`\sigma > 1` activity grows (supercritical). Estimators:

* ``mean_ratio`` (default) — over every bin pair inside avalanches,
  :math:`\hat\sigma = \langle n_{t+1} / n_t \rangle_{t:\, n_t > 0}`;
  unbiased for a branching process since :math:`\mathbb E[n_{t+1}/n_t \mid n_t] = \sigma`.
* ``first_generation`` — Beggs & Plenz (2003): the second bin over the first
  bin of each avalanche, averaged over avalanches that start after silence.
* ``regression`` — the least-squares slope of :math:`n_{t+1}` on :math:`n_t`
  over all bins (centred per member). Under a stationary external drive
  :math:`\mathbb E[n_{t+1} \mid n_t] = \sigma n_t + h` it still estimates
  :math:`\sigma` (Wilting & Priesemann 2018, the conventional estimator).

The ratio of sums :math:`\sum n_{t+1} / \sum n_t` over complete avalanches is
not offered: it equals :math:`1 - n_a / S < 1` for every avalanche, so it can
never report supercritical activity.

**Power laws** (Clauset, Shalizi & Newman 2009). For integer samples
:math:`x \ge x_{min}` with :math:`P(x) = x^{-\alpha} / \zeta(\alpha, x_{min})`
(:math:`\zeta` the Hurwitz zeta function) the maximum-likelihood exponent
maximises

.. math:: \ell(\alpha) = -n \ln \zeta(\alpha, x_{min}) - \alpha \sum_{i} \ln x_i,

which is concave in :math:`\alpha`; its standard error is about
:math:`(\hat\alpha - 1)/\sqrt n`. Without a given :math:`x_{min}`, every
observed value (with at least ``min_tail`` samples at or above it) is tried
and the one minimising the Kolmogorov–Smirnov distance
:math:`D = \max_x |F_{emp}(x) - F(x)|` between the tail's empirical and fitted
CDFs, :math:`F(x) = 1 - \zeta(\alpha, x+1)/\zeta(\alpha, x_{min})`, is kept.
At criticality, mean-field avalanches have :math:`P(S) \sim S^{-3/2}` and
:math:`P(D) \sim D^{-2}`.

**Variability.** The coefficient of variation of neuron :math:`i`'s
inter-spike intervals :math:`\tau_k` is :math:`CV_i = \mathrm{std}(\tau)/\mathrm{mean}(\tau)`
(0 for a regular train, 1 for a Poisson train); the Fano factor of its spike
counts :math:`c_w` in windows of ``window`` steps is
:math:`F_i = \mathrm{Var}(c)/\mathbb E[c]` (1 for a Poisson train).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: The regimes :func:`classify` and :func:`regime` return.
REGIMES = ("subcritical", "critical", "supercritical")
METHODS = ("mean_ratio", "first_generation", "regression")


# ---------------------------------------------------------------- rasters and bins
def as_batch(raster) -> np.ndarray:
    """A raster as a boolean ``(B, T, N)`` array (a ``(T, N)`` raster gets ``B = 1``).

    Raises
    ------
    ValueError
        When the raster is not 2-D or 3-D.
    """
    array = np.asarray(raster)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"raster has shape {np.shape(raster)}; expected (T, N) or (B, T, N) "
                         "spikes")
    return array.astype(bool, copy=False)


def _check_bin(bin_size, T: int, name: str = "bin_size") -> int:
    if not (isinstance(bin_size, (int, np.integer)) and bin_size >= 1):
        raise ValueError(f"{name} = {bin_size!r}; expected an integer >= 1 (steps)")
    if bin_size > T:
        raise ValueError(f"{name} = {bin_size} is longer than the recording (T = {T} steps)")
    return int(bin_size)


def population_counts(raster, bin_size: int = 1) -> np.ndarray:
    r"""Spikes of all neurons per bin, :math:`n_t`, shape ``(B, T // bin_size)``.

    Parameters
    ----------
    raster : array-like of bool
        ``(T, N)`` or ``(B, T, N)`` spikes.
    bin_size : int
        Steps per bin :math:`\Delta`; a trailing partial bin is dropped.

    Returns
    -------
    numpy.ndarray
        int64 counts, one row per member.

    Examples
    --------
    >>> population_counts([[1, 1], [0, 0], [0, 1], [1, 0]], bin_size=2)
    array([[2, 2]])
    """
    z = as_batch(raster)
    B, T, N = z.shape
    bin_size = _check_bin(bin_size, T)
    per_step = z.sum(axis=2, dtype=np.int64)
    n_bins = T // bin_size
    return per_step[:, :n_bins * bin_size].reshape(B, n_bins, bin_size).sum(axis=2)


# ---------------------------------------------------------------- avalanches
def avalanches(raster, bin_size: int = 1, include_edges: bool = False) -> pd.DataFrame:
    """Every avalanche: a run of non-empty bins between empty bins.

    Parameters
    ----------
    raster : array-like of bool
        ``(T, N)`` or ``(B, T, N)`` spikes.
    bin_size : int
        Steps per bin.
    include_edges : bool
        Keep runs cut by the start or the end of a recording (incomplete
        avalanches; left out by default).

    Returns
    -------
    pandas.DataFrame
        One row per avalanche, in order of member then time, with columns
        ``member``, ``start`` (first bin), ``duration`` (bins) and ``size``
        (spikes).

    Examples
    --------
    Bins with 0, 2, 1, 0, 3, 0 spikes hold two avalanches:

    >>> raster = [[0, 0], [1, 1], [1, 0], [0, 0], [1, 1], [0, 1], [0, 0]]
    >>> avalanches(raster)[["start", "duration", "size"]].to_numpy().tolist()
    [[1, 2, 3], [4, 2, 3]]
    """
    counts = population_counts(raster, bin_size)
    B, n_bins = counts.shape
    active = np.zeros((B, n_bins + 2), dtype=np.int8)
    active[:, 1:-1] = counts > 0
    change = np.diff(active, axis=1)  # (B, n_bins + 1): +1 where a run starts, -1 past its end
    member, start = np.nonzero(change == 1)
    _, stop = np.nonzero(change == -1)  # both come sorted by member then bin, so they pair up
    total = np.zeros((B, n_bins + 1), dtype=np.int64)
    np.cumsum(counts, axis=1, out=total[:, 1:])
    size = total[member, stop] - total[member, start]
    keep = slice(None) if include_edges else (start > 0) & (stop < n_bins)
    return pd.DataFrame({"member": member[keep], "start": start[keep],
                         "duration": (stop - start)[keep], "size": size[keep]})


# ---------------------------------------------------------------- branching ratio
def branching_ratio(raster, bin_size: int = 1, method: str = "mean_ratio") -> float:
    r"""Mean descendants per ancestor, :math:`\hat\sigma` (see the module docstring).

    Parameters
    ----------
    raster : array-like of bool
        ``(T, N)`` or ``(B, T, N)`` spikes; members are pooled.
    bin_size : int
        Steps per bin (one step matches a one-step synaptic delay).
    method : {'mean_ratio', 'first_generation', 'regression'}
        ``mean_ratio``: :math:`\langle n_{t+1}/n_t\rangle` over bins with
        :math:`n_t > 0`; ``first_generation``: second over first bin of each
        avalanche started after silence; ``regression``: slope of
        :math:`n_{t+1}` on :math:`n_t`.

    Returns
    -------
    float
        :math:`\hat\sigma`, or ``nan`` when there is no ancestor to count (no
        spikes, or no bin pair of the kind the method needs).

    Examples
    --------
    Bins 1, 2, 4, 0: ratios 2, 2, 0.

    >>> counts = [1, 2, 4, 0]
    >>> raster = [[i < c for i in range(4)] for c in counts]
    >>> branching_ratio(raster)
    1.3333333333333333
    """
    if method not in METHODS:
        raise ValueError(f"method = {method!r}; expected one of {list(METHODS)}")
    counts = population_counts(raster, bin_size).astype(np.float64)
    ancestors, descendants = counts[:, :-1], counts[:, 1:]
    if method == "mean_ratio":
        valid = ancestors > 0
        if not valid.any():
            return math.nan
        return float(np.mean(descendants[valid] / ancestors[valid]))
    if method == "first_generation":
        events = avalanches(raster, bin_size, include_edges=True)
        events = events[(events["start"] > 0) & (events["start"] + 1 < counts.shape[1])]
        if events.empty:
            return math.nan
        m, t = events["member"].to_numpy(), events["start"].to_numpy()
        return float(np.mean(counts[m, t + 1] / counts[m, t]))
    x = ancestors - ancestors.mean(axis=1, keepdims=True)
    y = descendants - descendants.mean(axis=1, keepdims=True)
    variance = float(np.sum(x * x))
    return float(np.sum(x * y) / variance) if variance > 0 else math.nan


def regime(sigma: float, tolerance: float = 0.1) -> str:
    r"""The regime of a branching ratio: critical when :math:`|\sigma - 1| \le` ``tolerance``.

    Parameters
    ----------
    sigma : float
        Branching ratio; ``nan`` (nothing propagated) counts as subcritical.
    tolerance : float
        Half-width of the critical band around 1.

    Returns
    -------
    str
        ``'subcritical'`` (:math:`\sigma < 1 - \text{tol}`), ``'critical'``
        or ``'supercritical'`` (:math:`\sigma > 1 + \text{tol}`).

    Examples
    --------
    >>> regime(0.95), regime(0.5), regime(1.3)
    ('critical', 'subcritical', 'supercritical')
    """
    if not tolerance >= 0:
        raise ValueError(f"tolerance = {tolerance!r}; expected a number >= 0")
    if not sigma == sigma or sigma < 1.0 - tolerance:
        return "subcritical"
    return "critical" if sigma <= 1.0 + tolerance else "supercritical"


def classify(raster, bin_size: int = 1, tolerance: float = 0.1,
             method: str = "mean_ratio") -> str:
    r"""``'subcritical'``, ``'critical'`` or ``'supercritical'`` from the branching ratio.

    The band :math:`|\hat\sigma - 1| \le` ``tolerance`` (0.1 by default) is
    critical; below it activity dies out, above it activity grows. A silent
    raster (no ancestors) is subcritical.

    Parameters
    ----------
    raster : array-like of bool
        ``(T, N)`` or ``(B, T, N)`` spikes (members pooled; classify members
        one at a time to compare them).
    bin_size, method
        As in :func:`branching_ratio`.
    tolerance : float
        Half-width of the critical band.

    Returns
    -------
    str

    Notes
    -----
    Measure near quiescence: record trials that start from rest
    (``net.reset()`` before each tick) or a network that falls silent between
    avalanches. A network stuck in sustained firing has no avalanches left and
    :math:`\langle n_{t+1}/n_t \rangle \approx 1` whatever its dynamics (as for
    any stationary activity), so a runaway network recorded only after it ran
    away reads as critical; check :func:`firing_rate` and the avalanche count
    (:func:`summary`) alongside.

    Examples
    --------
    Bins with 0, 1, 3, 3, 0 spikes: ratios 3, 1, 0, so :math:`\hat\sigma = 4/3`.

    >>> classify([[0, 0, 0], [1, 0, 0], [1, 1, 1], [1, 1, 1], [0, 0, 0]])
    'supercritical'
    """
    return regime(branching_ratio(raster, bin_size, method), tolerance)


# ---------------------------------------------------------------- power laws
# Bernoulli numbers B_2, B_4, ..., B_14 over (2j)! for the Euler–Maclaurin tail.
_EM = np.array([1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6]) / \
    np.array([math.factorial(2 * j) for j in range(1, 8)], dtype=np.float64)


def hurwitz_zeta(s, q, terms: int = 12) -> np.ndarray:
    r"""Hurwitz zeta :math:`\zeta(s, q) = \sum_{k \ge 0} (q + k)^{-s}` for :math:`s > 1, q > 0`.

    Euler–Maclaurin summation: the first ``terms`` terms exactly, then with
    :math:`a = q + M`,

    .. math:: \frac{a^{1-s}}{s-1} + \frac{a^{-s}}{2}
              + \sum_{j=1}^{7} \frac{B_{2j}}{(2j)!}\, s(s+1)\cdots(s+2j-2)\, a^{-s-2j+1},

    accurate to about double precision for :math:`1 < s \le 10`, :math:`q \ge 1`.

    Parameters
    ----------
    s, q : float or array-like
        Broadcast against each other.

    Returns
    -------
    numpy.ndarray
    """
    s, q = np.broadcast_arrays(np.asarray(s, dtype=np.float64), np.asarray(q, dtype=np.float64))
    k = np.arange(terms, dtype=np.float64).reshape((-1,) + (1,) * s.ndim)
    total = np.sum((q + k) ** -s, axis=0)
    a = q + terms
    total = total + a ** (1.0 - s) / (s - 1.0) + 0.5 * a ** -s
    rising = s.copy()  # s (s+1) ... (s + 2j - 2)
    power = a ** (-s - 1.0)
    for j, coefficient in enumerate(_EM, start=1):
        total = total + coefficient * rising * power
        rising = rising * (s + 2 * j - 1) * (s + 2 * j)
        power = power / (a * a)
    return total


def _mle_alpha(n, log_sum, xmin, low=1.0 + 1e-6, high=10.0, iterations=60):
    """Golden-section maximum of the concave discrete log-likelihood, vectorised over tails."""
    n, log_sum, xmin = (np.asarray(v, dtype=np.float64) for v in (n, log_sum, xmin))

    def likelihood(alpha):
        return -n * np.log(hurwitz_zeta(alpha, xmin)) - alpha * log_sum

    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = np.full(n.shape, low), np.full(n.shape, high)
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = likelihood(c), likelihood(d)
    for _ in range(iterations):
        left = fc > fd  # the maximum lies in [a, d]
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c_new = np.where(left, b - ratio * (b - a), d)
        d_new = np.where(left, c, a + ratio * (b - a))
        c, d = c_new, d_new
        fc_new = np.where(left, likelihood(c), fd)
        fd_new = np.where(left, fc, likelihood(d))
        fc, fd = fc_new, fd_new
    return 0.5 * (a + b)


def _ks_distance(tail, alpha, xmin) -> float:
    values, counts = np.unique(tail, return_counts=True)
    empirical = np.cumsum(counts) / tail.size
    before = np.concatenate([[0.0], empirical[:-1]])
    norm = hurwitz_zeta(alpha, xmin)
    # the fitted CDF rises at every integer, the empirical one only at observed
    # values: the largest gap is at an observed value or just below it
    model_at = 1.0 - hurwitz_zeta(alpha, values + 1.0) / norm
    model_below = 1.0 - hurwitz_zeta(alpha, values.astype(np.float64)) / norm
    return float(max(np.abs(empirical - model_at).max(), np.abs(before - model_below).max()))


def fit_power_law(samples, xmin: int | None = None, min_tail: int = 10) -> dict:
    r"""Discrete power-law fit :math:`P(x) \propto x^{-\alpha}`, :math:`x \ge x_{min}`.

    Maximum likelihood for :math:`\alpha` (see the module docstring); with
    ``xmin=None`` the :math:`x_{min}` minimising the KS distance is chosen
    (Clauset et al. 2009).

    Parameters
    ----------
    samples : array-like of int
        Positive integers, e.g. avalanche sizes or durations.
    xmin : int, optional
        Lower end of the power law; chosen by KS distance when None.
    min_tail : int
        Fewest samples a candidate :math:`x_{min}` must leave in the tail.

    Returns
    -------
    dict
        ``alpha`` (exponent), ``alpha_error`` (:math:`(\alpha-1)/\sqrt{n}`),
        ``xmin``, ``n_tail`` (samples :math:`\ge x_{min}`) and ``ks_distance``.

    Raises
    ------
    ValueError
        When samples are not positive integers or too few lie in the tail.

    Examples
    --------
    >>> x = np.random.default_rng(0).zipf(2.5, size=5000)
    >>> round(fit_power_law(x, xmin=1)["alpha"], 1)
    2.5
    """
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)) or np.any(x < 1) or np.any(x != np.round(x)):
        raise ValueError("samples must be integers >= 1 (e.g. avalanche sizes); got "
                         f"{x.size} values with min {x.min() if x.size else None}")
    x = np.sort(x)
    logs = np.log(x)
    # tail statistics for every candidate: samples >= value, and their log sum
    if xmin is None:
        candidates = np.unique(x)
        first = np.searchsorted(x, candidates, side="left")
        n_tail = x.size - first
        usable = n_tail >= min_tail
        if not usable.any():
            raise ValueError(f"fit_power_law: {x.size} samples; expected at least min_tail = "
                             f"{min_tail} to choose xmin")
        candidates, first, n_tail = candidates[usable], first[usable], n_tail[usable]
    else:
        if not (isinstance(xmin, (int, np.integer)) and xmin >= 1):
            raise ValueError(f"xmin = {xmin!r}; expected an integer >= 1")
        candidates = np.array([float(xmin)])
        first = np.searchsorted(x, candidates, side="left")
        n_tail = x.size - first
        if n_tail[0] < 2:
            raise ValueError(f"fit_power_law: {int(n_tail[0])} samples >= xmin = {xmin}; "
                             "expected at least 2")
    suffix = np.concatenate([np.cumsum(logs[::-1])[::-1], [0.0]])
    alphas = _mle_alpha(n_tail, suffix[first], candidates)
    distances = np.array([_ks_distance(x[f:], a, c) for f, a, c in zip(first, alphas, candidates)])
    best = int(np.argmin(distances))
    alpha = float(alphas[best])
    return {"alpha": alpha, "alpha_error": (alpha - 1.0) / math.sqrt(n_tail[best]),
            "xmin": int(candidates[best]), "n_tail": int(n_tail[best]),
            "ks_distance": float(distances[best])}


# ---------------------------------------------------------------- rates and variability
def firing_rate(raster, dt: float = 1.0, per_neuron: bool = False):
    r"""Mean firing rate (Hz): :math:`\nu = \frac{\text{spikes}}{N \, T \, \Delta t} \cdot 1000`.

    Parameters
    ----------
    raster : array-like of bool
        ``(T, N)`` or ``(B, T, N)`` spikes.
    dt : float
        Step (ms).
    per_neuron : bool
        Return every neuron's rate instead of the mean.

    Returns
    -------
    float or numpy.ndarray
        The mean rate over members and neurons, or rates of shape ``(N,)``
        (for a 2-D raster) or ``(B, N)``.
    """
    z = as_batch(raster)
    rates = z.sum(axis=1) / (z.shape[1] * dt / 1000.0)
    if per_neuron:
        return rates[0] if np.ndim(raster) == 2 else rates
    return float(rates.mean())


def isi_cv(raster, min_intervals: int = 2) -> np.ndarray:
    r"""Coefficient of variation of each neuron's inter-spike intervals.

    :math:`CV = \sqrt{\langle(\tau - \bar\tau)^2\rangle} / \bar\tau` over the
    neuron's intervals :math:`\tau` (population standard deviation): 0 for a
    regular train, :math:`\sqrt{1 - p} \approx 1` for a Bernoulli (Poisson)
    train of spike probability :math:`p` per step.

    Parameters
    ----------
    raster : array-like of bool
        ``(T, N)`` or ``(B, T, N)`` spikes.
    min_intervals : int
        Neurons with fewer intervals get ``nan``.

    Returns
    -------
    numpy.ndarray
        ``(N,)`` for a 2-D raster, else ``(B, N)``.
    """
    z = as_batch(raster)
    B, T, N = z.shape
    member, neuron, time = np.nonzero(z.transpose(0, 2, 1))  # sorted by (member, neuron, time)
    group = member * N + neuron
    same = group[1:] == group[:-1]
    interval = (time[1:] - time[:-1])[same].astype(np.float64)
    owner = group[1:][same]
    count = np.bincount(owner, minlength=B * N)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(owner, interval, minlength=B * N) / count
        # two passes, so a regular train gives exactly 0
        variance = np.bincount(owner, (interval - mean[owner]) ** 2, minlength=B * N) / count
        cv = np.sqrt(variance) / mean
    cv[count < max(int(min_intervals), 1)] = np.nan
    cv = cv.reshape(B, N)
    return cv[0] if np.ndim(raster) == 2 else cv


def fano_factor(raster, window: int) -> np.ndarray:
    r"""Fano factor of each neuron's spike counts in windows of ``window`` steps.

    :math:`F = s^2_c / \bar c` over the counts :math:`c` of the
    :math:`\lfloor T / \text{window} \rfloor` windows (sample variance,
    :math:`n - 1` in the denominator): 1 for a Poisson train, 0 for a regular
    train whose period divides the window.

    Parameters
    ----------
    raster : array-like of bool
        ``(T, N)`` or ``(B, T, N)`` spikes.
    window : int
        Steps per counting window; at least two windows must fit.

    Returns
    -------
    numpy.ndarray
        ``(N,)`` for a 2-D raster, else ``(B, N)``; ``nan`` for silent neurons.
    """
    z = as_batch(raster)
    B, T, N = z.shape
    window = _check_bin(window, T, "window")
    n_windows = T // window
    if n_windows < 2:
        raise ValueError(f"window = {window} leaves {n_windows} whole window(s) in T = {T} "
                         "steps; expected at least 2")
    counts = z[:, :n_windows * window].reshape(B, n_windows, window, N).sum(axis=2,
                                                                          dtype=np.float64)
    mean = counts.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        fano = np.where(mean > 0, counts.var(axis=1, ddof=1) / mean, np.nan)
    return fano[0] if np.ndim(raster) == 2 else fano


# ---------------------------------------------------------------- all at once
def summary(raster, bin_size: int = 1, dt: float = 1.0, tolerance: float = 0.1,
            method: str = "mean_ratio", window: int | None = None,
            min_avalanches: int = 50) -> dict:
    """Every statistic of this module for one recording (members pooled).

    Parameters
    ----------
    raster : array-like of bool
        ``(T, N)`` or ``(B, T, N)`` spikes.
    bin_size, method, tolerance
        As in :func:`classify`.
    dt : float
        Step (ms).
    window : int, optional
        Fano window in steps; default ``T // 10``.
    min_avalanches : int
        Fewest complete avalanches for the power-law fits (else ``nan``).

    Returns
    -------
    dict
        ``rate_hz``, ``branching_ratio``, ``regime``, ``n_avalanches``,
        ``mean_size``, ``mean_duration``, ``size_exponent``,
        ``duration_exponent``, ``cv_isi`` and ``fano`` (means over neurons
        that have a value).
    """
    z = as_batch(raster)
    T = z.shape[1]
    sigma = branching_ratio(z, bin_size, method)
    events = avalanches(z, bin_size)
    exponents = {}
    for column in ("size", "duration"):
        exponents[column] = math.nan
        if len(events) >= min_avalanches:
            try:
                exponents[column] = fit_power_law(events[column].to_numpy())["alpha"]
            except ValueError:  # e.g. every duration equal: nothing to fit
                pass
    cv = isi_cv(z)
    fano = fano_factor(z, window or max(T // 10, 1)) if T >= 2 else np.full(1, np.nan)
    mean_cv = float(np.nanmean(cv)) if np.isfinite(cv).any() else math.nan
    mean_fano = float(np.nanmean(fano)) if np.isfinite(fano).any() else math.nan
    return {
        "rate_hz": firing_rate(z, dt),
        "branching_ratio": sigma,
        "regime": regime(sigma, tolerance),
        "n_avalanches": int(len(events)),
        "mean_size": float(events["size"].mean()) if len(events) else math.nan,
        "mean_duration": float(events["duration"].mean()) if len(events) else math.nan,
        "size_exponent": exponents["size"],
        "duration_exponent": exponents["duration"],
        "cv_isi": mean_cv,
        "fano": mean_fano,
    }

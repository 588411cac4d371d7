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

**Is it a power law?** A fitted exponent alone says little: :func:`power_law_tests`
adds a bootstrap interval of :math:`\alpha`, the goodness-of-fit p-value of
Clauset et al. (synthetic data sets from the fitted law, refitted; the share
whose KS distance is at least the data's) and Vuong's likelihood-ratio tests
against a lognormal and an exponential on the same tail
(:func:`compare_power_law`). :func:`classify` and :func:`assess_criticality`
name a regime only when the estimators agree, else ``'undetermined'``.

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

#: The regimes :func:`classify` returns (:func:`regime` never says ``undetermined``).
REGIMES = ("subcritical", "critical", "supercritical", "undetermined")
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
def _counts_of(raster, counts, bin_size) -> np.ndarray:
    """Population counts ``(B, n_bins)`` from a raster or from counts given directly."""
    if counts is None:
        if raster is None:
            raise ValueError("give a spike raster (T, N) / (B, T, N) or counts= (B, T)")
        return population_counts(raster, bin_size)
    if raster is not None:
        raise ValueError("give either a raster or counts=, not both")
    c = np.asarray(counts)
    if c.ndim == 1:
        c = c[None]
    if c.ndim != 2 or c.size == 0:
        raise ValueError(f"counts has shape {np.shape(counts)}; expected (T,) or (B, T) spikes "
                         "per bin")
    if not np.all(np.isfinite(c)) or np.any(c < 0) or np.any(c != np.round(c)):
        raise ValueError("counts must be integers >= 0 (spikes per bin)")
    c = c.astype(np.int64)
    bin_size = _check_bin(bin_size, c.shape[1])
    n_bins = c.shape[1] // bin_size
    return c[:, :n_bins * bin_size].reshape(c.shape[0], n_bins, bin_size).sum(axis=2)


def _avalanche_table(counts, include_edges):
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


def avalanches(raster=None, bin_size: int = 1, include_edges: bool = False, *,
               counts=None) -> pd.DataFrame:
    """Every avalanche: a run of non-empty bins between empty bins.

    An avalanche still running when a recording ends is cut short, and its
    size and duration would be those of the recording, not of the avalanche;
    such runs (and runs already going at the first bin) are left out unless
    ``include_edges``. To keep long avalanches, record until the network falls
    silent (each recording ending in an empty bin) rather than for a fixed
    time; to count a run starting at the first bin of a recording that began
    from rest, give the counts with a leading empty bin.

    Parameters
    ----------
    raster : array-like of bool, optional
        ``(T, N)`` or ``(B, T, N)`` spikes.
    bin_size : int
        Steps per bin.
    include_edges : bool
        Keep runs cut by the start or the end of a recording (incomplete
        avalanches; left out by default).
    counts : array-like of int, optional
        Spikes per step ``(T,)`` or ``(B, T)`` instead of a raster (e.g. the
        population counts of recordings of different lengths, padded with 0).

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
    >>> avalanches(counts=[0, 2, 1, 0, 3, 4])["size"].tolist()  # the last run is cut
    [3]
    """
    return _avalanche_table(_counts_of(raster, counts, bin_size), include_edges)


# ---------------------------------------------------------------- branching ratio
def _branching_terms(counts, method):
    """Per member ``(numerator, denominator)``: the estimate is ``sum(num) / sum(den)``.

    Pooling sums per member lets the bootstrap resample members by weighting
    these terms instead of recomputing the estimator.
    """
    counts = counts.astype(np.float64)
    B = counts.shape[0]
    ancestors, descendants = counts[:, :-1], counts[:, 1:]
    if method == "mean_ratio":
        valid = ancestors > 0
        ratios = np.divide(descendants, ancestors, out=np.zeros_like(ancestors), where=valid)
        return ratios.sum(axis=1), valid.sum(axis=1).astype(np.float64)
    if method == "first_generation":
        events = _avalanche_table(counts, include_edges=True)
        events = events[(events["start"] > 0) & (events["start"] + 1 < counts.shape[1])]
        m, t = events["member"].to_numpy(), events["start"].to_numpy()
        return (np.bincount(m, counts[m, t + 1] / counts[m, t], minlength=B),
                np.bincount(m, minlength=B).astype(np.float64))
    x = ancestors - ancestors.mean(axis=1, keepdims=True)
    y = descendants - descendants.mean(axis=1, keepdims=True)
    return np.sum(x * y, axis=1), np.sum(x * x, axis=1)


def _check_method(method):
    if method not in METHODS:
        raise ValueError(f"method = {method!r}; expected one of {list(METHODS)}")


def branching_ratio(raster=None, bin_size: int = 1, method: str = "mean_ratio", *,
                    counts=None) -> float:
    r"""Mean descendants per ancestor, :math:`\hat\sigma` (see the module docstring).

    Parameters
    ----------
    raster : array-like of bool, optional
        ``(T, N)`` or ``(B, T, N)`` spikes; members are pooled.
    bin_size : int
        Steps per bin (one step matches a one-step synaptic delay).
    method : {'mean_ratio', 'first_generation', 'regression'}
        ``mean_ratio``: :math:`\langle n_{t+1}/n_t\rangle` over bins with
        :math:`n_t > 0`; ``first_generation``: second over first bin of each
        avalanche started after silence; ``regression``: slope of
        :math:`n_{t+1}` on :math:`n_t`.
    counts : array-like of int, optional
        Spikes per step ``(T,)`` / ``(B, T)`` instead of a raster.

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
    _check_method(method)
    numerator, denominator = _branching_terms(_counts_of(raster, counts, bin_size), method)
    total = float(denominator.sum())
    return float(numerator.sum()) / total if total > 0 else math.nan


def branching_ratio_ci(raster=None, bin_size: int = 1, method: str = "mean_ratio", *,
                       counts=None, n_boot: int = 1000, level: float = 0.95,
                       seed: int = 0) -> dict:
    r"""The branching ratio with a bootstrap confidence interval over recordings.

    The members of a ``(B, T, N)`` raster (trials, or batch members) are the
    independent units: each of ``n_boot`` resamples draws ``B`` of them with
    replacement and recomputes :math:`\hat\sigma` from their pooled terms; the
    interval is the ``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles.

    Parameters
    ----------
    raster, bin_size, method, counts
        As for :func:`branching_ratio`; at least two recordings.
    n_boot : int
        Bootstrap resamples (>= 10).
    level : float
        Confidence level in (0, 1).
    seed : int
        Seed of the resampling generator.

    Returns
    -------
    dict
        ``sigma`` (the estimate on all recordings), ``low``, ``high`` (the
        interval; ``nan`` when resamples have no ancestors), ``method``.

    Raises
    ------
    ValueError
        With fewer than two recordings (split a long one into trials).
    """
    _check_method(method)
    if not (isinstance(n_boot, (int, np.integer)) and n_boot >= 10):
        raise ValueError(f"n_boot = {n_boot!r}; expected an integer >= 10")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level = {level!r}; expected a number in (0, 1)")
    counts = _counts_of(raster, counts, bin_size)
    B = counts.shape[0]
    if B < 2:
        raise ValueError(f"branching_ratio_ci: {B} recording; expected at least 2 to resample "
                         "(record several trials, or split a long recording into trials)")
    numerator, denominator = _branching_terms(counts, method)
    total = float(denominator.sum())
    sigma = float(numerator.sum()) / total if total > 0 else math.nan
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(B, np.full(B, 1.0 / B), size=n_boot).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimates = (weights @ numerator) / (weights @ denominator)
    estimates = estimates[np.isfinite(estimates)]
    if estimates.size < n_boot // 2:
        low = high = math.nan
    else:
        low, high = np.quantile(estimates, [(1 - level) / 2, (1 + level) / 2])
    return {"sigma": sigma, "low": float(low), "high": float(high), "method": method}


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


#: The estimators :func:`classify` asks by default: both measure spreading from quiescence.
AGREEING = ("mean_ratio", "first_generation")


def classify(raster=None, bin_size: int = 1, tolerance: float = 0.1, method=None, *,
             methods=AGREEING, counts=None) -> str:
    r"""``'subcritical'``, ``'critical'``, ``'supercritical'`` or ``'undetermined'``.

    By default the regime is named only when the branching-ratio estimators
    ``methods`` agree on it (each by :func:`regime` of its estimate); when
    they fall in different bands the answer is ``'undetermined'``. The band
    :math:`|\hat\sigma - 1| \le` ``tolerance`` (0.1 by default) is critical;
    below it activity dies out, above it activity grows. A silent raster (no
    ancestors) is subcritical.

    Parameters
    ----------
    raster : array-like of bool, optional
        ``(T, N)`` or ``(B, T, N)`` spikes (members pooled; classify members
        one at a time to compare them).
    bin_size : int
        As in :func:`branching_ratio`.
    tolerance : float
        Half-width of the critical band.
    method : str, optional
        One estimator alone (the regime of its estimate, never
        ``'undetermined'``).
    methods : sequence of str
        The estimators that must agree when ``method`` is None.
    counts : array-like of int, optional
        Spikes per step instead of a raster.

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
    away reads as critical by ``mean_ratio``; check :func:`firing_rate`, the
    avalanche count (:func:`summary`) and :func:`power_law_tests` alongside.

    Examples
    --------
    Bins with 0, 1, 3, 3, 0 spikes: ratios 3, 1, 0, so :math:`\hat\sigma = 4/3`;
    the first generation is 3.

    >>> classify([[0, 0, 0], [1, 0, 0], [1, 1, 1], [1, 1, 1], [0, 0, 0]])
    'supercritical'
    """
    c = _counts_of(raster, counts, bin_size)
    chosen = [method] if method is not None else list(methods)
    if not chosen:
        raise ValueError("methods is empty; expected at least one of " + str(list(METHODS)))
    labels = set()
    for name in chosen:
        _check_method(name)
        numerator, denominator = _branching_terms(c, name)
        total = float(denominator.sum())
        labels.add(regime(float(numerator.sum()) / total if total > 0 else math.nan,
                          tolerance))
    return labels.pop() if len(labels) == 1 else "undetermined"


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


def _power_law_samples(samples):
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)) or np.any(x < 1) or np.any(x != np.round(x)):
        raise ValueError("samples must be integers >= 1 (e.g. avalanche sizes); got "
                         f"{x.size} values with min {x.min() if x.size else None}")
    return x


def _tail(samples, xmin):
    x = _power_law_samples(samples)
    if not (isinstance(xmin, (int, np.integer)) and xmin >= 1):
        raise ValueError(f"xmin = {xmin!r}; expected an integer >= 1")
    tail = x[x >= xmin]
    if tail.size < 2:
        raise ValueError(f"{tail.size} samples >= xmin = {xmin}; expected at least 2")
    return tail


def sample_power_law(alpha: float, xmin: int, size: int, rng) -> np.ndarray:
    r"""Integers drawn from the discrete power law :math:`P(x) = x^{-\alpha} / \zeta(\alpha, x_{min})`.

    Exact inversion of :math:`P(X \ge x) = \zeta(\alpha, x) / \zeta(\alpha, x_{min})`
    over a table of 20,000 values from ``xmin``; the rare draws beyond it use
    the approximation of Clauset et al. (2009, eq. D.6),
    :math:`\lfloor (x_{min} - \tfrac12)(1 - r)^{-1/(\alpha - 1)} + \tfrac12 \rfloor`.

    Parameters
    ----------
    alpha : float
        Exponent, 1 < alpha <= 10.
    xmin : int
        Smallest value, >= 1.
    size : int
        Number of draws.
    rng : numpy.random.Generator
        Source of the uniform draws.

    Returns
    -------
    numpy.ndarray
        ``(size,)`` int64.
    """
    if not 1.0 < float(alpha) <= 10.0:
        raise ValueError(f"alpha = {alpha!r}; expected 1 < alpha <= 10")
    if not (isinstance(xmin, (int, np.integer)) and xmin >= 1):
        raise ValueError(f"xmin = {xmin!r}; expected an integer >= 1")
    values = np.arange(xmin, xmin + 20000, dtype=np.float64)
    survival = hurwitz_zeta(alpha, values) / hurwitz_zeta(alpha, float(xmin))  # P(X >= x)
    u = 1.0 - rng.random(int(size))  # in (0, 1]
    # X = the largest x with P(X >= x) >= u
    index = np.searchsorted(-survival, -u, side="right") - 1
    out = values[np.clip(index, 0, values.size - 1)]
    beyond = index >= values.size - 1
    if np.any(beyond):
        out[beyond] = np.maximum(np.floor((xmin - 0.5) * u[beyond] ** (-1.0 / (alpha - 1.0))
                                          + 0.5), values[-1])
    return out.astype(np.int64)


_ERFC = np.frompyfunc(math.erfc, 1, 1)


def _erfc(z):
    return np.asarray(_ERFC(np.asarray(z, dtype=np.float64)), dtype=np.float64)


def _lognormal_logpmf(values, mu, sigma, xmin):
    """log P(x) of the lognormal's mass on [x, x + 1), conditioned on x >= xmin."""
    root2 = math.sqrt(2.0)
    a = (np.log(values) - mu) / sigma
    b = (np.log(values + 1.0) - mu) / sigma
    # the difference of survivals right of the median, of CDFs left of it: no cancellation
    mass = np.where(a > 0, 0.5 * (_erfc(a / root2) - _erfc(b / root2)),
                    0.5 * (_erfc(-b / root2) - _erfc(-a / root2)))
    norm = 0.5 * float(_erfc((math.log(xmin) - mu) / sigma / root2))
    with np.errstate(divide="ignore"):
        return np.log(mass) - math.log(norm) if norm > 0 else np.full(values.shape, -np.inf)


def _nelder_mead(f, start, step, iterations=400, tolerance=1e-10):
    """Minimise ``f`` over R^2 by Nelder-Mead (enough for a two-parameter fit)."""
    simplex = np.array([start, start + [step[0], 0.0], start + [0.0, step[1]]], dtype=float)
    values = np.array([f(p) for p in simplex])
    for _ in range(iterations):
        order = np.argsort(values)
        simplex, values = simplex[order], values[order]
        if abs(values[-1] - values[0]) <= tolerance * (abs(values[0]) + tolerance):
            break
        centre = simplex[:-1].mean(axis=0)
        reflected = centre + (centre - simplex[-1])
        fr = f(reflected)
        if fr < values[0]:
            expanded = centre + 2.0 * (centre - simplex[-1])
            fe = f(expanded)
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            contracted = centre + 0.5 * (simplex[-1] - centre)
            fc = f(contracted)
            if fc < values[-1]:
                simplex[-1], values[-1] = contracted, fc
            else:
                simplex[1:] = simplex[0] + 0.5 * (simplex[1:] - simplex[0])
                values[1:] = [f(p) for p in simplex[1:]]
    best = int(np.argmin(values))
    return simplex[best], float(values[best])


def fit_lognormal(samples, xmin: int = 1) -> dict:
    r"""Maximum-likelihood discrete lognormal of the samples :math:`\ge x_{min}`.

    The probability of integer :math:`x` is the lognormal's mass on
    :math:`[x, x+1)` over its mass above :math:`x_{min}`:

    .. math:: P(x) = \frac{\Phi(z_{x+1}) - \Phi(z_x)}{1 - \Phi(z_{x_{min}})},
              \quad z_x = \frac{\ln x - \mu}{\sigma},

    so the integer part of a continuous lognormal draw (conditioned on
    :math:`\ge x_{min}`) follows it exactly. :math:`\mu, \ln\sigma` are
    found by Nelder-Mead from the moments of :math:`\ln x`.

    Parameters
    ----------
    samples : array-like of int
        Positive integers.
    xmin : int
        Smallest value fitted.

    Returns
    -------
    dict
        ``mu``, ``sigma``, ``loglik`` (summed over the tail), ``n_tail``.
    """
    tail = _tail(samples, xmin)
    values, weights = np.unique(tail, return_counts=True)
    logs = np.log(tail)

    def negative(p):
        mu, sigma = p[0], math.exp(p[1])
        if not 1e-3 < sigma < 1e3 or abs(mu) > 1e3:
            return np.inf
        out = -np.sum(weights * _lognormal_logpmf(values, mu, sigma, xmin))
        return out if np.isfinite(out) else np.inf

    spread = max(float(logs.std()), 0.1)
    (mu, log_sigma), value = _nelder_mead(negative, np.array([float(logs.mean()),
                                                              math.log(spread)]),
                                          (0.5 * spread, 0.3))
    return {"mu": float(mu), "sigma": float(math.exp(log_sigma)), "loglik": -value,
            "n_tail": int(tail.size)}


def fit_exponential(samples, xmin: int = 1) -> dict:
    r"""Maximum-likelihood discrete exponential of the samples :math:`\ge x_{min}`.

    :math:`P(x) = (1 - e^{-\lambda}) e^{-\lambda (x - x_{min})}` (the mass of a
    continuous exponential on :math:`[x, x+1)`); its maximum-likelihood rate is
    :math:`\hat\lambda = \ln(1 + 1/(\bar x - x_{min}))`.

    Parameters
    ----------
    samples : array-like of int
        Positive integers.
    xmin : int
        Smallest value fitted.

    Returns
    -------
    dict
        ``rate`` (:math:`\lambda`, ``inf`` when every sample equals ``xmin``),
        ``loglik``, ``n_tail``.
    """
    tail = _tail(samples, xmin)
    excess = float(tail.mean()) - xmin
    if excess <= 0:
        return {"rate": math.inf, "loglik": 0.0, "n_tail": int(tail.size)}
    rate = math.log1p(1.0 / excess)
    loglik = tail.size * math.log(-math.expm1(-rate)) - rate * float(np.sum(tail - xmin))
    return {"rate": rate, "loglik": loglik, "n_tail": int(tail.size)}


def _pointwise_loglik(tail, name, params, xmin):
    if name == "power_law":
        return -params["alpha"] * np.log(tail) - math.log(hurwitz_zeta(params["alpha"],
                                                                        float(xmin)))
    if name == "lognormal":
        values, inverse = np.unique(tail, return_inverse=True)
        return _lognormal_logpmf(values, params["mu"], params["sigma"], xmin)[inverse]
    rate = params["rate"]
    if not math.isfinite(rate):
        return np.where(tail == xmin, 0.0, -np.inf)
    return math.log(-math.expm1(-rate)) - rate * (tail - xmin)


ALTERNATIVES = ("lognormal", "exponential")


def compare_power_law(samples, alternative: str, xmin: int | None = None,
                      min_tail: int = 10) -> dict:
    r"""Log-likelihood ratio of the power law against ``alternative`` (Vuong's test).

    Both are fitted by maximum likelihood to the same tail :math:`x \ge x_{min}`
    (:math:`x_{min}` from :func:`fit_power_law` when not given). With
    :math:`d_i = \ln p_{pl}(x_i) - \ln p_{alt}(x_i)`, :math:`R = \sum_i d_i`
    and :math:`s` the standard deviation of the :math:`d_i`, the two-sided
    p-value of :math:`R` being as far from 0 by chance is
    :math:`\operatorname{erfc}(|R| / (s\sqrt{2n}))` (Clauset, Shalizi & Newman 2009,
    section 5.2). :math:`R > 0` favours the power law; only a small p-value
    makes the sign meaningful.

    Parameters
    ----------
    samples : array-like of int
        Positive integers.
    alternative : {'lognormal', 'exponential'}
        The distribution compared with.
    xmin : int, optional
        Lower end of the tail.
    min_tail : int
        As for :func:`fit_power_law`.

    Returns
    -------
    dict
        ``R`` (summed log-likelihood ratio), ``normalized_R``
        (:math:`R / (s \sqrt n)`), ``p``, ``xmin``, ``n_tail`` and
        ``favours`` (``'power_law'``, the alternative, or ``'neither'`` when
        p > 0.1).
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative = {alternative!r}; expected one of {list(ALTERNATIVES)}")
    fit = fit_power_law(samples, xmin=xmin, min_tail=min_tail)
    xmin = fit["xmin"]
    tail = _tail(samples, xmin)
    other = fit_lognormal(tail, xmin) if alternative == "lognormal" else \
        fit_exponential(tail, xmin)
    d = _pointwise_loglik(tail, "power_law", fit, xmin) - \
        _pointwise_loglik(tail, alternative, other, xmin)
    R, n = float(np.sum(d)), tail.size
    s = float(np.std(d))
    if not math.isfinite(R):
        p, normalized = 0.0, math.copysign(math.inf, R)
    elif s > 0:
        normalized = R / (s * math.sqrt(n))
        p = math.erfc(abs(normalized) / math.sqrt(2.0))
    else:
        normalized, p = 0.0, 1.0
    favours = "neither" if p > 0.1 else ("power_law" if R > 0 else alternative)
    return {"R": R, "normalized_R": normalized, "p": p, "xmin": xmin, "n_tail": n,
            "favours": favours}


def power_law_tests(samples, xmin: int | None = None, min_tail: int = 10, n_boot: int = 200,
                    level: float = 0.95, seed: int = 0, significance: float = 0.1) -> dict:
    r"""Is a power law plausible for these samples? The fit with its uncertainty and tests.

    * **Fit**: :func:`fit_power_law` (discrete MLE, :math:`x_{min}` by KS distance).
    * **Uncertainty**: ``n_boot`` resamples of the data with replacement, each
      refitted (with its own :math:`x_{min}` when ``xmin`` is None); the
      ``level`` percentile interval of :math:`\alpha`.
    * **Goodness of fit** (Clauset et al. 2009, section 4.1): ``n_boot``
      synthetic data sets of the same size, each value drawn from the fitted
      power law with probability :math:`n_{tail}/n` and otherwise resampled
      from the observed values below :math:`x_{min}`, are fitted the same way;
      the p-value is the fraction whose KS distance is at least the data's.
      :math:`p <` ``significance`` rejects the power law.
    * **Alternatives**: :func:`compare_power_law` against a lognormal and an
      exponential on the same tail.

    Parameters
    ----------
    samples : array-like of int
        Positive integers, e.g. avalanche sizes.
    xmin : int, optional
        Fixed lower end; chosen by KS distance (in every resample too) when None.
    min_tail : int
        As for :func:`fit_power_law`.
    n_boot : int
        Resamples for the interval and for the p-value (>= 10; Clauset et al.
        use 2,500 for a p-value accurate to 0.01).
    level : float
        Confidence level of the interval.
    seed : int
        Seed of the generator behind both bootstraps.
    significance : float
        Threshold of the goodness-of-fit and likelihood-ratio p-values.

    Returns
    -------
    dict
        ``alpha``, ``alpha_low``, ``alpha_high``, ``xmin``, ``n_tail``,
        ``ks_distance``, ``p_value`` (goodness of fit), ``lognormal`` and
        ``exponential`` (the dicts of :func:`compare_power_law`) and
        ``plausible``: the p-value is at least ``significance`` and no
        alternative is significantly better.
    """
    if not (isinstance(n_boot, (int, np.integer)) and n_boot >= 10):
        raise ValueError(f"n_boot = {n_boot!r}; expected an integer >= 10")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level = {level!r}; expected a number in (0, 1)")
    x = _power_law_samples(samples)
    fit = fit_power_law(x, xmin=xmin, min_tail=min_tail)
    rng = np.random.default_rng(seed)
    body = x[x < fit["xmin"]]
    n, n_tail = x.size, fit["n_tail"]

    def refit(data):
        try:
            return fit_power_law(data, xmin=xmin, min_tail=min(min_tail, data.size))
        except ValueError:  # too few distinct values in a resample
            return None

    alphas, distances = [], []
    for _ in range(int(n_boot)):
        again = refit(rng.choice(x, size=n, replace=True))
        if again is not None:
            alphas.append(again["alpha"])
        from_law = rng.random(n) < n_tail / n
        k = int(from_law.sum())
        synthetic = np.concatenate([sample_power_law(fit["alpha"], fit["xmin"], k, rng),
                                    rng.choice(body, size=n - k, replace=True) if body.size
                                    else np.zeros(0)])
        again = refit(synthetic)
        if again is not None:
            distances.append(again["ks_distance"])
    low, high = (np.quantile(alphas, [(1 - level) / 2, (1 + level) / 2]) if alphas
                 else (math.nan, math.nan))
    p_value = float(np.mean(np.asarray(distances) >= fit["ks_distance"])) if distances \
        else math.nan
    comparisons = {name: compare_power_law(x, name, xmin=fit["xmin"], min_tail=min_tail)
                   for name in ALTERNATIVES}
    plausible = bool(p_value >= significance and all(
        not (c["R"] < 0 and c["p"] < significance) for c in comparisons.values()))
    return {"alpha": fit["alpha"], "alpha_low": float(low), "alpha_high": float(high),
            "xmin": fit["xmin"], "n_tail": n_tail, "ks_distance": fit["ks_distance"],
            "p_value": p_value, **comparisons, "plausible": plausible}


def assess_criticality(raster=None, bin_size: int = 1, tolerance: float = 0.1, *, counts=None,
                       sizes=None, n_boot: int = 200, level: float = 0.95, seed: int = 0,
                       min_avalanches: int = 50) -> dict:
    """The branching-ratio estimators with intervals, the size power-law tests, one verdict.

    The verdict names a regime only when the evidence agrees: the
    estimators :data:`AGREEING` must fall in one band (:func:`classify`), and
    ``'critical'`` also needs a plausible power law of the avalanche sizes
    (:func:`power_law_tests`: goodness-of-fit p-value >= 0.1, no alternative
    significantly better, at least ``min_avalanches`` complete avalanches).
    Anything else is ``'undetermined'``.

    Parameters
    ----------
    raster : array-like of bool, optional
        ``(B, T, N)`` spikes, one member per trial (at least two).
    bin_size, tolerance
        As for :func:`classify`.
    counts : array-like of int, optional
        Spikes per step ``(B, T)`` instead of a raster, e.g. trials recorded
        until quiescence and padded with 0.
    sizes : array-like of int, optional
        Avalanche sizes to test instead of the complete avalanches of the
        recording: e.g. sizes from trials run until quiescence, while the
        branching ratio is measured on their first bins from rest.
    n_boot : int
        Resamples of every bootstrap.
    level : float
        Confidence level of the intervals.
    seed : int
        Seed of the bootstraps.
    min_avalanches : int
        Fewest complete avalanches for the power-law tests.

    Returns
    -------
    dict
        ``sigma``: method -> :func:`branching_ratio_ci` dict; ``regime``: the
        estimators' verdict; ``n_avalanches``; ``sizes``: the
        :func:`power_law_tests` dict (None with too few avalanches);
        ``verdict``.
    """
    c = _counts_of(raster, counts, bin_size)
    sigma = {method: branching_ratio_ci(counts=c, method=method, n_boot=n_boot, level=level,
                                        seed=seed) for method in AGREEING}
    by_sigma = classify(counts=c, tolerance=tolerance)
    sizes = _avalanche_table(c, include_edges=False)["size"].to_numpy() if sizes is None \
        else _power_law_samples(sizes)
    tests = None
    if sizes.size >= min_avalanches:
        try:
            tests = power_law_tests(sizes, n_boot=n_boot, level=level, seed=seed)
        except ValueError:  # e.g. too few distinct sizes to choose xmin
            tests = None
    verdict = by_sigma
    if by_sigma == "critical" and not (tests is not None and tests["plausible"]):
        verdict = "undetermined"
    return {"sigma": sigma, "regime": by_sigma, "n_avalanches": int(sizes.size),
            "sizes": tests, "verdict": verdict}


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
        ``rate_hz``, ``branching_ratio`` (by ``method``), ``regime`` (from
        :func:`classify`: named only when the estimators agree), ``n_avalanches``,
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
        "regime": classify(z, bin_size, tolerance),
        "n_avalanches": int(len(events)),
        "mean_size": float(events["size"].mean()) if len(events) else math.nan,
        "mean_duration": float(events["duration"].mean()) if len(events) else math.nan,
        "size_exponent": exponents["size"],
        "duration_exponent": exponents["duration"],
        "cv_isi": mean_cv,
        "fano": mean_fano,
    }

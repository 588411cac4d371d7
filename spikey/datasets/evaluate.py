r"""Running a network over a dataset split, and scoring its answers.

A network's batch members are independent networks (one per seed); ``present``
shows every member the same samples (or each member its own sequence) one
sample per tick and returns the spike counts each sample drew.

Two ways to read a class out of spike counts:

* **output groups** (``group_predictions``): the output neurons are split into
  ``n_classes`` equal groups; the answer is the group with the most spikes.
* **assigned labels** (Diehl & Cook 2015; ``assign_labels`` + ``vote``): after
  unsupervised training each neuron :math:`k` is labelled with the class
  :math:`c_k = \arg\max_c \bar n_{kc}` it fired most for on average (on the
  training split, never the test split); a sample's answer is the class whose
  neurons fired most on average, :math:`\arg\max_c \frac{1}{|K_c|}\sum_{k \in K_c} n_k`.

Either way a sample that draws no spike at all (or a tie) gets the answer
``-1``: counted as wrong, never guessed. ``accuracy``, ``confusion_matrix`` and
``per_class`` score answers against labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spikey.datasets.splits import ByteImages

#: The answer given to a sample without a winner (no spike, or a tie).
NO_ANSWER = -1


def present(network, x, repeats: int = 1, neurons=None, reset: bool = True,
            order=None) -> np.ndarray:
    """Show samples one per tick (or ``repeats`` ticks) and count each sample's spikes.

    The network learns while it is in training mode (``network.train()``) and not in
    evaluation mode (``network.eval()``); this function changes neither.

    Parameters
    ----------
    network : spikey.Network
        A network whose input part encodes one sample per member.
    x : numpy.ndarray
        ``(n, n_features)``: every member sees the same samples; or ``(B, n, n_features)``:
        member ``b`` sees ``x[b]``.
    repeats : int
        Ticks per sample (counts are summed over them).
    neurons : slice or array_like, optional
        Body neurons whose counts are returned (default: all; ``[]``: none, for training
        passes whose counts are not needed: ``(B, n, 0)``, no memory per sample).
    reset : bool
        Return neuron and input state to rest before each sample (``network.reset()``;
        weights and learned thresholds stay).
    order : array_like of int, optional
        ``(m,)`` rows of ``x`` to show, in this order, to every member, or ``(B, m)``: member
        ``b`` sees ``x[order[b, i]]`` (of ``x[b]`` when ``x`` is per member). Shows a
        shuffled epoch without copying ``x`` (default: every row in order).

    Returns
    -------
    numpy.ndarray
        ``(B, n, n_selected)`` int64 spike counts (``n = m`` with ``order``).

    Raises
    ------
    ValueError
        When ``x`` or ``order`` has the wrong shape, ``order`` points outside ``x``, or
        ``repeats < 1``.

    Notes
    -----
    ``x`` is read one sample at a time (into a float64 ``(B, n_features)`` buffer), so
    float32, memory-mapped or `ByteImages` data are never copied whole. The counts take
    ``8 B n K`` bytes: for many samples use `label_neurons` and `answer`, which keep none.
    """
    B = network.batch_size
    if not isinstance(x, ByteImages):  # bytes stay bytes: rows are scaled as they are read
        x = np.asarray(x)
    if x.ndim == 2:
        per_member = False
    elif x.ndim == 3 and x.shape[0] == B:
        per_member = True
    else:
        raise ValueError(f"present: x has shape {x.shape}; expected (n, n_features) or "
                         f"({B}, n, n_features) for a batch of {B}")
    if not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"present: repeats = {repeats!r}; expected an integer >= 1")
    rows = x.shape[1] if per_member else x.shape[0]
    if order is None:
        order = np.broadcast_to(np.arange(rows), (B, rows))
    else:
        order = np.asarray(order)
        given = order.shape
        if order.ndim == 1:
            order = np.broadcast_to(order, (B, len(order)))
        if order.ndim != 2 or order.shape[0] != B or not np.issubdtype(order.dtype, np.integer):
            raise ValueError(f"present: order has shape {given} ({order.dtype}); "
                             f"expected integer rows (m,) or ({B}, m) for a batch of {B}")
        if order.size and (order.min() < 0 or order.max() >= rows):
            raise ValueError(f"present: order holds rows {order.min()}..{order.max()}; "
                             f"expected 0..{rows - 1} (x has {rows} samples)")
    n = order.shape[1]
    members = np.arange(B)
    selected = np.arange(network.n_neurons)[neurons if neurons is not None else slice(None)]
    counts = np.zeros((B, n, len(selected)), dtype=np.int64)
    batch = np.empty((B, x.shape[-1]))
    for i in range(n):
        batch[...] = x[members, order[:, i]] if per_member else x[order[:, i]]
        if reset:
            network.reset()
        for _ in range(repeats):
            network.tick(batch)
            counts[:, i] += network.tick_spikes[:, :, selected].sum(axis=1)
    return counts


def assign_labels(counts, labels, n_classes: int) -> np.ndarray:
    """Label each neuron with the class it fired most for on average (Diehl & Cook 2015).

    Parameters
    ----------
    counts : numpy.ndarray
        ``(B, n, K)`` spike counts of ``K`` neurons on ``n`` labelled samples (``present``).
    labels : array_like
        ``(n,)`` class of each sample.
    n_classes : int
        Number of classes.

    Returns
    -------
    numpy.ndarray
        ``(B, K)`` int64 class per neuron; ``-1`` for a neuron that never fired.
    """
    labels = np.asarray(labels)
    return labels_from_totals(class_totals(counts, labels, n_classes),
                              np.bincount(labels, minlength=n_classes)[:n_classes])


def class_totals(counts, labels, n_classes: int) -> np.ndarray:
    """Each neuron's spike count summed over the samples of each class.

    Parameters
    ----------
    counts : numpy.ndarray
        ``(B, n, K)`` spike counts of ``K`` neurons on ``n`` labelled samples (``present``).
    labels : array_like
        ``(n,)`` class of each sample, in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes.

    Returns
    -------
    numpy.ndarray
        ``(B, n_classes, K)`` int64 totals; add those of several chunks of samples to label
        on many samples without keeping their counts (`label_neurons`).

    Raises
    ------
    ValueError
        When the shapes disagree or a label lies outside ``0 .. n_classes - 1``.
    """
    counts = np.asarray(counts)
    labels = np.asarray(labels)
    if counts.ndim != 3 or labels.ndim != 1 or counts.shape[1] != len(labels):
        raise ValueError(f"class_totals: counts {counts.shape} and labels {labels.shape}; "
                         "expected counts (B, n, K) for n labels")
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"class_totals: labels hold {labels.min()}..{labels.max()}; expected "
                         f"0..{n_classes - 1} for n_classes = {n_classes}")
    totals = np.zeros((counts.shape[0], n_classes, counts.shape[2]), dtype=np.int64)
    for c in range(n_classes):
        rows = labels == c
        if rows.any():
            totals[:, c] = counts[:, rows].sum(axis=1)
    return totals


def labels_from_totals(totals, sizes) -> np.ndarray:
    """`assign_labels` from per-class totals: each neuron's class of highest mean count.

    Parameters
    ----------
    totals : numpy.ndarray
        ``(B, n_classes, K)`` spike counts summed per class (`class_totals`).
    sizes : array_like
        ``(n_classes,)`` samples of each class behind the totals.

    Returns
    -------
    numpy.ndarray
        ``(B, K)`` int64 class per neuron; ``-1`` for a neuron that never fired.
    """
    totals, sizes = np.asarray(totals), np.asarray(sizes)
    if totals.ndim != 3 or sizes.shape != (totals.shape[1],):
        raise ValueError(f"labels_from_totals: totals {totals.shape} and sizes {sizes.shape}; "
                         "expected (B, n_classes, K) and (n_classes,)")
    mean = np.zeros(totals.shape)  # float64 class means, as counts[:, rows].mean(axis=1)
    seen = sizes > 0
    mean[:, seen] = totals[:, seen] / sizes[seen][None, :, None]
    assigned = mean.argmax(axis=1)
    assigned[mean.max(axis=1) == 0] = NO_ANSWER
    return assigned


#: Samples presented per chunk by `label_neurons` and `answer` (their counts: 8 B K bytes each).
CHUNK = 1000


def _chunks(n: int, chunk: int):
    if not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"chunk = {chunk!r}; expected an integer >= 1 (samples per chunk)")
    return [(a, min(a + chunk, n)) for a in range(0, n, chunk)]


def label_neurons(network, x, labels, n_classes: int, repeats: int = 1, neurons=None,
                  chunk: int = CHUNK) -> np.ndarray:
    """`present` the labelled samples and `assign_labels`, keeping per-class totals only.

    The samples are shown ``chunk`` at a time, in order, exactly as one ``present`` call
    would show them (same spikes, same labels), but only ``(B, n_classes, K)`` totals are
    kept: on MNIST's 50,001 training images and 400 neurons the counts ``present`` returns
    take 160 MB, the totals 32 kB.

    Parameters
    ----------
    network : spikey.Network
        The trained network, in evaluation mode (``network.eval()``).
    x : numpy.ndarray or ByteImages
        ``(n, n_features)`` samples (every member sees the same).
    labels : array_like
        ``(n,)`` their classes.
    n_classes : int
        Number of classes.
    repeats : int
        Ticks per sample.
    neurons : slice or array_like, optional
        The neurons to label (default: all).
    chunk : int
        Samples per ``present`` call.

    Returns
    -------
    numpy.ndarray
        ``(B, K)`` int64 class per neuron; ``-1`` for a neuron that never fired.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(x):
        raise ValueError(f"label_neurons: {len(x)} samples but labels of shape {labels.shape}")
    totals = None
    for a, b in _chunks(len(labels), chunk):
        part = class_totals(present(network, x[a:b], repeats, neurons=neurons), labels[a:b],
                            n_classes)
        totals = part if totals is None else totals + part
    if totals is None:
        raise ValueError("label_neurons: no samples to label from")
    return labels_from_totals(totals, np.bincount(labels, minlength=n_classes)[:n_classes])


def answer(network, x, assignments, n_classes: int, repeats: int = 1, neurons=None,
           chunk: int = CHUNK) -> np.ndarray:
    """`present` samples and `vote`, ``chunk`` samples at a time (no counts kept).

    Parameters
    ----------
    network : spikey.Network
        The trained network, in evaluation mode.
    x : numpy.ndarray or ByteImages
        ``(n, n_features)`` samples.
    assignments : numpy.ndarray
        ``(B, K)`` class per neuron (`assign_labels`, `label_neurons`).
    n_classes : int
        Number of classes.
    repeats : int
        Ticks per sample.
    neurons : slice or array_like, optional
        The labelled neurons (default: all).
    chunk : int
        Samples per ``present`` call.

    Returns
    -------
    numpy.ndarray
        ``(B, n)`` int64 answers, equal to ``vote(present(network, x, ...), ...)``.
    """
    answers = [vote(present(network, x[a:b], repeats, neurons=neurons), assignments, n_classes)
               for a, b in _chunks(len(x), chunk)]
    if not answers:
        return np.zeros((network.batch_size, 0), dtype=np.int64)
    return np.concatenate(answers, axis=1)


def vote(counts, assignments, n_classes: int) -> np.ndarray:
    """Answer the class whose assigned neurons fired most on average.

    Parameters
    ----------
    counts : numpy.ndarray
        ``(B, n, K)`` spike counts.
    assignments : numpy.ndarray
        ``(B, K)`` class per neuron from `assign_labels` (``-1``: none).
    n_classes : int
        Number of classes.

    Returns
    -------
    numpy.ndarray
        ``(B, n)`` int64 answers; ``-1`` where no assigned neuron fired or classes tie.
    """
    counts = np.asarray(counts, dtype=np.float64)
    B, n, K = counts.shape
    scores = np.zeros((B, n, n_classes))
    for c in range(n_classes):
        members = assignments == c                                  # (B, K)
        size = members.sum(axis=1)                                   # (B,)
        total = np.einsum("bnk,bk->bn", counts, members.astype(np.float64))
        scores[:, :, c] = np.divide(total, size[:, None], out=np.zeros((B, n)),
                                    where=size[:, None] > 0)
    return _winner(scores)


def group_predictions(counts, n_classes: int) -> np.ndarray:
    """Answer the output group with the most spikes (``K`` outputs in ``n_classes`` groups).

    Parameters
    ----------
    counts : numpy.ndarray
        ``(B, n, K)`` spike counts of the output neurons, ``K`` a multiple of ``n_classes``
        (group ``c`` = outputs ``c K/n_classes ... (c + 1) K/n_classes - 1``).
    n_classes : int
        Number of classes.

    Returns
    -------
    numpy.ndarray
        ``(B, n)`` int64 answers; ``-1`` for silence or a tie.
    """
    counts = np.asarray(counts)
    B, n, K = counts.shape
    if K % n_classes:
        raise ValueError(f"group_predictions: {K} outputs cannot be split into {n_classes} "
                         "equal groups")
    return _winner(counts.reshape(B, n, n_classes, K // n_classes).sum(axis=3))


def _winner(scores):
    best = scores.max(axis=-1, keepdims=True)
    answer = scores.argmax(axis=-1)
    unique = (scores == best).sum(axis=-1) == 1
    return np.where(unique & (best[..., 0] > 0), answer, NO_ANSWER).astype(np.int64)


def accuracy(predictions, labels):
    """Fraction of answers equal to the labels (``-1``, no answer, counts as wrong).

    Parameters
    ----------
    predictions : array_like
        ``(n,)`` or ``(B, n)`` answers.
    labels : array_like
        ``(n,)`` classes.

    Returns
    -------
    float or numpy.ndarray
        A float for ``(n,)`` answers, ``(B,)`` accuracies for ``(B, n)``.
    """
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if predictions.shape[-1] != len(labels):
        raise ValueError(f"accuracy: {predictions.shape[-1]} answers for {len(labels)} labels")
    hits = (predictions == labels).mean(axis=-1)
    return float(hits) if np.ndim(hits) == 0 else hits


def confusion_matrix(predictions, labels, n_classes: int) -> np.ndarray:
    """Counts of (true class, answer) pairs.

    Parameters
    ----------
    predictions : array_like
        ``(n,)`` answers of one network (``-1``: no answer).
    labels : array_like
        ``(n,)`` classes.
    n_classes : int
        Number of classes.

    Returns
    -------
    numpy.ndarray
        ``(n_classes, n_classes + 1)`` int64: row = true class, column = answer, the last
        column counting samples without an answer. Rows sum to the class sizes.
    """
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if predictions.ndim != 1 or predictions.shape != labels.shape:
        raise ValueError(f"confusion_matrix: answers {predictions.shape} and labels "
                         f"{labels.shape}; expected two (n,) arrays (one member's answers)")
    column = np.where(predictions < 0, n_classes, predictions)
    matrix = np.zeros((n_classes, n_classes + 1), dtype=np.int64)
    np.add.at(matrix, (labels, column), 1)
    return matrix


def per_class(predictions, labels, class_names) -> pd.DataFrame:
    """Per-class rates of one network's answers, as a DataFrame.

    Parameters
    ----------
    predictions : array_like
        ``(n,)`` answers (``-1``: no answer).
    labels : array_like
        ``(n,)`` classes.
    class_names : list of str
        A name per class.

    Returns
    -------
    pandas.DataFrame
        One row per class: ``class``, ``samples``, ``correct``, ``recall`` (correct /
        samples), ``precision`` (correct / answers naming the class; NaN if never named),
        ``no_answer`` (samples of the class left without an answer).
    """
    n_classes = len(class_names)
    matrix = confusion_matrix(predictions, labels, n_classes)
    samples = matrix.sum(axis=1)
    correct = np.diag(matrix[:, :n_classes])
    named = matrix[:, :n_classes].sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({
            "class": list(class_names),
            "samples": samples,
            "correct": correct,
            "recall": np.where(samples > 0, correct / np.maximum(samples, 1), np.nan),
            "precision": np.where(named > 0, correct / np.maximum(named, 1), np.nan),
            "no_answer": matrix[:, n_classes],
        })

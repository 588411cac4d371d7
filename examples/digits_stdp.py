"""Unsupervised STDP on 8x8 digits (Diehl & Cook 2015's scheme), five seeds in one batch.

A layer of 400 excitatory LIF neurons sees each digit as Poisson spike trains
(``PixelRate``) for 200 ms, from rest (``present`` resets the state before each digit: the rest
between samples of Diehl & Cook). Its pixel synapses learn by STDP potentiation with each
neuron's total weight held fixed (``NormalizeWeights``); each excitatory neuron has its own
interneuron, which turns every spike of it into 30 mV of inhibition of all the other
excitatory neurons (Diehl & Cook's wiring: ``LateralInhibition`` rewired by
`pair_interneurons`, held fixed by ``FreezeWeights``), so the neuron that fires first keeps the
digit; and thresholds rise for neurons that fire too often (``HomeostaticThreshold``), so every neuron
wins its share of the digits. No label is used while learning. Afterwards, with learning off,
each neuron is labelled with the class it fired most for on the training split, and a
digit's answer is the class whose neurons fire most on average.

    python examples/digits_stdp.py                  # 5 seeds (0-4); 8 min on 2 busy cores
    python examples/digits_stdp.py --seed 100       # seeds 100-104
    python examples/digits_stdp.py --seeds 700-709  # batches 700-704, 705-709
    python examples/digits_stdp.py --quick          # a small run (seconds)
    python examples/digits_stdp.py --figures out/   # receptive fields, confusion matrix
    python examples/digits_stdp.py --dataset mnist --data-folder ~/data/mnist --neurons 100
    python examples/digits_stdp.py --dataset mnist --data-folder ~/data/mnist --neurons 400 \
        --epochs 1 --eval-repeats 3 --members 1 --seeds 1700-1709   # one seed at a time

The settings (examples/configs/digits_stdp.yaml) were chosen on the validation split; the
test split is only read for the final report.
"""

from __future__ import annotations

import copy
import time

import numpy as np

import digits_common
import spikey
from spikey.datasets import accuracy, answer, label_neurons, load_digits, present

CONFIG = digits_common.CONFIGS / "digits_stdp.yaml"
#: Training images of sklearn's digits (the learning-rate decay spans epochs x these).
DIGITS_TRAIN = 1078


def load_config(path=CONFIG) -> dict:
    """The route's config (``network`` and ``route`` sections)."""
    return digits_common.load_config(path)


def resize(config: dict, n_pixels: int | None = None, excitatory: int | None = None,
           train_samples: int | None = None) -> dict:
    """The route's config for other images or another number of excitatory neurons.

    Every key that depends on the sizes moves with them: the input count, the neuron count
    (one interneuron per excitatory neuron when `paired`, else one for all, the last neuron), the ranges of the normalisation and frozen
    blocks, the normalised weight total (in proportion to the pixels: the same mean weight
    per pixel, so an untrained neuron gets the same drive), the readout, the adaptive-threshold target (the same total of spikes per sample
    spread over the neurons) and the learning-rate decay (over ``epochs`` passes of
    ``train_samples`` images).

    Parameters
    ----------
    config : dict
        The route's config (``network`` and ``route`` sections); not changed.
    n_pixels : int, optional
        Pixels per image (784 for MNIST; default: as configured).
    excitatory : int, optional
        Excitatory (learning, labelled) neurons (default: as configured).
    train_samples : int, optional
        Training images per epoch, for the learning-rate decay (default: the configured
        ``route.train_samples``, else digits' 1,078).

    Returns
    -------
    dict
        A new config.

    Raises
    ------
    ValueError
        When ``n_pixels``, ``excitatory`` or ``train_samples`` is below 1.
    """
    config = copy.deepcopy(config)
    net, route = config["network"], config["route"]
    for name, value in (("n_pixels", n_pixels), ("excitatory", excitatory),
                        ("train_samples", train_samples)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"digits_stdp.resize: {name} = {value!r}; expected an integer >= 1")
    old = route["excitatory"]
    pixels = net["inputs"]["n_pixels"] if n_pixels is None else int(n_pixels)
    k = old if excitatory is None else int(excitatory)
    n = 2 * k if paired(config) else k + 1  # paired: one interneuron each; else one for all
    inhibitory = 0.5 if paired(config) else 1 / n
    samples = train_samples or route.get("train_samples") or DIGITS_TRAIN
    net_pixels = net["inputs"]["n_pixels"]
    net["inputs"]["n_pixels"] = pixels
    net["neurons"].update(n_neurons=n, inhibitory_fraction=inhibitory)
    net["weights"].update(layers=[n], inhibitory_fraction=inhibitory)
    net["readout"]["n_outputs"] = n
    for modifier in net["modifiers"]:
        if modifier["part"] == "NormalizeWeights":
            # the same mean weight per pixel: an untrained neuron gets the same drive from
            # an image of the same summed intensity (total_intensity) on any pixel count
            modifier["target"] = modifier["target"] * pixels / net_pixels
            modifier.update(rows=[0, pixels], neurons=[0, n])
        elif modifier["part"] == "HomeostaticThreshold":
            modifier["target_rate"] = modifier["target_rate"] * old / k
            if modifier.get("neurons") is not None:
                modifier["neurons"] = [0, n if paired(config) else k]
        elif modifier["part"] == "FreezeWeights":
            modifier.update(rows=[pixels, pixels + n], neurons=[0, n])
        elif modifier["part"] == "LinearDecay":
            modifier["ticks"] = route["epochs"] * samples
    route["excitatory"] = k
    return config


def adapt(config: dict, data, neurons: int | None = None) -> dict:
    """The config fitted to a dataset (its pixel count and training-split size) and to
    ``neurons`` excitatory neurons: :func:`resize` (MNIST: 784 inputs).

    Parameters
    ----------
    config : dict
        The route's config.
    data : spikey.datasets.Dataset
        The dataset the route will run on.
    neurons : int, optional
        Excitatory neurons (default: as configured; Diehl & Cook's table has 100 and 400).

    Returns
    -------
    dict
        A new config.
    """
    samples = config["route"].get("train_samples") or len(data.train)
    return resize(config, n_pixels=data.n_features, excitatory=neurons,
                  train_samples=min(samples, len(data.train)))


def paired(config: dict) -> bool:
    """Whether every excitatory neuron has its own interneuron.

    Parameters
    ----------
    config : dict
        The route's config; ``route.interneurons`` is ``'paired'`` (Diehl & Cook's wiring)
        or ``'shared'`` (one interneuron for all; the default).

    Returns
    -------
    bool
        True for ``'paired'``.

    Raises
    ------
    ValueError
        For another ``route.interneurons`` value.
    """
    kind = config["route"].get("interneurons", "shared")
    if kind not in ("paired", "shared"):
        raise ValueError(f"digits_stdp: route.interneurons = {kind!r}; expected 'paired' (one "
                         "interneuron per excitatory neuron) or 'shared' (one for all)")
    return kind == "paired"


def excitatory_neurons(config: dict) -> np.ndarray:
    """Body indices of the excitatory (learning, labelled) neurons.

    Parameters
    ----------
    config : dict
        The route's config.

    Returns
    -------
    numpy.ndarray
        ``0, 2, 4, ...`` when paired (``inhibitory_fraction`` 0.5 makes every second neuron
        an interneuron), else the first ``route.excitatory``.
    """
    k = config["route"]["excitatory"]
    return np.arange(0, 2 * k, 2) if paired(config) else np.arange(k)


def pair_interneurons(network, n_inputs: int) -> None:
    """Rewire alternating E / I neurons into Diehl & Cook's lateral inhibition.

    Excitatory neuron ``2k`` excites only interneuron ``2k + 1``, which inhibits every
    excitatory neuron but ``2k``; interneurons get no pixel synapses. A neuron that fires
    thus silences its rivals, not itself, and keeps the sample (a hard winner-take-all).
    The removed synapses leave the mask (learning never regrows them) and the network's
    ``FreezeWeights`` blocks take the new values (``refreeze``).

    Parameters
    ----------
    network : spikey.Network
        Built from the route's config with ``route.interneurons: paired``.
    n_inputs : int
        Input (pixel) rows before the neurons' rows.
    """
    n = network.n_neurons
    E, I = np.arange(0, n, 2), np.arange(1, n, 2)
    W, M = network.weights.matrix, network.weights.mask
    W[:, :n_inputs, I] = 0.0
    M[:, :n_inputs, I] = False
    own = np.eye(len(E), dtype=bool)
    for rows, cols, keep in ((n_inputs + E, I, own), (n_inputs + I, E, ~own)):
        block = np.ix_(np.arange(W.shape[0]), rows, cols)
        W[block] *= keep
        M[block] &= keep
    for modifier in network.modifiers:
        if hasattr(modifier, "refreeze"):
            modifier.refreeze()


def build_network(config: dict, seed: int):
    """The route's untrained network, member ``b`` seeded ``seed + b``.

    Parameters
    ----------
    config : dict
        The route's config (paired interneurons are wired by `pair_interneurons`).
    seed : int
        Seed of member 0.

    Returns
    -------
    spikey.Network
        The network.
    """
    net_config = copy.deepcopy(config["network"])
    net_config["network"]["seed"] = seed
    network = spikey.Network.from_config(net_config)
    if paired(config):
        pair_interneurons(network, net_config["inputs"]["n_pixels"])
    return network


def quick_config(config: dict) -> dict:
    """A small version for tests and --quick: 50 neurons, 2 epochs of 300 images of 100 ms,
    2 seeds."""
    config = copy.deepcopy(config)
    config["network"]["network"].update(batch_size=2, processing_steps=100)
    config["route"].update(epochs=2, eval_repeats=3, train_samples=300)
    config = resize(config, excitatory=50)
    for modifier in config["network"]["modifiers"]:
        if modifier["part"] == "HomeostaticThreshold":  # 10 spikes per 100 ms sample
            modifier["target_rate"] = 1000.0 * 10 / 100 / 50
            if not paired(config):
                modifier["neurons"] = [0, 50]
    return config


def train_network(config: dict, seed: int | None = None, data=None, verbose: bool = True):
    """Build the batch (member ``b`` seeded ``seed + b``) and train it without labels.

    Returns
    -------
    network : spikey.Network
        The trained network, in training mode.
    seeds : list of int
        Each member's seed.
    x_train, y_train : numpy.ndarray
        The training samples used (all of them unless ``route.train_samples``).
    """
    start = time.perf_counter()
    data = load_digits() if data is None else data
    route = config["route"]
    seed = route["seed"] if seed is None else seed
    network = build_network(config, seed)
    seeds = [seed + b for b in range(network.batch_size)]
    x_train, y_train = data.train.x, data.train.y
    if route.get("train_samples"):
        x_train, y_train = x_train[:route["train_samples"]], y_train[:route["train_samples"]]
    # every member draws its own sample order from its own seed
    orders = [np.random.default_rng([s, 17]) for s in seeds]
    network.train()
    for epoch in range(route["epochs"]):
        # each member's own shuffled epoch, read row by row (no copy of the training set)
        # (no counts kept: neurons=[]; on MNIST all counts would be 50,001 x 800 int64, 320 MB)
        present(network, x_train, order=np.stack([rng.permutation(len(x_train)) for rng in orders]),
                neurons=[])
        if verbose:
            print(f"  epoch {epoch + 1}/{route['epochs']} done "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)
    return network, seeds, x_train, y_train


def run(config: dict, seed: int | None = None, data=None, verbose: bool = True,
        splits=("validation", "test")) -> dict:
    """Train the batch (one member per seed), label the neurons, answer validation and test.

    ``splits=("validation",)`` leaves the test split unread (for choosing settings).

    Returns
    -------
    dict
        ``seeds``, an accuracy ``(B,)`` and answers ``(B, n)`` per split in ``splits``
        (``validation``, ``validation_answers``, ``test``, ``test_answers``),
        ``train_seconds``, ``total_seconds``, ``assignments`` ``(B, K)``, the ``network``
        and the ``config``.
    """
    start = time.perf_counter()
    data = load_digits() if data is None else data
    route = config["route"]
    network, seeds, x_train, y_train = train_network(config, seed, data, verbose)
    train_seconds = time.perf_counter() - start
    network.eval()
    excitatory = excitatory_neurons(config)
    repeats = route["eval_repeats"]
    # streamed a chunk of images at a time: per-class totals and answers only, no per-image
    # counts (on MNIST, 50,001 x 400 of them took 153 MiB); the same spikes and labels
    assignments = label_neurons(network, x_train, y_train, data.n_classes, repeats,
                                neurons=excitatory)
    results = {"seeds": seeds, "assignments": assignments, "network": network,
               "train_seconds": train_seconds, "config": config}
    for split in splits:
        part = data.split(split)
        answers = answer(network, part.x, assignments, data.n_classes, repeats,
                         neurons=excitatory)
        results[split] = accuracy(answers, part.y)
        results[f"{split}_answers"] = answers
    results["total_seconds"] = time.perf_counter() - start
    return results


def figures(results: dict, data, folder) -> list:
    """Receptive fields and the test confusion matrix of the first member, as PNG files."""
    network, assignments = results["network"], results["assignments"]
    weights = network.weights.matrix[0][:network.n_inputs, excitatory_neurons(results["config"])]
    # up to ten neurons of each class, one row per class
    order = np.concatenate([np.flatnonzero(assignments[0] == c)[:10] for c in range(data.n_classes)])
    title = f"Unsupervised STDP, seed {results['seeds'][0]}"
    return digits_common.save_figures(
        folder, "digits_stdp", title, weights[:, order], assignments[0][order],
        results["test_answers"][0], data, max_fields=100,
        fields_title=f"{title}: pixel weights of up to 10 neurons per assigned class")


def main(argv=None):
    """``python examples/digits_stdp.py [--seed S | --seeds S A-B ...] [--quick] [--figures DIR]
    [--dataset mnist --data-folder DIR] [--neurons N] [--members B]``.

    ``--seed S`` trains the config's batch (seeds ``S`` to ``S + batch_size - 1``);
    ``--seeds`` lists seeds and inclusive ranges, run as batches of consecutive seeds of at
    most the batch size (``--members 1``: one seed at a time), each seed's row (validation,
    test, its batch's training and total seconds, peak memory so far) printed as it ends.
    """
    return digits_common.main(__doc__, CONFIG, quick_config, run,
                              "unsupervised STDP on {dataset}",
                              figures, argv, adapt=adapt, seeds=True)


if __name__ == "__main__":
    main()

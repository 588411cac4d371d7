"""Run a gradient config: load the dataset, train, select on validation, report test once.

A gradient config (YAML or dict) has three sections::

    network:  {parts: ..., network: {processing_steps: T}, inputs: ..., neurons: ..., ...}
    gradient: {method: bptt, epochs: 15, ...}          # GRADIENT_KEYS
    dataset:  {name: digits, presentation: image}      # or presentation: rows

``presentation: image`` hands each 64-pixel image to the network's input part;
``rows`` shows the image one row at a time (:func:`row_trains`), a temporal task.
"""

from __future__ import annotations

import copy
import time

import numpy as np

from spikey.core.params import ConfigError, Key, validate
from spikey.gradients.trainer import GradientTrainer

#: Keys of the ``dataset`` section.
DATASET_KEYS = (
    Key("name", "str", "Dataset of spikey.datasets.", "digits", choices=("digits",)),
    Key("presentation", "str", "'image': the whole image every step through the network's "
        "input part; 'rows': row r of the 8x8 image during steps [r k, (r+1) k) as regular "
        "spike trains (k = steps_per_row), then silence until the end.", "image",
        choices=("image", "rows")),
    Key("steps_per_row", "int", "Steps each row is shown ('rows').", 4, range=(1, None)),
    Key("row_levels", "int", "'rows' code: 0 gives one input per pixel firing a regular train "
        "of v spikes per step; k >= 1 gives k inputs per pixel (a thermometer code: input i "
        "fires every step of the row while v >= (i + 1) / (k + 1)), 8 k inputs in all.", 0,
        range=(0, None)),
    Key("augment_shifts", "bool", "Add the training images shifted by one pixel up, down, "
        "left and right (5x the training set; validation and test untouched).", False),
    Key("refit", "bool", "Refit on train + validation: train on the training split keeping the "
        "last epoch (its validation accuracy is reported), then train again from the same "
        "seed on training + validation images for the same epochs and keep the last epoch; "
        "that model is scored once on the test split. Hyper-parameters (epochs included) "
        "are chosen on validation beforehand.", False),
)


def shifted_copies(x: np.ndarray, y: np.ndarray) -> tuple:
    """``(x, y)`` with each 8x8 image also shifted one pixel up, down, left and right
    (vacated pixels 0): five times the samples, originals first."""
    images = np.asarray(x, dtype=np.float64).reshape(len(x), 8, 8)
    out = [images]
    for axis, step in ((1, -1), (1, 1), (2, -1), (2, 1)):
        moved = np.roll(images, step, axis=axis)
        edge = 0 if step == 1 else -1
        if axis == 1:
            moved[:, edge, :] = 0.0
        else:
            moved[:, :, edge] = 0.0
        out.append(moved)
    return np.concatenate(out).reshape(-1, 64), np.tile(np.asarray(y), 5)


def row_trains(x: np.ndarray, steps_per_row: int, total_steps: int,
               levels: int = 0) -> np.ndarray:
    """Spike trains ``(n, total_steps, 8 or 8 levels)`` that show 8x8 images one row at a time.

    Rows come in order, ``steps_per_row`` steps each; steps after the last row are silent.
    With ``levels = 0`` pixel value ``v`` in [0, 1] fires a regular train (a phase grows by
    ``v`` each step and the input spikes when it reaches 1); with ``levels = k`` each pixel
    has ``k`` inputs and input ``i`` fires every step of the row while ``v >= (i+1)/(k+1)``.
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(x), 8, 8)
    if total_steps < 8 * steps_per_row:
        raise ConfigError(f"network.processing_steps = {total_steps}; expected >= 8 rows x "
                          f"steps_per_row = {8 * steps_per_row}")
    if levels:
        cuts = (np.arange(levels) + 1.0) / (levels + 1.0)
        on = (x[..., None] >= cuts).reshape(len(x), 8, 8 * levels).astype(np.float64)
        out = np.zeros((len(x), total_steps, 8 * levels))
        for r in range(8):
            out[:, r * steps_per_row:(r + 1) * steps_per_row] = on[:, r, None, :]
        return out
    out = np.zeros((len(x), total_steps, 8))
    for r in range(8):
        phase = np.zeros((len(x), 8))
        for k in range(steps_per_row):
            phase += x[:, r]
            fire = phase >= 1.0
            out[:, r * steps_per_row + k] = fire
            phase -= fire
    return out


def prepare_data(trainer, dataset: dict | None, test: bool = True,
                 merge_validation: bool = False) -> tuple:
    """``(train, validation, test)`` pairs ``(x, y)`` of a ``dataset`` section for a trainer.

    Parameters
    ----------
    trainer : GradientTrainer
        Its ``steps`` set the length of ``rows`` trains.
    dataset : dict or None
        Keys of :data:`DATASET_KEYS`.
    test : bool
        Also prepare the test split (else the third item is None: sweeps and workers
        never read it).
    merge_validation : bool
        Train on training + validation images (``refit``; shifted copies of both when
        ``augment_shifts``); the validation pair is still returned.

    Returns
    -------
    tuple
    """
    from spikey.datasets import load_digits

    data = validate(DATASET_KEYS, dataset, "dataset")
    ds = load_digits()
    if data["presentation"] == "rows":
        def prep(x):
            return row_trains(x, data["steps_per_row"], trainer.steps, data["row_levels"])
    else:
        def prep(x):
            return x
    train_x, train_y = ds.train.x, ds.train.y
    if merge_validation:
        train_x = np.concatenate([train_x, ds.validation.x])
        train_y = np.concatenate([train_y, ds.validation.y])
    if data["augment_shifts"]:
        train_x, train_y = shifted_copies(train_x, train_y)
    return ((prep(train_x), train_y), (prep(ds.validation.x), ds.validation.y),
            (prep(ds.test.x), ds.test.y) if test else None)


def check_sections(config: dict) -> None:
    """Raise ConfigError unless a gradient config has a ``network`` section and no sections
    but ``network``, ``gradient`` and ``dataset``.

    Parameters
    ----------
    config : dict
        A gradient config.
    """
    if not isinstance(config, dict):
        raise ConfigError(f"gradient config = {config!r}; expected a mapping with the sections "
                          "'network', 'gradient', 'dataset'")
    unknown = set(config) - {"network", "gradient", "dataset"}
    if unknown:
        raise ConfigError(f"gradient config: unknown section(s) {sorted(unknown)}; expected "
                          "'network', 'gradient', 'dataset'")
    if "network" not in config:
        raise ConfigError("gradient config: missing section 'network'")


def run_config(config: dict, seed: int | None = None, verbose: bool = False) -> dict:
    """Train a gradient config once; return accuracies, history and wall time.

    Parameters
    ----------
    config : dict
        ``network``, ``gradient`` and ``dataset`` sections.
    seed : int, optional
        Overrides ``gradient.seed``.
    verbose : bool
        Print one line per epoch.

    Returns
    -------
    dict
        ``seed, validation_accuracy, test_accuracy, best_epoch, seconds, history``
        (with ``dataset.refit``: ``history`` of the training-split run, whose last epoch
        gives ``validation_accuracy``, and ``refit_history`` of the model scored on test).
    """
    check_sections(config)
    gradient = copy.deepcopy(config.get("gradient") or {})
    if seed is not None:
        gradient["seed"] = int(seed)
    data = validate(DATASET_KEYS, config.get("dataset"), "dataset")
    start = time.perf_counter()
    if data["refit"]:
        gradient["select"] = "last"
    trainer = GradientTrainer(config["network"], gradient)
    train, validation, test_split = prepare_data(trainer, config.get("dataset"))
    history = trainer.fit(train, validation, verbose=verbose)
    val = trainer.accuracy(*validation)
    best = max(history, key=lambda r: r["validation_accuracy"])["epoch"]
    out = {"seed": trainer.seed, "validation_accuracy": val, "best_epoch": best,
           "history": history}
    if data["refit"]:  # the same settings and seed on training + validation images
        trainer = GradientTrainer(config["network"], gradient)
        merged, _, _ = prepare_data(trainer, config.get("dataset"), test=False,
                                    merge_validation=True)
        out["refit_history"] = trainer.fit(merged, None, verbose=verbose)
    out["test_accuracy"] = trainer.accuracy(*test_split)  # once, after selection
    return {**out, "seconds": time.perf_counter() - start, "trainer": trainer}


def train_command(config: dict, args) -> int:
    """``spikey train CONFIG`` for a config with a ``gradient`` section.

    One worker (the default) trains in this process; ``--workers W`` (or ``--address``)
    trains data-parallel on Ray Train (:mod:`spikey.gradients.distributed`).

    Writes ``summary.json`` (accuracies, seconds, the config), ``history.json`` (one row per
    epoch) and ``weights.npz`` (for ``gradient.init_weights``) to ``--storage/NAME``, prints
    the summary and returns the exit status.
    """
    import json
    import os

    workers = getattr(args, "workers", 1) or 1
    if getattr(args, "local", False) and (workers != 1 or getattr(args, "address", None)):
        raise ConfigError("--local trains in this process: --workers and --address need Ray")
    name = args.name or os.path.splitext(os.path.basename(args.config))[0]
    run_dir = os.path.join(os.path.abspath(args.storage), name)
    if os.path.exists(os.path.join(run_dir, "summary.json")) and not args.overwrite:
        raise ConfigError(f"run folder {run_dir} already holds a run; pass --overwrite or "
                          "--name")
    if workers == 1 and not getattr(args, "address", None):
        out = run_config(config, verbose=True)
    else:  # data parallel on Ray Train: the minibatch's gradient is summed over workers
        from spikey.gradients.distributed import train_gradient_distributed

        start = time.perf_counter()
        got = train_gradient_distributed(config, num_workers=workers,
                                         storage_path=os.path.join(run_dir, "ray"), name=name,
                                         address=getattr(args, "address", None))
        trainer, history = got["trainer"], got["history"]
        _, validation, test_split = prepare_data(trainer, config.get("dataset"))
        out = {"seed": trainer.seed, "validation_accuracy": trainer.accuracy(*validation),
               "test_accuracy": trainer.accuracy(*test_split),  # once, after selection
               "best_epoch": max(history, key=lambda r: r["validation_accuracy"])["epoch"],
               "seconds": time.perf_counter() - start, "history": history,
               "trainer": trainer, "workers": workers}
    os.makedirs(run_dir, exist_ok=True)
    summary = {k: out[k] for k in ("seed", "validation_accuracy", "test_accuracy", "best_epoch",
                                   "seconds")}
    summary["workers"] = out.get("workers", 1)
    with open(os.path.join(run_dir, "summary.json"), "w", encoding="utf-8") as handle:
        json.dump({**summary, "config": config}, handle, indent=1)
    with open(os.path.join(run_dir, "history.json"), "w", encoding="utf-8") as handle:
        json.dump(out["history"], handle, indent=1)
    out["trainer"].save(os.path.join(run_dir, "weights.npz"))
    print(json.dumps(summary, indent=2))
    print(f"run folder: {run_dir}")
    return 0

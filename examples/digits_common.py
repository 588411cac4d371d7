"""What the three digits routes (``digits_stdp``, ``digits_rstdp``, ``digits_ga``) share.

Loading a route's YAML config, the command line (``--config``, ``--seed``, ``--quick``,
``--figures``), the per-seed report, and the two figures (learned receptive fields, test
confusion matrix) of the first member. Each route keeps only what differs: its network,
its training and how it answers.
"""

from __future__ import annotations

import argparse
import copy
import pathlib
import resource
import sys

import numpy as np
import yaml

from spikey.core.seeds import seed_range
from spikey.datasets import load_digits

CONFIGS = pathlib.Path(__file__).resolve().parent / "configs"


def load_config(path) -> dict:
    """A route's YAML config as a dict.

    Parameters
    ----------
    path : str or os.PathLike
        The YAML file.

    Returns
    -------
    dict
        The parsed config.
    """
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def print_row(row: dict) -> None:
    """Print one seed's validation and test accuracy.

    Parameters
    ----------
    row : dict
        ``seed``, ``validation``, ``test`` and optionally ``note`` (printed after them).
    """
    note = f"  {row['note']}" if row.get("note") else ""
    print(f"  seed {row['seed']}: validation {row['validation']:.3f}  "
          f"test {row['test']:.3f}{note}", flush=True)


def print_summary(title: str, rows: list) -> None:
    """Print the test mean and minimum over the seeds.

    Parameters
    ----------
    title : str
        The route, e.g. ``'unsupervised STDP on digits'``.
    rows : list of dict
        One per seed, each with ``test``.
    """
    tests = np.array([row["test"] for row in rows])
    print(f"{title}: test mean {tests.mean():.3f} (min {tests.min():.3f}) over "
          f"{len(rows)} seeds")


def member_rows(results: dict) -> list:
    """Per-seed rows (for :func:`print_row`) of a batched run's ``seeds``, ``validation``
    and ``test`` arrays.

    Parameters
    ----------
    results : dict
        A route's ``run()`` result with one entry per batch member.

    Returns
    -------
    list of dict
        ``seed``, ``validation`` and ``test`` of each member.
    """
    return [{"seed": s, "validation": float(results["validation"][b]),
             "test": float(results["test"][b])} for b, s in enumerate(results["seeds"])]


def seed_batches(seeds, batch_size: int) -> list:
    """Split seeds into batches of consecutive seeds, each at most ``batch_size`` long.

    Member ``b`` of a batch whose first seed is ``s`` is seeded ``s + b`` and trains on its
    own, so a member's result does not depend on the batch it shares.

    Parameters
    ----------
    seeds : list of int
        Distinct seeds, in the order to run them.
    batch_size : int
        Members per batch (>= 1).

    Returns
    -------
    list of list of int
        The batches, each a run of consecutive integers.

    Raises
    ------
    ValueError
        If a seed is listed twice.
    """
    if len(set(seeds)) < len(seeds):
        raise ValueError(f"--seeds names a seed twice: {list(seeds)}")
    batches = []
    for seed in seeds:
        last = batches[-1] if batches else None
        if last and seed == last[-1] + 1 and len(last) < batch_size:
            last.append(seed)
        else:
            batches.append([seed])
    return batches


def peak_mib() -> float:
    """The process's peak resident memory so far (``ru_maxrss``), in MiB.

    Returns
    -------
    float
        MiB (1,048,576 bytes).
    """
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 / (1024 if sys.platform == "darwin" else 1)  # macOS reports bytes


def run_seeds(run, config: dict, seeds, data, report=None) -> dict:
    """A batched route's ``run`` over any seed list, as batches of consecutive seeds (see
    :func:`seed_batches`; the config's batch size caps each batch).

    Parameters
    ----------
    run : callable
        ``run(config, seed, data) -> dict`` with ``seeds``, ``train_seconds``,
        ``total_seconds`` and ``validation`` / ``test`` arrays (and their ``*_answers``).
    config : dict
        The route's config.
    seeds : list of int
        Distinct seeds.
    data : spikey.datasets.Dataset
        The dataset.
    report : callable, optional
        Called with each seed's row (see :func:`seed_rows`) as its batch ends, so a long
        run's finished seeds are on record before the rest.

    Returns
    -------
    dict
        As ``run``'s, the per-member arrays joined over the batches in seed order; per
        member also ``seed_train_seconds`` and ``seed_total_seconds`` (its batch's) and
        ``peak_mib`` (the process's peak memory when its batch ended); ``network`` is the
        first batch's, ``train_seconds`` and ``total_seconds`` are summed.
    """
    parts = []
    for batch in seed_batches(list(seeds), config["network"]["network"]["batch_size"]):
        part = copy.deepcopy(config)
        part["network"]["network"]["batch_size"] = len(batch)
        result = run(part, batch[0], data)
        n = len(result["seeds"])
        result["seed_train_seconds"] = np.full(n, result["train_seconds"])
        result["seed_total_seconds"] = np.full(n, result["total_seconds"])
        result["peak_mib"] = np.full(n, peak_mib())
        if report is not None:
            for row in seed_rows(result):
                report(row)
        if parts:  # only the first batch's network is kept: each held on would add to the peak
            result.pop("network", None)
        parts.append(result)
    out = {key: parts[0][key] for key in ("network", "config") if key in parts[0]}
    out["seeds"] = [s for part in parts for s in part["seeds"]]
    for key in ("train_seconds", "total_seconds"):
        out[key] = sum(part[key] for part in parts)
    for key in ("validation", "test", "validation_answers", "test_answers", "assignments",
                "seed_train_seconds", "seed_total_seconds", "peak_mib"):
        if key in parts[0]:
            out[key] = np.concatenate([part[key] for part in parts])
    return out


def seed_rows(results: dict) -> list:
    """:func:`member_rows` of a :func:`run_seeds` result, each with a ``note``: the
    training and total seconds of its batch and the peak memory when it ended.

    Parameters
    ----------
    results : dict
        A :func:`run_seeds` result (or one batch of it).

    Returns
    -------
    list of dict
        ``seed``, ``validation``, ``test``, ``train_seconds``, ``total_seconds``,
        ``peak_mib`` and ``note`` of each member.
    """
    rows = member_rows(results)
    for b, row in enumerate(rows):
        row.update(train_seconds=float(results["seed_train_seconds"][b]),
                   total_seconds=float(results["seed_total_seconds"][b]),
                   peak_mib=float(results["peak_mib"][b]))
        row["note"] = (f"train {row['train_seconds']:.0f} s, {row['total_seconds']:.0f} s in "
                       f"all, peak {row['peak_mib']:.0f} MiB so far")
    return rows


def save_figures(folder, stem: str, title: str, weights, labels, answers, data,
                 fields_title: str | None = None, **field_options) -> list:
    """Write ``<stem>_fields.png`` (pixel weights) and ``<stem>_confusion.png`` (test split).

    Parameters
    ----------
    folder : str or os.PathLike
        Created if missing.
    stem : str
        File name prefix, e.g. ``'digits_stdp'``.
    title : str
        The route and seed, e.g. ``'Unsupervised STDP, seed 0'``.
    weights : numpy.ndarray
        ``(n_pixels, n_fields)`` pixel weights (mV), one column per neuron shown.
    labels : numpy.ndarray
        ``(n_fields,)`` class of each neuron (``-1``: none).
    answers : numpy.ndarray
        ``(n_test,)`` answers on the test split.
    data : spikey.datasets.Dataset
        The dataset (image shape, class names, test labels).
    fields_title : str, optional
        Title of the receptive-field figure (default: ``title`` + ``': pixel weights'``).
    **field_options
        Passed to :func:`spikey.datasets.plots.plot_receptive_fields` (``n_columns``,
        ``max_fields``).

    Returns
    -------
    list of pathlib.Path
        The two files written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spikey.datasets import confusion_matrix
    from spikey.datasets.plots import plot_confusion, plot_receptive_fields

    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fig = plot_receptive_fields(weights, data.image_shape, labels, data.class_names,
                                title=fields_title or f"{title}: pixel weights", **field_options)
    paths = [folder / f"{stem}_fields.png"]
    fig.savefig(paths[-1], dpi=110)
    ax = plot_confusion(confusion_matrix(answers, data.test.y, data.n_classes),
                        data.class_names, title=f"{title}, test split")
    paths.append(folder / f"{stem}_confusion.png")
    ax.figure.savefig(paths[-1], dpi=110)
    plt.close("all")
    return paths


def load_data(name: str = "digits", folder=None):
    """The dataset a route runs on: sklearn's digits, or MNIST / Fashion-MNIST from their
    IDX files in ``folder`` (checked against the published SHA-256 sums).

    Parameters
    ----------
    name : {'digits', 'mnist', 'fashion_mnist'}
        The dataset.
    folder : str or os.PathLike, optional
        Folder of the four gzipped IDX files (default ``$SPIKEY_DATA/<name>``); only for
        MNIST and Fashion-MNIST.

    Returns
    -------
    spikey.datasets.Dataset
        The dataset's fixed train / validation / test splits (MNIST and Fashion-MNIST
        compact: ``x`` a `spikey.datasets.ByteImages`, rows read as float32 bytes / 255).

    Raises
    ------
    ValueError
        For an unknown name, or a folder given with ``'digits'`` (they ship with scikit-learn).
    spikey.datasets.DatasetFileError
        When the folder or a file is missing, or a file is not the published one.
    """
    from spikey.datasets import load_idx_dataset

    if name == "digits":
        if folder is not None:
            raise ValueError(f"data folder {str(folder)!r} given for the digits, which ship with "
                             "scikit-learn; drop it or choose --dataset mnist / fashion_mnist")
        return load_digits()
    if name not in DATASETS:
        raise ValueError(f"dataset = {name!r}; expected one of {list(DATASETS)}")
    # pixels kept as bytes, scaled as each image is shown: MNIST's splits in 55 MB, not 220
    return load_idx_dataset(name, folder, compact=True)


#: The datasets ``--dataset`` can name.
DATASETS = ("digits", "mnist", "fashion_mnist")


def main(doc: str, config_path, quick_config, run, title: str, figures=None, argv=None,
         batched: bool = True, adapt=None, seeds: bool = False):
    """The command line every route shares: parse, run, report, draw.

    Parameters
    ----------
    doc : str
        The route module's docstring (its first line is the description).
    config_path : pathlib.Path
        Default ``--config``.
    quick_config : callable
        ``config -> config`` for ``--quick``.
    run : callable
        ``run(config, seed, data) -> dict``: ``seeds``/``validation``/``test`` arrays when
        ``batched`` (one member per seed), else ``seed`` and scalar accuracies.
    title : str
        Printed with the summary; ``{dataset}`` in it becomes the dataset's name.
    figures : callable, optional
        ``figures(results, data, folder) -> list of paths`` for ``--figures``.
    argv : list of str, optional
        Arguments (default: ``sys.argv``).
    batched : bool
        True: one run trains every seed as a batch member (``--seed`` is member 0's).
        False: one run per seed (``--seeds`` lists them).
    adapt : callable, optional
        ``adapt(config, data, neurons) -> config``: fits the config to the dataset's image
        size and to ``--neurons`` (``None``: as configured). With it the command line takes
        ``--epochs``, ``--eval-repeats``, ``--members`` and ``--train-samples`` (the route's
        passes, presentations per image when labelling and testing, batch size, training
        images) too, and
        ``--dataset``, ``--data-folder`` and ``--neurons``; without it the route runs on
        the digits only.
    seeds : bool
        With ``batched``: also take ``--seeds S A-B ...`` (instead of ``--seed``), run as
        batches of consecutive seeds of at most the batch size (:func:`run_seeds`), each
        seed's row printed as its batch ends, with its batch's seconds and the peak memory.

    Returns
    -------
    dict or list of dict
        The run's results (batched) or one result per seed.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--config", default=str(config_path))
    if batched:
        group = parser.add_mutually_exclusive_group() if seeds else parser
        group.add_argument("--seed", type=int, default=None,
                           help="seed of member 0 (default: config)")
        if seeds:
            group.add_argument("--seeds", type=seed_range, nargs="+", default=None,
                               help="seeds and inclusive ranges A-B, run as batches of "
                                    "consecutive seeds (at most the batch size each)")
    else:
        parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--quick", action="store_true", help="a small run for a smoke test")
    if figures is not None:
        parser.add_argument("--figures", default=None, help="folder for the PNG figures")
    if adapt is not None:
        parser.add_argument("--dataset", default="digits", choices=DATASETS)
        parser.add_argument("--data-folder", default=None,
                            help="folder of the four gzipped IDX files (MNIST, Fashion-MNIST; "
                                 "default $SPIKEY_DATA/<dataset>)")
        parser.add_argument("--neurons", type=int, default=None,
                            help="excitatory neurons (default: as configured)")
        parser.add_argument("--epochs", type=int, default=None,
                            help="passes over the training images (default: as configured)")
        parser.add_argument("--eval-repeats", type=int, default=None,
                            help="presentations of each image when labelling and testing "
                                 "(default: as configured)")
        parser.add_argument("--members", type=int, default=None,
                            help="seeds trained as one batch, from --seed on (default: as "
                                 "configured)")
        parser.add_argument("--train-samples", type=int, default=None,
                            help="train (and label) on the first N training images only "
                                 "(default: as configured; all of them)")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    if args.quick:
        config = quick_config(config)
    if adapt is None:
        data = load_digits()
    else:
        for name in ("epochs", "eval_repeats", "members", "train_samples"):
            value = getattr(args, name)
            if value is not None and value < 1:
                parser.error(f"--{name.replace('_', '-')} = {value}; expected an integer >= 1")
        if args.epochs is not None:
            config["route"]["epochs"] = args.epochs
        if args.eval_repeats is not None:
            config["route"]["eval_repeats"] = args.eval_repeats
        if args.members is not None:
            config["network"]["network"]["batch_size"] = args.members
        if args.train_samples is not None:
            config["route"]["train_samples"] = args.train_samples
        data = load_data(args.dataset, args.data_folder)
        config = adapt(config, data, args.neurons)
    title = title.format(dataset=data.name)
    if not batched:
        results = []
        for seed in args.seeds:
            result = run(config, seed, data)
            results.append(result)
            print_row({**result, "note": f"({result['seconds']:.0f} s)"})
        print_summary(title, results)
        return results
    if getattr(args, "seeds", None) is not None:
        listed = [seed for item in args.seeds for seed in item]
        try:
            seed_batches(listed, 1)
        except ValueError as error:
            parser.error(str(error))
        results = run_seeds(run, config, listed, data, report=print_row)
        rows = seed_rows(results)
    else:
        results = run(config, args.seed, data)
        rows = member_rows(results)
    print(f"{title}: {len(results['seeds'])} seeds, trained in "
          f"{results['train_seconds']:.1f} s, total {results['total_seconds']:.1f} s")
    for row in rows:
        print_row(row)
    print_summary(title, rows)
    if figures is not None and args.figures:
        for path in figures(results, data, args.figures):
            print(f"  wrote {path}")
    return results

"""What the three digits routes (``digits_stdp``, ``digits_rstdp``, ``digits_ga``) share.

Loading a route's YAML config, the command line (``--config``, ``--seed``, ``--quick``,
``--figures``), the per-seed report, and the two figures (learned receptive fields, test
confusion matrix) of the first member. Each route keeps only what differs: its network,
its training and how it answers.
"""

from __future__ import annotations

import argparse
import pathlib

import numpy as np
import yaml

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
         batched: bool = True, adapt=None):
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

    Returns
    -------
    dict or list of dict
        The run's results (batched) or one result per seed.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--config", default=str(config_path))
    if batched:
        parser.add_argument("--seed", type=int, default=None,
                            help="seed of member 0 (default: config)")
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
    results = run(config, args.seed, data)
    print(f"{title}: {len(results['seeds'])} seeds, trained in "
          f"{results['train_seconds']:.1f} s, total {results['total_seconds']:.1f} s")
    rows = member_rows(results)
    for row in rows:
        print_row(row)
    print_summary(title, rows)
    if figures is not None and args.figures:
        for path in figures(results, data, args.figures):
            print(f"  wrote {path}")
    return results

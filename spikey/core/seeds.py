"""Seed lists on command lines: ``--seeds 0 9000-9009`` (single seeds and inclusive ranges)."""

from __future__ import annotations

import argparse


def seed_range(text: str) -> list:
    """Parse one ``--seeds`` item: an integer ``N`` or an inclusive range ``A-B``.

    Meant as an ``argparse`` ``type`` with ``nargs="+"``; the scripts flatten the lists.

    Parameters
    ----------
    text : str
        ``"7"`` or ``"9000-9009"``.

    Returns
    -------
    list of int
        The seeds it names.

    Raises
    ------
    argparse.ArgumentTypeError
        If it is neither a non-negative integer nor a range ``A-B`` with ``A <= B``.
    """
    first, sep, last = text.partition("-")
    try:
        low, high = int(first), int(last if sep else first)
    except ValueError:
        low = high = None
    if low is None or low < 0 or high < low:
        raise argparse.ArgumentTypeError(
            f"expected a seed (integer >= 0) or a range A-B with 0 <= A <= B, got {text!r}")
    return list(range(low, high + 1))

"""When a node leaves, a Ray-backed run says in the terminal that it waits and why."""

import io

from spikey.training.distributed import _ProgressPrinter


def test_printer_says_once_that_the_run_waits_for_cpus_and_once_that_it_goes_on():
    cpus = iter([4.0, 2.0, 2.0, 1.0, 4.0, 4.0])
    stream = io.StringIO()
    # actor None: the progress poll fails quietly (it must never end a run); every=3600 keeps
    # the thread asleep so the test drives the checks itself
    printer = _ProgressPrinter(None, stream, every=3600, needed_cpus=4,
                               resources=lambda: {"CPU": next(cpus)})
    try:
        for _ in range(6):
            printer.check_capacity()
    finally:
        printer.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("spikey train: waiting: the cluster has 2 CPUs, the run's "
                               "workers need 4 (a node left?)")
    assert "--workers K and another --name" in lines[0]
    assert lines[1] == ("spikey train: the cluster has 4 CPUs again; the workers restart from "
                        "their last checkpoint")


def test_printer_keeps_quiet_with_enough_cpus_and_when_resources_fail():
    stream = io.StringIO()

    def broken():
        raise RuntimeError("GCS unreachable")

    for resources in (lambda: {"CPU": 8.0}, broken):
        printer = _ProgressPrinter(None, stream, every=3600, needed_cpus=2, resources=resources)
        try:
            printer.check_capacity()
        finally:
            printer.close()
    assert stream.getvalue() == ""

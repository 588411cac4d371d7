"""Training platform: the local loop, run folders, Ray Train and Ray Tune."""

from spikey.training.config import check_config, get_path, load_config, set_path
from spikey.training.loop import RunResult, train
from spikey.training.reader import load_runs, read_run

__all__ = ["train", "RunResult", "load_config", "check_config", "get_path", "set_path",
           "load_runs", "read_run"]

"""Batched fitness: a whole generation trained as one batched network.

Every genotype becomes one member of a batch (``network.batch_size`` =
number of genotypes, up to ``max_batch``); genes that address per-member
keys (e.g. ``network.neurons.tau``, ``network.synapses.learning_rate``, see
each part's ``PER_MEMBER``) are given as ``{"per_member": [...]}`` and every
member gets the same seed, so each member reproduces the network that
:class:`~spikey.meta.metagames.EvolveNetwork` would train for that genotype
alone. With fixed-length episodes (e.g. the Logic games) the fitness values
are identical to one-by-one evaluation; with episodes of varying length a
member that finished early idles (frozen) until the batch's episode ends, so
its next episode starts from a slightly different state.
"""

from __future__ import annotations

import copy

import numpy as np

from spikey.core.params import ConfigError
from spikey.meta.metagames import EvolveNetwork
from spikey.training.config import get_path, set_path


class BatchedEvolveNetwork(EvolveNetwork):
    """:class:`EvolveNetwork` evaluated ``max_batch`` genotypes at a time in one network."""

    def __init__(self, base_config: dict, metric: str = "train_mean_reward", reruns: int = 1,
                 max_batch: int = 64):
        super().__init__(base_config, metric, reruns)
        if max_batch < 1:
            raise ConfigError(f"max_batch = {max_batch}; expected >= 1")
        self.max_batch = max_batch

    def batch_config(self, genotypes: list, rerun: int = 0) -> dict:
        """The experiment config that trains ``genotypes`` as the members of one batch."""
        config = copy.deepcopy(self.base_config)
        seed = config["training"]["seed"] + 1000 * rerun
        config["training"]["seed"] = seed
        net = config["network"]["network"]
        net.update(seed=seed, batch_size=len(genotypes), member_seeds=[seed] * len(genotypes))
        for path in genotypes[0]:
            values = [g[path] for g in genotypes]
            if all(v == values[0] for v in values):
                set_path(config, path, values[0])
            elif path.startswith("network.") and path.count(".") == 2:
                get_path(config, path)
                set_path(config, path, {"per_member": values})
            else:
                raise ConfigError(
                    f"gene {path!r} differs between genotypes but is not a per-member network "
                    "key; evaluate this space with EvolveNetwork (one run per genotype)"
                )
        return config

    def __call__(self, genotypes):
        from spikey.training.loop import member_summary, train

        genotypes = list(genotypes)
        out = []
        for start in range(0, len(genotypes), self.max_batch):
            chunk = genotypes[start:start + self.max_batch]
            values = np.zeros(len(chunk))
            for rerun in range(self.reruns):
                result = train(self.batch_config(chunk, rerun), progress=False)
                table = member_summary(result.episodes)
                if self.metric not in table:
                    raise KeyError(f"metric {self.metric!r} not among {list(table.columns)}")
                values += table[self.metric].sort_index().to_numpy()
            out.extend((values / self.reruns).tolist())
        return out

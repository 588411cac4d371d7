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


class BatchedEvolveNetwork(EvolveNetwork):
    """:class:`EvolveNetwork` evaluated ``max_batch`` genotypes at a time in one network."""

    def __init__(self, base_config: dict, metric: str = "train_mean_reward", reruns: int = 1,
                 max_batch: int = 64):
        super().__init__(base_config, metric, reruns)
        if max_batch < 1:
            raise ConfigError(f"max_batch = {max_batch}; expected >= 1")
        self.max_batch = max_batch
        self.chunk_size = max_batch  # the GA checkpoints after every batch

    def batch_config(self, genotypes: list, rerun: int = 0) -> dict:
        """The experiment config that trains ``genotypes`` as the members of one batch.

        Each genotype's own config is made as for one-by-one evaluation; keys on
        which the members differ must be per-member keys of their part.
        """
        from spikey.core.part import resolve_part
        from spikey.snn.network import SLOTS

        configs = [self.config_for(g, rerun) for g in genotypes]
        config = copy.deepcopy(configs[0])
        for section in ("game", "training"):
            if any(c[section] != config[section] for c in configs):
                raise ConfigError(
                    f"genes change the {section!r} section, which is shared by a batch; evaluate "
                    "this space with EvolveNetwork (one run per genotype)")
        network = config["network"]
        for slot, section in network.items():
            if slot == "parts" or not isinstance(section, dict):
                continue
            allowed = ()
            if slot in SLOTS and network["parts"].get(slot):
                allowed = resolve_part(SLOTS[slot][0], network["parts"][slot], slot).PER_MEMBER
            for key, value in section.items():
                values = [c["network"][slot][key] for c in configs]
                if all(v == value for v in values):
                    continue
                if key not in allowed:
                    raise ConfigError(
                        f"network.{slot}.{key} differs between genotypes but cannot differ "
                        f"between batch members (per-member keys: {list(allowed)}); evaluate this "
                        "space with EvolveNetwork (one run per genotype)")
                section[key] = {"per_member": values}
        seed = config["training"]["seed"]
        network["network"].update(seed=seed, batch_size=len(genotypes),
                                  member_seeds=[seed] * len(genotypes))
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

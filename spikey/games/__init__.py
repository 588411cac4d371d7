"""Games: gymnasium environments registered under the ``spikey/`` namespace."""

import gymnasium

from spikey.games.logic import Logic

for _gate in ("AND", "OR", "XOR", "NAND"):
    _id = f"spikey/Logic-{_gate}-v0"
    if _id not in gymnasium.registry:
        gymnasium.register(id=_id, entry_point="spikey.games.logic:Logic", kwargs={"preset": _gate})

__all__ = ["Logic"]

"""Games: gymnasium environments registered under the ``spikey/`` namespace.

Each game is natively batched (see :mod:`spikey.games.template`):
``gymnasium.make("spikey/...")`` gives one game, ``gymnasium.make_vec("spikey/...",
num_envs=B)`` steps ``B`` members as one array operation. Any other gymnasium
environment plays with a network through :mod:`spikey.games.adapters` and
:func:`spikey.games.run.run_episode`.
"""

from spikey.games.cartpole import CartPole
from spikey.games.classification import Classification
from spikey.games.logic import Logic
from spikey.games.template import (Game, GameVectorEnv, check_game_config, game_class,
                                   register_game)

for _gate in ("AND", "OR", "XOR", "NAND"):
    register_game(f"spikey/Logic-{_gate}-v0", Logic, preset=_gate)
for _name, _kwargs in (("CartPole", {}), ("CartPoleContinuous", {"action_type": "continuous"})):
    register_game(f"spikey/{_name}-v0", CartPole, max_episode_steps=500, preset="default",
                  **_kwargs)
    register_game(f"spikey/{_name}-Fremaux-v0", CartPole, max_episode_steps=500,
                  preset="fremaux", **_kwargs)
register_game("spikey/Digits-v0", Classification, preset="digits")

#: Every game id this package registers.
GAME_IDS = tuple(f"spikey/Logic-{g}-v0" for g in ("AND", "OR", "XOR", "NAND")) + tuple(
    f"spikey/{n}{p}-v0" for n in ("CartPole", "CartPoleContinuous") for p in ("", "-Fremaux")) + (
    "spikey/Digits-v0",)

__all__ = ["Game", "GameVectorEnv", "Logic", "CartPole", "Classification", "register_game", "game_class",
           "check_game_config", "GAME_IDS"]

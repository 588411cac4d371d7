"""Agents: networks that learn to act in gymnasium environments (see README.md)."""

from spikey.agents.actor_critic import (DEFAULTS, EPROP_DEFAULTS, ROUTES, TD_ONLY,
                                        actor_critic_config)

__all__ = ["actor_critic_config", "DEFAULTS", "EPROP_DEFAULTS", "ROUTES", "TD_ONLY"]

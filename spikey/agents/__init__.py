"""Agents: networks that learn to act in gymnasium environments (see README.md)."""

from spikey.agents.actor_critic import DEFAULTS, ROUTES, actor_critic_config

__all__ = ["actor_critic_config", "DEFAULTS", "ROUTES"]

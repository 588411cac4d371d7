r"""Cart-pole balancing with Florian's (2007) equations, batched.

A pole of mass :math:`m`, half-length :math:`l` is hinged on a cart of mass
:math:`m_c` moving on a track; a horizontal force :math:`F` pushes the cart.
State :math:`(x, \dot x, \theta, \dot\theta)` (m, m/s, rad, rad/s; :math:`\theta = 0`
is upright). With cart friction :math:`\mu_c`, pole friction :math:`\mu_p` and
:math:`M = m_c + m`, Florian (2007) gives

.. math::

    \ddot\theta = \frac{g\sin\theta + \cos\theta\left[\frac{-F - m l\dot\theta^2
        (\sin\theta + \mu_c\,\sigma\cos\theta)}{M} + \mu_c g\,\sigma\right]
        - \frac{\mu_p\dot\theta}{m l}}
        {l\left[\frac43 - \frac{m\cos\theta}{M}(\cos\theta - \mu_c\,\sigma)\right]}

    N_c = M g - m l\,(\ddot\theta\sin\theta + \dot\theta^2\cos\theta)

    \ddot x = \frac{F + m l\,(\dot\theta^2\sin\theta - \ddot\theta\cos\theta)
        - \mu_c N_c\,\sigma}{M},
    \qquad \sigma = \operatorname{sgn}(N_c\,\dot x)

The sign of the normal force :math:`N_c` is taken from the previous step and,
if the new :math:`N_c` has the other sign, :math:`\ddot\theta` is computed
again with it (Florian's procedure). Without friction (the default) these are
the classic Barto, Sutton & Anderson (1983) equations that gymnasium's
``CartPole-v1`` integrates, and both give the same numbers. Integration is
explicit Euler with step :math:`\tau`:
:math:`x \leftarrow x + \tau\dot x,\ \dot x \leftarrow \dot x + \tau\ddot x` (and
likewise for :math:`\theta`).

Actions: ``action_type='discrete'``: ``0`` pushes left (:math:`F = -F_{max}`),
``1`` right; ``'continuous'``: :math:`a \in [-1, 1]`, :math:`F = a F_{max}`.

An episode terminates when :math:`|x| > x_{bound}` or
:math:`|\theta| > \theta_{bound}`. Rewards (``reward_type``):

* ``'alive'``: +1 every step, the failing one included (as gymnasium);
* ``'failure'``: 0 every step, -1 on the failing step (Barto et al. 1983);
* ``'shaped'``: :math:`1 - \tfrac12(\theta/\theta_{bound})^2 - \tfrac12(x/x_{bound})^2`
  while inside the bounds (in [0, 1]), -1 on the failing step.

Presets: ``'default'``: gymnasium's CartPole-v1 (track :math:`\pm 2.4` m, pole
:math:`\pm 12^\circ`, every state variable starting in :math:`U(-0.05, 0.05)`);
``'fremaux'``: the wider bounds the original Spikey used after Frémaux,
Sprekeler & Gerstner (2013): track :math:`\pm 2.5` m, the pole only has to stay
above horizontal (:math:`\pm 90^\circ`), starting centred and upright with
velocities in :math:`U(-0.1, 0.1)`.

Registered as ``spikey/CartPole-v0``, ``spikey/CartPole-Fremaux-v0``,
``spikey/CartPoleContinuous-v0`` and ``spikey/CartPoleContinuous-Fremaux-v0``
(500 steps per episode at most).

References
----------
R. V. Florian, "Correct equations for the dynamics of the cart-pole system",
Center for Cognitive and Neural Studies (Coneural), Romania, 2007.
A. G. Barto, R. S. Sutton, C. W. Anderson, "Neuronlike adaptive elements that can
solve difficult learning control problems", IEEE Trans. SMC 13(5), 1983.
N. Frémaux, H. Sprekeler, W. Gerstner, "Reinforcement learning using a
continuous time actor-critic framework with spiking neurons", PLoS Comput.
Biol. 9(4), 2013.
"""

from __future__ import annotations

import math

import numpy as np
from gymnasium import spaces

from spikey.core.params import ConfigError, Key
from spikey.games.template import Game

_F32_MAX = float(np.finfo(np.float32).max)


class CartPole(Game):
    """Balance a pole on a cart; natively batched (see the module docstring for the equations).

    Examples
    --------
    >>> env = CartPole(preset="fremaux", action_type="continuous")
    >>> obs, _ = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, _ = env.step(np.array([0.5], dtype=np.float32))
    >>> reward, terminated
    (1.0, False)
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}
    KEYS = (
        Key("gravity", "float", "Gravitational acceleration g (m/s^2).", 9.8, range=(0, None)),
        Key("cart_mass", "float", "Cart mass m_c (kg).", 1.0, range=(1e-9, None)),
        Key("pole_mass", "float", "Pole mass m (kg).", 0.1, range=(1e-9, None)),
        Key("pole_half_length", "float", "Half the pole length l (m).", 0.5, range=(1e-9, None)),
        Key("force_mag", "float", "Largest force F_max on the cart (N).", 10.0, range=(0, None)),
        Key("tau", "float", "Euler step (s).", 0.02, range=(1e-9, None)),
        Key("cart_friction", "float", "Cart-track friction coefficient mu_c (dimensionless).",
            0.0, range=(0, None)),
        Key("pole_friction", "float", "Pole-hinge friction coefficient mu_p (N m s).", 0.0,
            range=(0, None)),
        Key("x_bound", "float", "The episode fails when |x| exceeds this (m).", 2.4,
            range=(1e-9, None)),
        Key("theta_bound_deg", "float", "The episode fails when |theta| exceeds this (degrees).",
            12.0, range=(1e-9, 180.0)),
        Key("init_low", "list", "Lower bounds of the uniform initial (x, x_dot, theta, "
            "theta_dot).", [-0.05, -0.05, -0.05, -0.05]),
        Key("init_high", "list", "Upper bounds of the uniform initial (x, x_dot, theta, "
            "theta_dot).", [0.05, 0.05, 0.05, 0.05]),
        Key("action_type", "str", "Bang-bang push (Discrete(2)) or a force fraction "
            "(Box [-1, 1]).", "discrete", choices=("discrete", "continuous")),
        Key("reward_type", "str", "Reward per step: +1 alive, -1 at failure, or shaped by "
            "angle and position (see the module docstring).", "alive",
            choices=("alive", "failure", "shaped")),
    )
    PRESETS = {
        "default": {},
        "fremaux": {"x_bound": 2.5, "theta_bound_deg": 90.0,
                    "init_low": [0.0, -0.1, 0.0, -0.1], "init_high": [0.0, 0.1, 0.0, 0.1]},
    }
    DEFAULT_PRESET = "default"
    RANDOM_WIDTH = 4

    def setup(self):
        """Spaces from ``action_type`` and the bounds; ``(B, 4)`` state, normal-force sign."""
        low = np.asarray(self.init_low, dtype=np.float64)
        high = np.asarray(self.init_high, dtype=np.float64)
        if low.shape != (4,) or high.shape != (4,) or not np.all(np.isfinite(low) & (low <= high)):
            raise ConfigError(
                f"game (CartPole): init_low = {self.init_low}, init_high = {self.init_high}; "
                "expected 4 finite values each (x, x_dot, theta, theta_dot) with low <= high")
        self._init_low, self._init_span = low, high - low
        self.theta_bound = np.deg2rad(self.theta_bound_deg)
        bound = np.array([2 * self.x_bound, _F32_MAX, 2 * self.theta_bound, _F32_MAX],
                         dtype=np.float32)
        self.observation_space = spaces.Box(-bound, bound, dtype=np.float32)
        if self.action_type == "discrete":
            self.action_space = spaces.Discrete(2)
        else:
            self.action_space = spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
        B = self.num_members
        self.state = np.zeros((B, 4), dtype=np.float64)
        self.normal_sign = np.ones(B, dtype=np.float64)  # sign of N_c at the last step
        self.last_force = np.zeros(B, dtype=np.float64)

    def reset_members(self, members):
        """Draw each masked member's start uniformly within ``[init_low, init_high]``."""
        start = self._init_low + self.random.uniform(members) * self._init_span
        np.copyto(self.state, start, where=members[:, None])
        self.normal_sign[members] = 1.0
        self.last_force[members] = 0.0

    def _theta_acc(self, force, sin, cos, theta_dot, sigma):
        m, l, g = self.pole_mass, self.pole_half_length, self.gravity
        total, ml, mu_c = self.cart_mass + m, m * self.pole_half_length, self.cart_friction
        # Written so that without friction the rounding equals gymnasium's CartPole.
        # theta_dot * theta_dot: what numpy's ** 2 computes, also for Python floats (step_one)
        inner = (-force - ml * (theta_dot * theta_dot) * (sin + mu_c * sigma * cos)) / total
        numerator = g * sin + cos * (inner + mu_c * g * sigma) - self.pole_friction * theta_dot / ml
        return numerator / (l * (4.0 / 3.0 - m * (cos * (cos - mu_c * sigma)) / total))

    def step_members(self, action, active):
        """One Euler step of the active members under their forces (see the module docstring).

        Returns
        -------
        reward : numpy.ndarray
            ``(B,)`` float, as ``reward_type`` says.
        terminated : numpy.ndarray
            ``(B,)`` bool: the cart or the pole left its bounds.
        """
        if self.num_members == 1 and active[0]:
            return self._step_one(action)
        if self.action_type == "discrete":
            force = np.where(action == 1, self.force_mag, -self.force_mag)
        else:
            force = action[:, 0].astype(np.float64) * self.force_mag
        x, x_dot, theta, theta_dot = self.state.T
        sin, cos = np.sin(theta), np.cos(theta)
        m, total = self.pole_mass, self.cart_mass + self.pole_mass
        ml = m * self.pole_half_length
        sigma = self.normal_sign * np.sign(x_dot)
        theta_acc = self._theta_acc(force, sin, cos, theta_dot, sigma)
        normal = total * self.gravity - ml * (theta_acc * sin + theta_dot * theta_dot * cos)
        if self.cart_friction:
            sign = np.where(normal < 0, -1.0, 1.0)
            flipped = sign != self.normal_sign
            if flipped.any():
                sigma = np.where(flipped, sign * np.sign(x_dot), sigma)
                theta_acc = np.where(flipped, self._theta_acc(force, sin, cos, theta_dot, sigma),
                                     theta_acc)
                normal = total * self.gravity - ml * (theta_acc * sin + theta_dot * theta_dot * cos)
            np.copyto(self.normal_sign, np.where(normal < 0, -1.0, 1.0), where=active)
        temp = (force + ml * (theta_dot * theta_dot) * sin) / total
        x_acc = temp - ml * theta_acc * cos / total - self.cart_friction * normal * sigma / total
        tau = self.tau
        new = np.stack([x + tau * x_dot, x_dot + tau * x_acc,
                        theta + tau * theta_dot, theta_dot + tau * theta_acc], axis=1)
        np.copyto(self.state, new, where=active[:, None])
        np.copyto(self.last_force, force, where=active)
        x, theta = self.state[:, 0], self.state[:, 2]
        terminated = (np.abs(x) > self.x_bound) | (np.abs(theta) > self.theta_bound)
        if self.reward_type == "alive":
            reward = np.ones(self.num_members)
        elif self.reward_type == "failure":
            reward = -terminated.astype(np.float64)
        else:
            shaped = 1.0 - 0.5 * (theta / self.theta_bound) ** 2 - 0.5 * (x / self.x_bound) ** 2
            reward = np.where(terminated, -1.0, shaped)
        return reward, terminated

    def _step_one(self, action):
        """:meth:`step_members` of a single active member in Python floats.

        The same operations in the same order as the array path (numpy's ``sin``,
        ``cos`` and ``** 2`` round as ``math.sin``, ``math.cos`` and ``x * x``), so
        the results are bit-identical; it only skips the per-array overhead that
        dominates a closed loop at ``B = 1``.
        """
        if self.action_type == "discrete":
            force = self.force_mag if action[0] == 1 else -self.force_mag
        else:
            force = float(action[0, 0]) * self.force_mag
        x, x_dot, theta, theta_dot = self.state[0].tolist()
        sin, cos = math.sin(theta), math.cos(theta)
        m, total = self.pole_mass, self.cart_mass + self.pole_mass
        ml = m * self.pole_half_length
        sign_x_dot = 1.0 if x_dot > 0 else (-1.0 if x_dot < 0 else 0.0)  # np.sign
        normal_sign = float(self.normal_sign[0])
        sigma = normal_sign * sign_x_dot
        theta_acc = self._theta_acc(force, sin, cos, theta_dot, sigma)
        normal = total * self.gravity - ml * (theta_acc * sin + theta_dot * theta_dot * cos)
        if self.cart_friction:
            sign = -1.0 if normal < 0 else 1.0
            if sign != normal_sign:
                sigma = sign * sign_x_dot
                theta_acc = self._theta_acc(force, sin, cos, theta_dot, sigma)
                normal = total * self.gravity - ml * (theta_acc * sin + theta_dot * theta_dot * cos)
            self.normal_sign[0] = -1.0 if normal < 0 else 1.0
        temp = (force + ml * (theta_dot * theta_dot) * sin) / total
        x_acc = temp - ml * theta_acc * cos / total - self.cart_friction * normal * sigma / total
        tau = self.tau
        x, theta = x + tau * x_dot, theta + tau * theta_dot
        state = self.state
        state[0, 0], state[0, 1] = x, x_dot + tau * x_acc
        state[0, 2], state[0, 3] = theta, theta_dot + tau * theta_acc
        self.last_force[0] = force
        terminated = abs(x) > self.x_bound or abs(theta) > self.theta_bound
        if self.reward_type == "alive":
            reward = 1.0
        elif self.reward_type == "failure":
            reward = -float(terminated)  # -0.0 while alive, as the array path
        elif terminated:
            reward = -1.0
        else:
            a, b = theta / self.theta_bound, x / self.x_bound
            reward = 1.0 - 0.5 * (a * a) - 0.5 * (b * b)
        return np.array([reward]), np.array([terminated])

    def observe(self):
        """``(x, x_dot, theta, theta_dot)`` of every member, ``(B, 4)`` float32."""
        return self.state.astype(np.float32)

    def render_member(self, member):
        """Track, cart and pole of one member as a ``(200, 400, 3)`` uint8 image."""
        height, width = 200, 400
        image = np.full((height, width, 3), 255, dtype=np.uint8)
        x, _, theta, _ = self.state[member]
        scale = width / (2.4 * self.x_bound)  # pixels per metre; the track spans 2/2.4 of it
        track_y = 150
        centre = width / 2 + x * scale
        left = int(round(width / 2 - self.x_bound * scale))
        right = int(round(width / 2 + self.x_bound * scale))
        image[track_y, max(left, 0):min(right, width)] = (0, 0, 0)
        for edge in (left, right):
            if 0 <= edge < width:
                image[track_y - 10:track_y + 1, edge] = (200, 0, 0)
        cart_w, cart_h = 50, 26
        x0, x1 = int(round(centre - cart_w / 2)), int(round(centre + cart_w / 2))
        cart_rows = slice(track_y - cart_h // 2, track_y + cart_h // 2)
        image[cart_rows, max(x0, 0):max(min(x1, width), 0)] = (40, 40, 40)
        # Pole: pixels within 3 px of the segment from the hinge to the tip.
        hinge = np.array([centre, track_y - cart_h / 2])
        length = 2 * self.pole_half_length * scale
        tip = hinge + length * np.array([np.sin(theta), -np.cos(theta)])
        rows, cols = np.mgrid[0:height, 0:width]
        d = tip - hinge
        t = np.clip(((cols - hinge[0]) * d[0] + (rows - hinge[1]) * d[1]) / max(d @ d, 1e-12), 0, 1)
        dist2 = (cols - hinge[0] - t * d[0]) ** 2 + (rows - hinge[1] - t * d[1]) ** 2
        image[dist2 <= 9] = (202, 152, 101)
        near = (cols - hinge[0]) ** 2 + (rows - hinge[1]) ** 2 <= 16
        image[near] = (129, 132, 203)
        return image

"""A hand-written, single-purpose numpy loop of the Florian (2007) XOR network: the baseline
that ``bench_xor.py`` times Spikey's XOR step against.

The same network as ``examples/florian_xor.py`` (60 Poisson inputs in two groups of 30, half
of each group inhibitory, 40 Hz for a 1 and silent for a 0; 60 hidden and 1 output LIF
neurons, tau 20 ms, threshold 16 mV, reset to 0, no refractory period, dt 1 ms; weights
U(0, 5) input -> hidden and hidden -> output, clipped to [0, 5]; MSTDPET with
A+ = 1, A- = -1, tau+ = tau- = 20 ms, tau_z = 25 ms, learning rate 0.625; every output
spike rewarded +1 when the pattern is XOR-true and -1 when it is false), written the way one
would write it for this network alone: two weight matrices, in-place numpy operations, no
parts, no batch axis, no configuration. Per step::

    x        ~ Bernoulli(rate dt)                        input spikes (60,)
    v        = v * exp(-dt / tau) + sign x W_in (hidden) + h W_out (output)
    spikes   = v >= 16 ; v[spikes] = 0
    P+       = P+ exp(-dt / tau+) + A+ sign pre ;  P- = P- exp(-dt / tau-) + A- post
    z        = z exp(-dt / tau_z) + (outer(P+, post) + outer(sign pre, P-)) / tau_z
    if the output fired: W += lr dt r z, clipped to [0, 5]

Run alone: ``python benchmarks/baselines/numpy_xor.py [--ticks 20]`` prints the time per step
and the output rates.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

N_IN, N_HID, GROUP = 60, 60, 30
DT, TAU, THRESHOLD, RATE_HZ = 1.0, 20.0, 16.0, 40.0
A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS, TAU_Z, LR, W_MAX = 1.0, -1.0, 20.0, 20.0, 25.0, 0.625, 5.0


class NumpyXOR:
    """The XOR network of one seed: state, weights and its own generator.

    Parameters
    ----------
    seed : int
        Seeds the generator of weights, input spikes and patterns.
    """

    def __init__(self, seed: int = 0):
        self.rng = rng = np.random.default_rng(seed)
        self.sign = np.tile([1.0, -1.0], GROUP)  # every other input inhibitory (as Spikey lays out)
        self.w_in = rng.uniform(0.0, W_MAX, (N_IN, N_HID))
        self.w_out = rng.uniform(0.0, W_MAX, (N_HID, 1))
        self.v_hid, self.v_out = np.zeros(N_HID), np.zeros(1)
        self.hid, self.out = np.zeros(N_HID, bool), np.zeros(1, bool)
        # traces: P+ of the inputs and hidden neurons (presynaptic), P- of hidden and output
        self.p_in, self.p_hid_pre = np.zeros(N_IN), np.zeros(N_HID)
        self.m_hid, self.m_out = np.zeros(N_HID), np.zeros(1)
        self.z_in, self.z_out = np.zeros((N_IN, N_HID)), np.zeros((N_HID, 1))
        self.decay = np.exp(-DT / TAU)
        self.d_plus, self.d_minus = np.exp(-DT / TAU_PLUS), np.exp(-DT / TAU_MINUS)
        self.d_z = np.exp(-DT / TAU_Z)
        self.rates = np.zeros(N_IN)
        self.output_spikes = 0

    def step(self, reward_sign: float) -> bool:
        """One 1 ms step while training; returns whether the output fired."""
        x = self.rng.random(N_IN) < self.rates
        signed = self.sign * x
        hid_pre = self.hid  # hidden spikes of the previous step drive the output now
        self.v_hid *= self.decay
        self.v_hid += signed @ self.w_in
        self.v_out *= self.decay
        self.v_out += hid_pre @ self.w_out
        hid = self.v_hid >= THRESHOLD
        out = self.v_out >= THRESHOLD
        self.v_hid[hid] = 0.0
        self.v_out[out] = 0.0
        self.p_in *= self.d_plus
        self.p_in += A_PLUS * signed
        self.p_hid_pre *= self.d_plus
        self.p_hid_pre += A_PLUS * hid_pre
        self.m_hid *= self.d_minus
        self.m_hid += A_MINUS * hid
        self.m_out *= self.d_minus
        self.m_out += A_MINUS * out
        self.z_in *= self.d_z
        self.z_out *= self.d_z
        if hid.any():
            self.z_in[:, hid] += self.p_in[:, None] / TAU_Z
        if x.any():
            self.z_in[x] += np.outer(self.sign[x], self.m_hid) / TAU_Z
        if out[0]:
            self.z_out += self.p_hid_pre[:, None] / TAU_Z
        if hid_pre.any():
            self.z_out[hid_pre] += self.m_out / TAU_Z
        self.hid, self.out = hid, out
        if out[0]:  # per-spike reward
            self.output_spikes += 1
            step = LR * DT * reward_sign
            self.w_in += step * self.z_in
            np.clip(self.w_in, 0.0, W_MAX, out=self.w_in)
            self.w_out += step * self.z_out
            np.clip(self.w_out, 0.0, W_MAX, out=self.w_out)
        return bool(out[0])

    def tick(self, steps: int = 500) -> int:
        """Present a random XOR pattern for ``steps`` steps; returns the output spike count."""
        pattern = self.rng.integers(0, 2, 2)
        self.rates = np.repeat(pattern * RATE_HZ * DT / 1000.0, GROUP)
        reward_sign = 1.0 if pattern[0] != pattern[1] else -1.0
        return sum(self.step(reward_sign) for _ in range(steps))


def time_per_step(ticks: int, repeats: int, seed: int = 0) -> tuple:
    """Median-ready samples of seconds per step (``repeats`` runs of ``ticks`` ticks after two
    warm-up ticks) and the output rate in Hz over all timed ticks."""
    net = NumpyXOR(seed)
    net.tick()
    net.tick()
    samples, spikes = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(ticks):
            spikes += net.tick()
        samples.append((time.perf_counter() - start) / (ticks * 500))
    return samples, spikes * 1000.0 / (repeats * ticks * 500 * DT)


def main(argv=None):
    """Print the median time per step and the output rate."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    samples, rate = time_per_step(args.ticks, args.repeats)
    print(f"numpy XOR loop: {np.median(samples) * 1e6:.1f} us/step (median of {args.repeats}), "
          f"output {rate:.1f} Hz")


if __name__ == "__main__":
    main()

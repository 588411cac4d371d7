r"""``Softmax``: a readout that reports class probabilities from the output rates.

.. math:: p_k = \frac{e^{\beta \nu_k}}{\sum_j e^{\beta \nu_j}}

with :math:`\nu_k` the rate (Hz) of output neuron :math:`k` in the tick and :math:`\beta`
(``inverse_temperature``, 1/Hz). The action is the most probable class. A network trained
by :class:`~spikey.gradients.trainer.GradientTrainer` with a ``rate`` readout over the whole
tick gives the trainer's probabilities with :math:`\beta` = ``logit_scale`` :math:`\Delta t/1000`.
"""

from __future__ import annotations

import numpy as np

from spikey.core.params import Key
from spikey.gradients.losses import softmax
from spikey.snn.readout.template import Readout


class Softmax(Readout):
    """Class probabilities ``probabilities`` ``(B, n_outputs)``; the action is their argmax.

    Examples
    --------
    >>> r = Softmax(n_outputs=3, inverse_temperature=0.1)
    >>> r(np.array([[0, 2, 1]]), 100.0).tolist(), r.probabilities.round(3).tolist()
    ([1], [[0.09, 0.665, 0.245]])
    """

    KEYS = Readout.KEYS + (
        Key("inverse_temperature", "float", "beta (1/Hz): logits are beta times the output rates.",
            0.01, range=(0, None)),
    )

    def __call__(self, counts, duration_ms):
        """The most probable class of each member, ``(B,)`` ints; sets ``probabilities``."""
        self.probabilities = softmax(self.inverse_temperature * self.rates(counts, duration_ms))
        return self.probabilities.argmax(axis=1)

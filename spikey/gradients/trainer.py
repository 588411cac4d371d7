"""Gradient training of a network config: minibatches, optimizer, regularizers, selection.

:class:`GradientTrainer` builds the network from its config (the parts define the
equations and the initial weights), encodes observations with the network's own input
part, and trains the signed weights with BPTT or e-prop. Every key is in
:data:`GRADIENT_KEYS` (the ``gradient`` section of a config); see the package README.
"""

from __future__ import annotations

import copy
import time

import numpy as np

from spikey.core.params import ConfigError, Key, validate
from spikey.core.part import REGISTRY, BuildContext
from spikey.gradients.engine import SpikingModel
from spikey.gradients.eprop import eprop_gradient
from spikey.gradients.losses import LOSSES, READOUTS, Loss, check_labels, softmax
from spikey.gradients.optimizers import OPTIMIZERS, Optimizer
from spikey.gradients.regularizers import rate_penalty, weight_penalty
from spikey.gradients.surrogates import SURROGATES, Surrogate

#: The keys of a config's ``gradient`` section.
GRADIENT_KEYS = (
    Key("method", "str", "Gradient: 'bptt' (surrogate-gradient backpropagation through time) or "
        "'eprop' (eligibility traces times learning signals).", "bptt",
        choices=("bptt", "eprop")),
    Key("surrogate", "str", "Surrogate derivative of the spike.", "fast_sigmoid",
        choices=SURROGATES),
    Key("surrogate_scale", "float", "Width w of the surrogate (mV).", 4.0, range=(1e-9, None)),
    Key("detach_reset", "bool", "The reset passes no gradient.", True),
    Key("readout", "str", "What the loss reads of the output neurons: spike 'rate' or "
        "'membrane' potential (before the reset), averaged over the readout window.", "rate",
        choices=READOUTS),
    Key("loss", "str", "Loss on the readout.", "cross_entropy", choices=LOSSES),
    Key("logit_scale", "float", "Multiplies the readout before the softmax.", 10.0,
        range=(1e-9, None)),
    Key("readout_window", "int", "Read the last this many steps only (None: all).", None,
        range=(1, None), nullable=True),
    Key("target_counts", "list", "[on, off] spike counts of the 'spike_count' loss.",
        [10.0, 0.0]),
    Key("eprop_feedback", "str", "e-prop learning signal of non-output neurons: through the "
        "weights into the outputs ('symmetric') or a fixed random matrix ('random').",
        "symmetric", choices=("symmetric", "random")),
    Key("optimizer", "str", "Optimizer.", "adam", choices=OPTIMIZERS),
    Key("learning_rate", "float", "Learning rate eta (mV per unit gradient step for sgd).",
        0.05, range=(0, None)),
    Key("momentum", "float", "Momentum mu ('momentum').", 0.9, range=(0, 1)),
    Key("beta1", "float", "Adam's first-moment decay.", 0.9, range=(0, 1)),
    Key("beta2", "float", "Adam's second-moment decay.", 0.999, range=(0, 1)),
    Key("rho", "float", "RMSprop's decay.", 0.9, range=(0, 1)),
    Key("epsilon", "float", "Added to the root in RMSprop and Adam.", 1e-8, range=(0, None)),
    Key("weight_decay", "float", "Weight decay lambda.", 0.0, range=(0, None)),
    Key("decoupled_weight_decay", "bool", "Adam: decoupled weight decay (AdamW).", False),
    Key("lr_schedule", "dict", "Learning rate per epoch from a modifier: {'part': 'LinearDecay', "
        "'start', 'end', 'ticks'} or {'part': 'DropOff', 'start', 'end', 'at'} (epochs as "
        "ticks); None keeps learning_rate.", None, nullable=True),
    Key("l1", "float", "L1 penalty on weights.", 0.0, range=(0, None)),
    Key("l2", "float", "L2 penalty on weights.", 0.0, range=(0, None)),
    Key("rate_regularization", "float", "Strength of the firing-rate penalty (per Hz^2).", 0.0,
        range=(0, None)),
    Key("target_rate", "float", "Target rate of the firing-rate penalty (Hz).", 10.0,
        range=(0, None)),
    Key("input_dropout", "float", "Probability that an input neuron is silenced for a sample "
        "(survivors scaled by 1/(1-p)).", 0.0, range=(0, 0.99)),
    Key("hidden_dropout", "float", "Probability that a non-output body neuron's outgoing spikes "
        "are dropped for a sample.", 0.0, range=(0, 0.99)),
    Key("input_noise", "float", "Std of Gaussian noise added to the input spike trains.", 0.0,
        range=(0, None)),
    Key("membrane_noise", "float", "Std of Gaussian noise added to every potential each step "
        "(mV).", 0.0, range=(0, None)),
    Key("epochs", "int", "Passes over the training set.", 10, range=(1, None)),
    Key("batch_size", "int", "Samples per gradient step (the batch axis B).", 32,
        range=(1, None)),
    Key("seed", "int", "Seed of weight init, shuffling, dropout and noise.", 0, range=(0, None)),
    Key("init", "str", "Initial weights: the network's weight part ('network', signed by "
        "polarity) or 'normal' N(0, (init_gain * threshold)^2 / fan_in) on its mask.", "normal",
        choices=("network", "normal")),
    Key("init_gain", "float", "Scale of the 'normal' init.", 1.0, range=(0, None)),
    Key("sign_constrained", "bool", "Keep each weight's sign equal to its presynaptic "
        "polarity, within max_weight (Dale's law: the result maps back onto the network).",
        False),
    Key("curriculum", "dict", "{'start_fraction': f0, 'epochs': E}: epoch e trains on the "
        "easiest f0 + (1 - f0) min(e/E, 1) of the samples (nearest their class mean first); "
        "None: all samples every epoch.", None, nullable=True),
    Key("init_weights", "str", "Transfer: start from weights saved by GradientTrainer.save "
        "(.npz).", None, nullable=True),
    Key("freeze", "list", "Weight blocks that stay fixed: 'inputs' (input rows), 'body' (body "
        "rows) or {'pre': [start, stop], 'post': [start, stop]}.", []),
    Key("blas_threads", "int", "BLAS threads while training and predicting: the matrices are "
        "small, so one thread is fastest (a BPTT step measured 5.6x faster than OpenBLAS's "
        "default on 2 busy cores); None leaves BLAS as it is. Needs threadpoolctl (installed "
        "with scikit-learn).", 1, range=(1, None), nullable=True),
    Key("select", "str", "Which epoch's weights to keep: best 'validation' accuracy, or 'last'.",
        "validation", choices=("validation", "last")),
)


def _blas_limit(threads):
    """A context limiting BLAS threads (threadpoolctl), or a no-op."""
    import contextlib

    if threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def _member_generators(seed: int, stream: str, count: int) -> list:
    tag = [ord(c) for c in stream]
    return [np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *tag, b])))
            for b in range(count)]


class GradientTrainer:
    """Trains a network config's weights by surrogate-gradient BPTT or e-prop.

    Parameters
    ----------
    network_config : dict
        A :meth:`spikey.snn.network.Network.from_config` config; its ``processing_steps``
        is the number of steps ``T`` per sample.
    gradient : dict
        Keys of :data:`GRADIENT_KEYS`.

    Examples
    --------
    >>> trainer = GradientTrainer(config, {"epochs": 5})        # doctest: +SKIP
    >>> history = trainer.fit((x, y), (x_val, y_val))           # doctest: +SKIP
    >>> trainer.accuracy(x_test, y_test)                        # doctest: +SKIP
    """

    def __init__(self, network_config: dict, gradient: dict | None = None):
        from spikey.snn.network import Network

        self.config = validate(GRADIENT_KEYS, gradient, "gradient")
        for name, value in self.config.items():
            setattr(self, name, value)
        cfg = copy.deepcopy(network_config)
        net_section = dict(cfg.get("network") or {})
        net_section.update(batch_size=1, dtype="float64")
        net_section.setdefault("reward_mode", "none")
        cfg["network"] = net_section
        self.network_config = cfg
        self.network = Network.from_config(cfg)
        tc = self.target_counts
        if not (isinstance(tc, list) and len(tc) == 2 and all(isinstance(v, (int, float))
                                                              for v in tc)):
            raise ConfigError(f"gradient.target_counts = {tc!r}; expected [on, off] numbers")
        surrogate = Surrogate(self.surrogate, self.surrogate_scale)
        self.model = SpikingModel.from_network(self.network, surrogate, self.detach_reset)
        self.steps = self.network.processing_steps
        self.loss_fn = Loss(self.readout, self.loss, self.model.n_outputs, self.logit_scale,
                            self.readout_window, tc)
        self.polarity = np.concatenate([self.network.parts["inputs"].polarity,
                                        self.network.parts["neurons"].polarity])
        self.max_weight = self.network.parts["weights"].max_weight
        self.trainable = self.model.mask & self._freeze_mask()
        self._trainable_index = np.flatnonzero(self.trainable)
        self._init_weights()
        self.optimizer = Optimizer(self.optimizer, self.learning_rate, self.momentum, self.beta1,
                                   self.beta2, self.rho, self.epsilon, self.weight_decay,
                                   self.decoupled_weight_decay)
        self.schedule = self._schedule()
        rng = np.random.default_rng([self.seed, 1])
        N, K = self.model.n_neurons, self.model.n_outputs
        self.feedback = rng.normal(0, 1.0 / np.sqrt(K), (N, K)) \
            if self.eprop_feedback == "random" else None
        self._dropout_rngs = []
        self._noise_rngs = []
        self.history = []
        #: Data parallelism (set by spikey.gradients.distributed): ``(rank, world, reduce)``;
        #: worker ``rank`` takes places ``rank, rank + world, ...`` of every minibatch and
        #: ``reduce(parts)`` sums ``[loss sum, gradient sum, samples, correct]`` over workers.
        self.shard = None
        self._workspace = {}  # the training step's arrays, reused (see SpikingModel.forward)

    # ------------------------------------------------------------ setup
    def _freeze_mask(self) -> np.ndarray:
        P, N = self.model.weights.shape
        n_in = self.model.n_inputs
        keep = np.ones((P, N), dtype=bool)
        if not isinstance(self.freeze, list):
            raise ConfigError(f"gradient.freeze = {self.freeze!r}; expected a list of blocks")
        for i, block in enumerate(self.freeze):
            where = f"gradient.freeze[{i}]"
            if block == "inputs":
                keep[:n_in] = False
            elif block == "body":
                keep[n_in:] = False
            elif isinstance(block, dict) and set(block) == {"pre", "post"}:
                spans = []
                for key, limit in (("pre", P), ("post", N)):
                    span = block[key]
                    if not (isinstance(span, (list, tuple)) and len(span) == 2
                            and all(isinstance(v, int) for v in span)
                            and 0 <= span[0] < span[1] <= limit):
                        raise ConfigError(f"{where}.{key} = {span!r}; expected [start, stop] with "
                                          f"0 <= start < stop <= {limit}")
                    spans.append(slice(*span))
                keep[spans[0], spans[1]] = False
            else:
                raise ConfigError(f"{where} = {block!r}; expected 'inputs', 'body' or "
                                  "{'pre': [start, stop], 'post': [start, stop]}")
        return keep

    def _init_weights(self) -> None:
        model = self.model
        if self.init_weights is not None:
            try:
                saved = np.load(self.init_weights)
                weights = saved["weights"]
            except (OSError, KeyError, ValueError) as error:
                raise ConfigError(f"gradient.init_weights = {self.init_weights!r}: cannot read "
                                  f"saved weights ({error})") from error
            if weights.shape != model.weights.shape:
                raise ConfigError(f"gradient.init_weights = {self.init_weights!r} holds weights "
                                  f"of shape {weights.shape}; this network needs "
                                  f"{model.weights.shape}")
            model.weights[...] = weights * model.mask
        elif self.init == "normal":
            rng = np.random.default_rng([self.seed, 0])
            fan_in = np.maximum(model.mask.sum(axis=0), 1)
            std = self.init_gain * model.threshold / np.sqrt(fan_in)
            w = rng.normal(0.0, 1.0, model.weights.shape) * std
            if self.sign_constrained:
                w = np.abs(w) * np.sign(self.polarity)[:, None]
            model.weights[...] = w * model.mask
        self._project()

    def _project(self) -> None:
        if self.sign_constrained:
            sign = np.sign(self.polarity)[:, None]
            w = self.model.weights
            w[...] = np.clip(w * sign, 0.0, self.max_weight) * sign * self.model.mask

    def _schedule(self):
        spec = self.lr_schedule
        if spec is None:
            return None
        spec = dict(spec)
        name = spec.pop("part", None)
        known = REGISTRY.get("modifiers", {})
        if name not in known or name == "Modifier":
            raise ConfigError(f"gradient.lr_schedule.part = {name!r}; expected a modifier such as "
                              f"'LinearDecay' or 'DropOff'")
        return known[name]({"path": "optimizer.learning_rate", **spec},
                           slot="gradient.lr_schedule")

    # ------------------------------------------------------------ data
    def encode(self, observations, seed: int = 0) -> np.ndarray:
        """Input spike trains ``(n, T, n_inputs)`` of observations, by the network's input part.

        ``observations`` with 3 axes are taken as spike trains already (checked).
        """
        x = np.asarray(observations)
        n_in = self.model.n_inputs
        if x.ndim == 3:
            if x.shape[1:] != (self.steps, n_in):
                raise ConfigError(f"spike trains of shape {x.shape}; expected (n, {self.steps}, "
                                  f"{n_in}) (processing_steps, n_inputs)")
            return x.astype(np.float64)
        inputs = self.network.parts["inputs"]
        part = type(inputs)(copy.deepcopy(inputs.config), slot="inputs")
        n = len(x)
        part.build(BuildContext(n, np.dtype(np.float64), self.network.dt,
                                tuple(seed * 1_000_003 + i for i in range(n)), n_in,
                                self.model.n_neurons, self.model.n_outputs))
        part.reset()
        present = getattr(part, "present", None)  # encode + the tick's start, as Network.tick
        if present is not None:
            present(x)
        else:
            part.encode(x)
        out = np.zeros((n, self.steps, n_in), dtype=bool)
        part.steps(self.steps, out)
        return out.astype(np.float64)

    def _generators(self, store: list, stream: str, slots) -> list:
        """The per-slot generators of ``slots`` (batch slot numbers), made on first use."""
        need = int(max(slots)) + 1 if len(slots) else 0
        if len(store) < need:
            store += _member_generators(self.seed, stream, need)[len(store):]
        return [store[int(b)] for b in slots]

    def _masks(self, B: int, slots=None):
        n_in, N, K = self.model.n_inputs, self.model.n_neurons, self.model.n_outputs
        slots = range(B) if slots is None else slots
        input_mask = hidden_mask = None
        if self.input_dropout or self.hidden_dropout:
            gens = self._generators(self._dropout_rngs, "dropout", slots)
            draws = np.empty((len(gens), n_in + N))
            for row, g in zip(draws, gens):  # the same draws as g.random(n_in + N)
                g.random(out=row)
            if self.input_dropout:
                input_mask = (draws[:, :n_in] >= self.input_dropout) / (1.0 - self.input_dropout)
            if self.hidden_dropout:
                hidden_mask = (draws[:, n_in:] >= self.hidden_dropout) / (1.0 - self.hidden_dropout)
                hidden_mask[:, N - K:] = 1.0
        return input_mask, hidden_mask

    def dropout_masks(self, B: int) -> tuple:
        """The next ``(input_mask (B, n_inputs), hidden_mask (B, N))`` (None when off).

        Member (batch slot) ``b`` draws from its own generator seeded by ``(seed, b)``, so
        its masks do not depend on the batch size.
        """
        return self._masks(B)

    def _noise(self, x: np.ndarray, slots=None):
        B, T, n_in = x.shape
        if not (self.input_noise or self.membrane_noise):
            return x, None
        gens = self._generators(self._noise_rngs, "noise", range(B) if slots is None else slots)
        if self.input_noise:
            x = x + self.input_noise * np.stack([g.standard_normal((T, n_in)) for g in gens])
        noise = None
        if self.membrane_noise:
            N = self.model.n_neurons
            noise = self.membrane_noise * np.stack(
                [g.standard_normal((T, N)) for g in gens], axis=1)
        return x, noise

    # ------------------------------------------------------------ one step
    def gradient(self, x: np.ndarray, y: np.ndarray, train: bool = True, slots=None) -> tuple:
        """``(loss, dL/dW, tape)`` of one minibatch of spike trains ``(B, T, n_inputs)``.

        ``slots`` (optional, ``B`` integers) are the samples' places in the whole minibatch,
        which pick their dropout and noise generators (default ``0 .. B-1``): a data-parallel
        worker holding places 1, 3, 5 of a minibatch draws what one process would draw there.
        The tape's arrays, and BPTT's gradient array, are reused by the next call (copy what
        must outlive it).
        """
        model, loss_fn = self.model, self.loss_fn
        input_mask = hidden_mask = noise = None
        if train:
            input_mask, hidden_mask = self._masks(len(x), slots)
            x, noise = self._noise(x, slots)
        work = self._workspace
        tape = model.forward(x, input_mask=input_mask, hidden_mask=hidden_mask,
                             membrane_noise=noise, workspace=work)
        value, grad_q = loss_fn.value_and_grad(tape, y)
        if self.method == "eprop":
            grad, penalty = eprop_gradient(model, tape, loss_fn, grad_q, self.feedback,
                                           self.rate_regularization, self.target_rate)
            value += penalty
        else:
            grad_z, grad_u = loss_fn.direct_gradients(tape, grad_q, workspace=work)
            if self.rate_regularization:
                penalty, g_rate = rate_penalty(tape.spikes, model.dt, self.rate_regularization,
                                               self.target_rate)
                value += penalty
                grad_z = g_rate.copy() if grad_z is None else grad_z + g_rate
            grad = model.backward(tape, grad_z, grad_u, workspace=work)
        if self.l1 or self.l2:
            penalty, g_w = weight_penalty(model.weights, self.trainable, self.l1, self.l2)
            value += penalty
            grad = grad + g_w
        if self.freeze:
            grad *= self.trainable
        return value, grad, tape

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One optimizer step on a minibatch of spike trains; returns its loss.

        Unlike :meth:`fit` it leaves BLAS threads as they are (limiting them costs
        milliseconds per call): wrap a loop of steps in ``threadpoolctl.threadpool_limits(1)``.
        """
        value, grad, _ = self.gradient(x, y)
        self._update(grad)
        return value

    def _update(self, grad: np.ndarray) -> None:
        """One optimizer step on the trainable entries only (their flat indices)."""
        self.optimizer.step_at(self.model.weights.reshape(-1), grad.reshape(-1),
                               self._trainable_index)
        self._project()

    # ------------------------------------------------------------ evaluation
    def predict_proba(self, x, batch_size: int = 256) -> np.ndarray:
        """Class probabilities ``(n, n_outputs)`` (softmax of the logits), no dropout or noise."""
        trains = self.encode(x, seed=10**6)
        out = []
        with _blas_limit(self.blas_threads):
            for start in range(0, len(trains), batch_size):
                tape = self.model.forward(trains[start:start + batch_size])
                out.append(softmax(self.loss_fn.logits(tape)))
        return np.concatenate(out)

    def accuracy(self, x, y) -> float:
        """Fraction of samples whose most probable class is the label."""
        return float((self.predict_proba(x).argmax(axis=1) == np.asarray(y)).mean())

    def confusion_matrix(self, x, y) -> np.ndarray:
        """``(K, K)`` counts: row = label, column = prediction."""
        K = self.model.n_outputs
        pred = self.predict_proba(x).argmax(axis=1)
        out = np.zeros((K, K), dtype=np.int64)
        np.add.at(out, (np.asarray(y), pred), 1)
        return out

    # ------------------------------------------------------------ fitting
    def curriculum_order(self, x, y) -> np.ndarray:
        """Sample indices from easiest to hardest: distance to the class mean (observations)."""
        flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        y = np.asarray(y)
        dist = np.zeros(len(flat))
        for c in np.unique(y):
            rows = y == c
            dist[rows] = np.linalg.norm(flat[rows] - flat[rows].mean(axis=0), axis=1)
        return np.argsort(dist, kind="stable")

    def _epoch_pool(self, epoch: int, order) -> np.ndarray:
        if self.curriculum is None:
            return order
        spec = self.curriculum
        if set(spec) != {"start_fraction", "epochs"} or not 0 < spec["start_fraction"] <= 1 \
                or not (isinstance(spec["epochs"], int) and spec["epochs"] >= 1):
            raise ConfigError(f"gradient.curriculum = {spec!r}; expected {{'start_fraction': "
                              "0 < f <= 1, 'epochs': int >= 1}")
        f0 = spec["start_fraction"]
        frac = f0 + (1.0 - f0) * min(epoch / spec["epochs"], 1.0)
        return order[:max(1, int(round(frac * len(order))))]

    def fit(self, train, validation=None, verbose: bool = False, callback=None) -> list:
        """Train for ``epochs``; keep the weights of the best validation accuracy.

        Parameters
        ----------
        train : tuple
            ``(x, y)``: observations ``(n, ...)`` (or spike trains ``(n, T, n_inputs)``) and
            integer labels (or real targets for ``mse``).
        validation : tuple, optional
            ``(x, y)`` for selection (``select='validation'``); the test split never enters.
        verbose : bool
            Print one line per epoch.
        callback : callable, optional
            Called with each epoch's row as it is made (e.g. to report it to Ray Tune).

        Returns
        -------
        list of dict
            One row per epoch: ``epoch, loss, train_accuracy, validation_accuracy,
            learning_rate, samples, seconds``.
        """
        x, y = train
        y = np.asarray(y)
        if len(y) != len(x):
            raise ConfigError(f"train: {len(x)} samples but {len(y)} labels")
        if self.loss != "mse":
            check_labels(y, len(y), self.model.n_outputs)
        if validation is not None and self.loss != "mse":
            check_labels(np.asarray(validation[1]), len(validation[0]), self.model.n_outputs)
        if self.curriculum is not None:
            self._epoch_pool(0, np.arange(len(y)))  # check the spec before training
        trains = self.encode(x, seed=self.seed)
        order_all = self.curriculum_order(x, y) if self.curriculum is not None \
            else np.arange(len(trains))
        with _blas_limit(self.blas_threads):
            return self._fit(trains, y, order_all, validation, verbose, callback)

    def _minibatch(self, trains, y, idx) -> tuple:
        """``(loss sum, gradient, samples, correct)`` of one minibatch (all of it, or this
        worker's places of it summed over the workers), the gradient a batch mean."""
        classify = self.loss != "mse"
        if self.shard is None:
            value, grad, tape = self.gradient(trains[idx], y[idx])
            correct = int((self.loss_fn.logits(tape).argmax(axis=1) == y[idx]).sum()) \
                if classify else 0
            return value * len(idx), grad, len(idx), correct
        rank, world, reduce = self.shard
        places = np.arange(rank, len(idx), world)
        if places.size:
            mine = idx[places]
            value, grad, tape = self.gradient(trains[mine], y[mine], slots=places)
            correct = int((self.loss_fn.logits(tape).argmax(axis=1) == y[mine]).sum()) \
                if classify else 0
            parts = [value * places.size, grad * places.size, places.size, correct]
        else:
            parts = [0.0, np.zeros_like(self.model.weights), 0, 0]
        total, grad_sum, n, correct = reduce(parts)
        return total, grad_sum / n, n, correct

    def _fit(self, trains, y, order_all, validation, verbose, callback=None):
        shuffle = np.random.default_rng([self.seed, 2])
        best, best_weights = -1.0, self.model.weights.copy()
        classify = self.loss != "mse"
        for epoch in range(self.epochs):
            if self.schedule is not None:
                self.optimizer.learning_rate = float(self.schedule.value(epoch))
            pool = self._epoch_pool(epoch, order_all)
            pool = pool[shuffle.permutation(len(pool))]
            start_time = time.perf_counter()
            losses, correct = [], 0
            for start in range(0, len(pool), self.batch_size):
                idx = pool[start:start + self.batch_size]
                total, grad, _, right = self._minibatch(trains, y, idx)
                self._update(grad)
                losses.append(total)
                correct += right
            row = {"epoch": epoch, "loss": float(np.sum(losses) / len(pool)),
                   "train_accuracy": correct / len(pool) if classify else None,
                   "learning_rate": self.optimizer.learning_rate, "samples": int(len(pool)),
                   "seconds": time.perf_counter() - start_time, "validation_accuracy": None}
            if validation is not None and classify:
                row["validation_accuracy"] = self.accuracy(*validation)
                if self.select == "validation" and row["validation_accuracy"] > best:
                    best, best_weights = row["validation_accuracy"], self.model.weights.copy()
            self.history.append(row)
            if callback is not None:
                callback(row)
            if verbose:
                print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in row.items()), flush=True)
        if validation is not None and classify and self.select == "validation":
            self.model.weights[...] = best_weights
        return self.history

    # ------------------------------------------------------------ transfer
    def save(self, path: str) -> None:
        """Save the weights and mask (``.npz``) for ``init_weights`` (transfer)."""
        np.savez(path, weights=self.model.weights, mask=self.model.mask)

    def export_to(self, network) -> None:
        """Write the trained weights into a built network's ``weights.matrix`` (every member).

        Raises
        ------
        ConfigError
            When a weight's sign disagrees with its presynaptic polarity (train with
            ``sign_constrained: true``) or exceeds ``max_weight``.
        """
        sign = np.sign(self.polarity)[:, None]
        magnitude = self.model.weights * sign
        bad = (magnitude < -1e-12) | (magnitude > self.max_weight + 1e-12)
        if bad.any():
            j, k = map(int, np.argwhere(bad)[0])
            raise ConfigError(f"weight [{j}, {k}] = {self.model.weights[j, k]:g} does not fit the "
                              f"network: its sign must be the polarity of presynaptic neuron {j} "
                              f"and its size <= max_weight = {self.max_weight}; train with "
                              "gradient.sign_constrained = true")
        magnitude = np.clip(magnitude, 0.0, self.max_weight)
        weights = network.parts["weights"]
        if not getattr(weights, "SPARSE", False):
            weights.matrix[...] = magnitude
            return
        # SparseFanIn: each member's stored synapses read their entries of the dense matrix
        posts = np.arange(weights.matrix.shape[1])[:, None]
        for b in range(weights.matrix.shape[0]):
            pre = weights.pre_index[b]
            if not self.model.mask[pre, posts].all():
                raise ConfigError(f"member {b} of the network has synapses the trained network "
                                  "lacks (SparseFanIn draws them per member): export to a "
                                  "network built with the trainer's weights config and seed")
            weights.matrix[b] = magnitude[pre, posts]

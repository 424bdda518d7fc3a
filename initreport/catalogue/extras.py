"""Experiments a student or teacher asks for beyond the notes' own claims: the one-neuron argument
on a set where it can be seen, and the two frameworks' default initialisations, measured."""

from __future__ import annotations

from .configs import digits, two_d
from .ids import ExpId
from .model import Experiment, Run
from .profiles import Profile


def zero_sigmoid_moons(p: Profile) -> Experiment:
    """Zero-initialised sigmoid on two moons: a linear boundary gets most of the points right, so a net
    acting as one neuron shows a near-straight boundary (on circles a straight line is at chance too)."""
    # Sigmoid learns slowly: a random start needs about 150 epochs to bend its boundary round the moons
    # (measured: Glorot, 3 seeds, 92.8% ± 6.3% test accuracy after 60 epochs, 100% after 150), so this
    # demonstration trains five times the 2-D sets' epochs (0.4 s per run).
    epochs = 5 * p.epochs_2d

    def run(role, init, label, **kw):
        return Run(role, two_d(p, dataset="moons", init=init, activation="sigmoid", epochs=epochs,
                               checkpoints=(epochs // 2,), **kw), label)

    return Experiment(
        id=ExpId.ZERO_SIGMOID_MOONS, title="The one-neuron argument, made visible: zero-initialised sigmoid on two moons",
        claim="With zero weights, sigmoid units stay identical, so the layer acts as one neuron: on a set a straight "
              "line separates only in part, the zero-initialised net draws a near-straight boundary, like a net "
              "with one unit per layer, where a randomly initialised net follows the moons.",
        source="Part 1, §4A", page="pitfalls/zero",
        measure="decision boundary and test accuracy on two moons: zero init (16 units per layer) against one unit "
                "per layer and against Glorot; spread between the units' weight vectors",
        runs=(run("subject", "zeros", "Zeros, 16 units per layer"),
              run("narrow", "zeros", "Zeros, 1 unit per layer", width=1),
              run("reference", "glorot_uniform", "Glorot uniform, 16 units per layer")),
        rule="symmetry", figures=("decision_boundary", "unit_spread"))


# (activation, the heuristic the notes recommend for it)
_DEFAULTS_REFERENCE = (("relu", "he_normal"), ("tanh", "glorot_normal"))


def framework_defaults(p: Profile) -> Experiment:
    """PyTorch's nn.Linear default (weights and bias U(±1/√n_in)) and Keras' (Glorot uniform, zero bias)
    against the notes' heuristic, in a deep net on the digits."""
    runs = []
    for act, ref in _DEFAULTS_REFERENCE:
        def cfg(init):
            return digits(p, init=init, activation=act, depth=p.deep)
        name = {"relu": "ReLU", "tanh": "tanh"}[act]
        runs += [Run("pytorch", cfg("pytorch_default"), f"PyTorch default, {name}"),
                 Run("keras", cfg("glorot_uniform"), f"Keras default (Glorot uniform), {name}"),
                 Run("reference", cfg(ref), f"{'He normal' if ref == 'he_normal' else 'Glorot normal'}, {name}")]
    return Experiment(
        id=ExpId.FRAMEWORK_DEFAULTS, title="The frameworks' defaults: is leaving them alone safe?",
        claim="A network left at its framework's default initialisation (PyTorch's nn.Linear: weights and bias "
              "U(±1/√n_in); Keras: Glorot uniform, zero bias) trains as well as one with the heuristic the notes "
              "recommend (He for ReLU, Glorot for tanh).",
        source="A reader's question the notes leave open", page="choosing",
        measure=f"final test accuracy of a {p.deep}-layer net on the digits with each default against the "
                "recommended heuristic; activation std per layer at initialisation",
        runs=tuple(runs), rule="framework_defaults", figures=("layer_std", "loss_curves"))

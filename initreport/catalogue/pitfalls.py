"""The notes' pitfalls ("what not to do"): zero, constant, small and large random weights."""

from __future__ import annotations

from .configs import digits, two_d
from .ids import ExpId
from .model import Experiment, Run
from .profiles import Profile


def _zero(p: Profile) -> list[Experiment]:
    def sym(act, init, **kw):
        return two_d(p, init=init, activation=act, seeds=p.cmp_seeds, **kw)

    return [
        Experiment(
            id=ExpId.ZERO_RELU_TANH, title="Zero initialisation freezes ReLU and tanh networks",
            claim="With every weight and bias at zero, every hidden unit outputs 0, every gradient reaching a hidden "
                  "weight is 0, and the weights never change: no training happens, with ReLU or tanh.",
            source="Part 1, §4A; part 2, §2", page="pitfalls/zero",
            measure="largest |W_t − W_0| over hidden layers after training (exactly 0?), accuracy against a good init",
            runs=(Run("subject", digits(p, init="zeros", activation="relu"), "zeros, relu"),
                  Run("subject", digits(p, init="zeros", activation="tanh"), "zeros, tanh"),
                  Run("reference", digits(p, init="he_normal", activation="relu"), "he_normal, relu"),
                  Run("reference", digits(p, init="glorot_uniform", activation="tanh"), "glorot_uniform, tanh")),
            rule="frozen", figures=("loss_curves", "weight_change")),
        Experiment(
            id=ExpId.ZERO_SIGMOID, title="Zero initialisation with sigmoid: every unit learns the same thing",
            claim="With zero weights, sigmoid units all output 0.5 and receive identical gradients, so they stay "
                  "identical: the layer acts as one neuron, the network as a near-linear model, and more units do "
                  "not help.",
            source="Part 1, §4A", page="pitfalls/zero",
            measure="spread between the units' weight vectors (exactly 0?), rank of each hidden W, accuracy against a "
                    "width-1 network and Glorot, decision boundary on a 2-D non-linear set",
            runs=(Run("subject", sym("sigmoid", "zeros"), "zeros, sigmoid"),
                  Run("narrow", sym("sigmoid", "zeros", width=1), "zeros, sigmoid, width 1"),
                  Run("reference", sym("sigmoid", "glorot_uniform"), "glorot_uniform, sigmoid")),
            rule="symmetry", figures=("decision_boundary", "loss_curves", "unit_spread")),
        Experiment(
            id=ExpId.CONSTANT, title="A non-zero constant: the single-neuron problem, whatever the activation",
            claim="With every weight (and bias) at one non-zero constant such as 0.5, the units of a layer compute "
                  "the same thing and receive the same updates for the whole training, with ReLU, tanh or sigmoid "
                  "alike.",
            source="Part 1, §4B; part 2, §2", page="pitfalls/constant",
            measure="spread between units, rank of W, accuracy against a width-1 network and Glorot",
            runs=tuple(r for act in ("relu", "tanh", "sigmoid") for r in (
                Run("subject", sym(act, "constant"), f"constant, {act}"),
                Run("narrow", sym(act, "constant", width=1), f"constant, {act}, width 1"),
                Run("reference", sym(act, "glorot_uniform"), f"glorot_uniform, {act}"))),
            rule="symmetry", figures=("decision_boundary", "loss_curves", "unit_spread")),
    ]


def _small(p: Profile, axis: tuple = ()) -> list[Experiment]:
    def on_axis(act, ref):
        """The depth axis's cells of small random and ``ref`` with ``act`` (selection and evaluation runs)."""
        return tuple(r for r in axis if r.config.activation == act and r.config.init in ("small_random", ref))

    def deep(init, act):
        return Run("subject" if init == "small_random" else "reference",
                   digits(p, init=init, activation=act, depth=p.deep, seeds=p.cmp_seeds), f"{init}, {act}")

    return [
        Experiment(
            id=ExpId.SMALL_TANH, title="Small random weights with tanh: vanishing activations and gradients",
            claim="With weights N(0,1)·0.01 and many inputs, Z is close to 0, tanh outputs shrink toward 0 layer "
                  "after layer, the gradients vanish and training stalls.",
            source="Part 1, §4C; part 2, §2", page="pitfalls/small-random",
            measure="activation std per layer at initialisation, back-propagated gradient std per layer, loss after "
                    "training",
            runs=(deep("small_random", "tanh"), deep("glorot_uniform", "tanh")) + on_axis("tanh", "glorot_normal"),
            rule="vanishing", figures=("layer_std", "activation_hist", "gradient_hist", "loss_curves", "depth_axis_loss")),
        Experiment(
            id=ExpId.SMALL_SIGMOID, title="Small random weights with sigmoid: vanishing gradients in deep nets",
            claim="With small weights, sigmoid units sit near 0.5; in a deep network the small gradients multiply "
                  "through the layers and training is very slow or does not happen.",
            source="Part 1, §4C", page="pitfalls/small-random",
            measure="activation and gradient std per layer, loss after training",
            runs=(deep("small_random", "sigmoid"), deep("glorot_uniform", "sigmoid")) + on_axis("sigmoid", "glorot_normal"),
            rule="vanishing", figures=("layer_std", "activation_hist", "gradient_hist", "loss_curves", "depth_axis_loss")),
        Experiment(
            id=ExpId.SMALL_RELU, title="Small random weights with ReLU: less vanishing, but very slow training",
            claim="With ReLU the slope is 1 for Z > 0, so gradients vanish less than with tanh or sigmoid, but "
                  "training from small weights is extremely slow.",
            source="Part 1, §4C", page="pitfalls/small-random",
            measure="epochs to reach a training loss of 0.5 against He; gradient decay against small-random tanh",
            runs=(Run("subject", digits(p, init="small_random", activation="relu", seeds=p.cmp_seeds),
                      "small_random, relu"),
                  Run("reference", digits(p, init="he_normal", activation="relu", seeds=p.cmp_seeds), "he_normal, relu"),
                  Run("contrast", digits(p, init="small_random", activation="tanh", seeds=p.cmp_seeds),
                      "small_random, tanh")) + on_axis("relu", "he_normal"),
            rule="slow_relu", figures=("loss_curves", "layer_std", "depth_axis_loss")),
    ]


LARGE_INITS = ("large_uniform_positive", "large_uniform", "large_random")
# Instability is a property over learning rates: the large-weights ReLU claim is measured over this sweep
# (the figures show the runs at the common rate only).
RATE_SWEEP = (0.001, 0.003, 0.01, 0.03)


def _large(p: Profile) -> list[Experiment]:
    def run(init, act):
        return Run("subject" if init in LARGE_INITS else "reference",
                   digits(p, init=init, activation=act, depth=4, seeds=p.cmp_seeds), f"{init}, {act}")

    return [
        Experiment(
            id=ExpId.LARGE_SATURATE, title="Large random weights saturate tanh and sigmoid",
            claim="With large weights (U[0,1) in part 1; U[−3,3] or unscaled N(0,1) in part 2), Z reaches hundreds, "
                  "tanh and sigmoid saturate, their derivative is near 0, gradients vanish and convergence is slow.",
            source="Part 1, §4D; part 2, §2", page="pitfalls/large-random",
            measure="fraction of saturated outputs per layer at initialisation, gradient std per layer, final loss",
            runs=tuple(run(init, act) for act in ("tanh", "sigmoid")
                       for init in LARGE_INITS + ("glorot_uniform",)),
            rule="saturation", figures=("saturation", "activation_hist", "gradient_hist", "loss_curves")),
        Experiment(
            id=ExpId.LARGE_RELU, title="Large random weights with ReLU: exploding activations, unstable training",
            claim="ReLU does not saturate, so large weights give large activations and very large gradients; the "
                  "updates overshoot and training is unstable and fails to converge.",
            source="Part 1, §4D; part 2, §2", page="pitfalls/large-random",
            measure=f"activation std growth per layer; per seed, the share of the learning rates "
                    f"{', '.join(f'{lr:g}' for lr in RATE_SWEEP)} at which training diverges (NaN/Inf) or its loss "
                    "rises by over 5% in two or more epochs (instability), and at which it stalls",
            runs=tuple(run(init, "relu") for init in LARGE_INITS + ("he_normal",))
                 + tuple(Run("rates", run(init, "relu").config.with_(lr=lr), f"{init}, relu, lr {lr:g}")
                         for init in LARGE_INITS + ("he_normal",) for lr in RATE_SWEEP
                         if lr != run(init, "relu").config.lr),
            rule="exploding", figures=("layer_std", "loss_curves")),
    ]


def pitfall_experiments(p: Profile, axis: tuple = ()) -> list[Experiment]:
    """Zero, constant, small and large random weights, in the order the site lists them (``axis``: the
    depth axis's runs, :mod:`.axis`; the small-random claims are decided along it)."""
    return _zero(p) + _small(p, axis) + _large(p)


def zero_bias(p: Profile) -> Experiment:
    """A reader question the notes leave open: may biases start at zero?"""
    return Experiment(
        id=ExpId.ZERO_BIAS, title="Biases may start at zero when the weights are random",
        claim="Symmetry is broken by random weights, so biases can start at zero (a common reader question the "
              "notes leave open).",
        source="A reader's question the notes leave open", page="pitfalls/zero",
        measure="unit spread at initialisation with zero biases; accuracy with biases 0 against biases 0.1",
        runs=(Run("subject", digits(p, init="he_normal", activation="relu", bias=0.0, seeds=p.cmp_seeds),
                  "he_normal, bias 0"),
              Run("reference", digits(p, init="he_normal", activation="relu", bias=0.1, seeds=p.cmp_seeds),
                  "he_normal, bias 0.1")),
        rule="bias_zero")

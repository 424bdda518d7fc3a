"""The notes' heuristics ("what to do"): Xavier/Glorot, He, the Keras names, and the choice by activation."""

from __future__ import annotations

from .configs import digits, variance_net
from .ids import ExpId
from .model import Experiment, Run
from .profiles import Profile


def _formulas(p: Profile) -> list[Experiment]:
    def tanh96(init):
        return Run("subject", digits(p, init=init, activation="tanh", width=96), f"{init}, tanh")

    def variance(init, role):           # "subject": the He variant; "reference": √(1/n_in)
        return Run(role, variance_net(p, init), init)

    variance_measure = (f"pre-activation variance per layer at initialisation in a {p.variance_depth}-layer ReLU "
                        f"net of width {p.variance_width}")
    return [
        Experiment(
            id=ExpId.XAVIER_NORMAL, title="Xavier normal: σ = √(1/n_in), or √(2/(n_in+n_out))",
            claim="Xavier/Glorot normal draws N(0, σ²) with σ = √(1/n_in); some variants use 2/(n_in+n_out) for "
                  "the variance. The first is what Keras calls lecun_normal, the second Keras' glorot_normal "
                  "(truncated).",
            source="Part 2, §5", page="heuristics/xavier",
            measure="sample std of the drawn weights against each formula; both variants trained side by side with tanh",
            runs=tuple(tanh96(init) for init in ("lecun_normal", "xavier_normal_untruncated", "glorot_normal")),
            rule="formula", figures=("layer_std", "activation_hist", "loss_curves")),
        Experiment(
            id=ExpId.XAVIER_UNIFORM, title="Xavier uniform: U[−l, l] with l = √(6/(n_in+n_out))",
            claim="Xavier/Glorot uniform draws from U[−l, l] with l = √(6/(n_in + n_out)), a variance of "
                  "2/(n_in + n_out).",
            source="Part 2, §5", page="heuristics/xavier",
            measure="sample bounds and std against the formula",
            runs=(tanh96("glorot_uniform"),),
            rule="formula", figures=("activation_hist", "gradient_hist")),
        Experiment(
            id=ExpId.HE_NORMAL, title="He normal keeps the variance level through a deep ReLU net",
            claim="He normal draws N(0, 2/n_in); the 2 makes up for ReLU zeroing half of its inputs, so the "
                  "variance of the activations stays level from layer to layer, where √(1/n_in) halves it at "
                  "every layer.",
            source="Part 2, §6", page="heuristics/he",
            measure=variance_measure,
            runs=(variance("he_normal", "subject"), variance("lecun_normal", "reference")),
            rule="level_variance", figures=("layer_std", "activation_hist", "gradient_hist")),
        Experiment(
            id=ExpId.HE_UNIFORM, title="He uniform: U[−l, l] with l = √(6/n_in)",
            claim="He uniform draws from U[−l, l], l = √(6/n_in): the same variance 2/n_in as He normal.",
            source="Part 2, §6", page="heuristics/he",
            measure="sample bounds and std against the formula; variance through the deep ReLU net",
            runs=(variance("he_uniform", "subject"), variance("lecun_uniform", "reference")),
            rule="level_variance", figures=("layer_std",)),
    ]


def _axis_of(axis: tuple, activations: tuple) -> tuple:
    """The depth-axis runs (selection and evaluation) of the heuristics' cells for ``activations``."""
    return tuple(r for r in axis if r.config.activation in activations and r.config.init != "small_random")


def _choice(p: Profile, matrix: tuple, deep_pair: tuple, axis: tuple) -> list[Experiment]:
    deep = sorted({r.config.depth for r in deep_pair})
    depths = ", ".join(map(str, p.axis_depths))
    tuned = (f"along depth ({depths} hidden layers, {p.axis_epochs} epochs), each (initialiser, activation, depth) "
             f"at its own learning rate chosen on a validation split, {len(p.cmp_seeds)} paired seeds")
    return [
        Experiment(
            id=ExpId.XAVIER_FOR_TANH, title="Xavier works best with tanh and sigmoid",
            claim="Xavier/Glorot initialisation works best with tanh and sigmoid, keeping the variance of the "
                  "activations consistent across layers.",
            source="Part 2, §5 and §8", page="heuristics/xavier",
            measure=f"held-out accuracy of Glorot against He with tanh and sigmoid {tuned}; the depth-4 matrix as context",
            runs=matrix + _axis_of(axis, ("tanh", "sigmoid")), rule="xavier_for_tanh", figures=("depth_axis", "heatmap")),
        Experiment(
            id=ExpId.HE_FOR_RELU, title="He works best with ReLU and its variants",
            claim="He initialisation works best with ReLU and its variants such as leaky ReLU; a deep ReLU net "
                  "trains with He and stalls with √(1/n_in) (He et al. 2015).",
            source="Part 2, §6 and §8", page="heuristics/he",
            measure=f"held-out accuracy of He against Glorot (√(1/n_in) on these layers) with ReLU and leaky ReLU "
                    f"{tuned}; at one common learning rate, the final training loss of {', '.join(map(str, deep))}-layer "
                    "ReLU nets with He against √(1/n_in) (He et al.'s setting, context)",
            runs=matrix + _axis_of(axis, ("relu", "leaky_relu")) + deep_pair, rule="he_for_relu",
            figures=("depth_axis", "heatmap")),
        Experiment(
            id=ExpId.KERAS_NAMES, title="Keras names and defaults",
            claim="In Keras the initialiser is chosen with kernel_initializer='he_normal', 'he_uniform', "
                  "'glorot_normal' or 'glorot_uniform'; the default is Glorot uniform.",
            source="Part 2, §7", page="choosing",
            measure="the tool draws each Keras name with Keras' exact definition; sample std against Keras' formula",
            runs=tuple(Run("subject", digits(p, init=init, activation="relu", epochs=0, checkpoints=(), width=128),
                           init) for init in ("he_normal", "he_uniform", "glorot_normal", "glorot_uniform")),
            rule="keras_names"),
        Experiment(
            id=ExpId.CONCLUSION, title="Choose the initialiser by the activation",
            claim="Choose the initialiser by the activation function: Xavier/Glorot for tanh and sigmoid, He for "
                  "ReLU.",
            source="Part 2, §8", page="choosing",
            measure=f"the two claims above together: Glorot against He for tanh and sigmoid, He against Glorot for "
                    f"ReLU and leaky ReLU, held-out accuracy {tuned}",
            runs=matrix + _axis_of(axis, ("relu", "leaky_relu", "tanh", "sigmoid")) + deep_pair, rule="recommendation",
            figures=("depth_axis", "heatmap"), matrix=True),
    ]


def heuristic_experiments(p: Profile, matrix: tuple, deep_pair: tuple, axis: tuple) -> list[Experiment]:
    """The formulas, then the choice by activation (``matrix``: the matrix runs; ``deep_pair``:
    He and √(1/n_in) at the depth study's deepest depth, role "deep"; ``axis``: the depth axis's
    selection and evaluation runs, roles "selection" and "axis")."""
    return _formulas(p) + _choice(p, matrix, deep_pair, axis)

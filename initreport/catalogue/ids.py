"""Experiment ids as constants: code and templates name experiments through these, never by
repeating the strings (templates get this class as ``ids``)."""


class ExpId:
    ZERO_RELU_TANH = "zero-relu-tanh"
    ZERO_SIGMOID = "zero-sigmoid"
    CONSTANT = "constant"
    SMALL_TANH = "small-tanh"
    SMALL_SIGMOID = "small-sigmoid"
    SMALL_RELU = "small-relu"
    LARGE_SATURATE = "large-saturate"
    LARGE_RELU = "large-relu"
    SUMMARY = "summary"
    XAVIER_NORMAL = "xavier-normal"
    XAVIER_UNIFORM = "xavier-uniform"
    HE_NORMAL = "he-normal"
    HE_UNIFORM = "he-uniform"
    XAVIER_FOR_TANH = "xavier-for-tanh"
    HE_FOR_RELU = "he-for-relu"
    KERAS_NAMES = "keras-names"
    CONCLUSION = "conclusion"
    ZERO_BIAS = "zero-bias"
    DEPTH_STUDY = "depth-study"
    ZERO_SIGMOID_MOONS = "zero-sigmoid-moons"
    FRAMEWORK_DEFAULTS = "framework-defaults"

    @classmethod
    def all(cls) -> tuple[str, ...]:
        return tuple(v for k, v in vars(cls).items() if k.isupper())

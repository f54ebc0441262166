"""Keras 3 route: every supported layer, converted, run by the C++ engine,
compared with Keras itself (torch backend)."""

import numpy as np
import pytest

from conftest import check_model

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from trignet_convert import convert_keras  # noqa: E402


def randomize(model, seed=7):
    """Random weights, including BatchNormalization statistics (variance > 0)."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        shape = tuple(w.shape)
        if "variance" in w.path:
            w.assign(rng.uniform(0.5, 2.0, shape).astype(np.float32))
        else:
            w.assign((rng.standard_normal(shape) * 0.4).astype(np.float32))
    return model


def keras_fn(model):
    def run(xs):
        ys = model(xs[0] if len(xs) == 1 else xs, training=False)
        ys = ys if isinstance(ys, (list, tuple)) else [ys]
        return [keras.ops.convert_to_numpy(y) for y in ys]
    return run


def single(shape, *lyrs):
    x = inp = keras.Input(shape, name="x")
    for lyr in lyrs:
        x = lyr(x)
    return keras.Model(inp, x)


def two(shape, merge, shape2=None):
    a = keras.Input(shape, name="a")
    b = keras.Input(shape2 or shape, name="b")
    return keras.Model([a, b], merge([layers.Dense(shape[-1])(a), b]))


ACTIVATIONS = ["linear", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "sigmoid", "hard_sigmoid", "tanh",
               "softmax", "softplus", "softsign", "silu", "swish", "exponential"]

CASES = {f"dense_{a}": lambda a=a: (single((8,), layers.Dense(6, activation=a)), [(8,)]) for a in ACTIVATIONS}
CASES.update({
    "dense_no_bias": lambda: (single((8,), layers.Dense(5, use_bias=False)), [(8,)]),
    "dense_on_sequence": lambda: (single((5, 4), layers.Dense(3, activation="tanh")), [(5, 4)]),
    "activation_layer": lambda: (single((8,), layers.Dense(6), layers.Activation("sigmoid")), [(8,)]),
    "relu_layer": lambda: (single((8,), layers.Dense(6), layers.ReLU()), [(8,)]),
    "relu_max6": lambda: (single((8,), layers.Dense(6), layers.ReLU(max_value=6.0)), [(8,)]),
    "relu_negative_slope": lambda: (single((8,), layers.Dense(6), layers.ReLU(negative_slope=0.1)), [(8,)]),
    "leaky_relu_layer": lambda: (single((8,), layers.Dense(6), layers.LeakyReLU(negative_slope=0.25)), [(8,)]),
    "elu_layer": lambda: (single((8,), layers.Dense(6), layers.ELU(alpha=0.7)), [(8,)]),
    "softmax_layer_axis1": lambda: (single((3, 4), layers.Softmax(axis=1)), [(3, 4)]),
    "softmax_layer_last": lambda: (single((3, 4), layers.Softmax()), [(3, 4)]),
    "batchnorm": lambda: (single((8,), layers.BatchNormalization()), [(8,)]),
    "batchnorm_axis1_rank2": lambda: (single((5, 4), layers.BatchNormalization(axis=1)), [(5, 4)]),
    "batchnorm_last_rank2": lambda: (single((5, 4), layers.BatchNormalization()), [(5, 4)]),
    "batchnorm_no_center_scale": lambda: (single((8,), layers.BatchNormalization(center=False, scale=False)),
                                          [(8,)]),
    "layernorm": lambda: (single((8,), layers.LayerNormalization()), [(8,)]),
    "layernorm_two_axes": lambda: (single((3, 4), layers.LayerNormalization(axis=[1, 2])), [(3, 4)]),
    "layernorm_no_center_scale": lambda: (single((3, 4), layers.LayerNormalization(center=False, scale=False)),
                                          [(3, 4)]),
    "flatten": lambda: (single((3, 4), layers.Flatten(), layers.Dense(5)), [(3, 4)]),
    "reshape": lambda: (single((12,), layers.Reshape((3, 4)), layers.Dense(2)), [(12,)]),
    "reshape_minus1": lambda: (single((12,), layers.Reshape((-1, 3))), [(12,)]),
    "permute": lambda: (single((3, 4), layers.Permute((2, 1)), layers.Dense(2)), [(3, 4)]),
    "permute_rank3": lambda: (single((2, 3, 4), layers.Permute((3, 1, 2))), [(2, 3, 4)]),
    "concatenate_last": lambda: (two((6,), layers.Concatenate(), (3,)), [(6,), (3,)]),
    "concatenate_axis1": lambda: (two((2, 4), layers.Concatenate(axis=1), (3, 4)), [(2, 4), (3, 4)]),
    "dropout": lambda: (single((8,), layers.Dense(6), layers.Dropout(0.5), layers.Dense(3)), [(8,)]),
    "gaussian_noise": lambda: (single((8,), layers.GaussianNoise(0.3), layers.Dense(3)), [(8,)]),
    "nested_sequential": lambda: (single((8,), keras.Sequential([layers.Dense(6, activation="relu"),
                                                                   layers.Dense(3)])), [(8,)]),
    "sequential_model": lambda: (keras.Sequential([keras.Input((8,)), layers.Dense(6, activation="elu"),
                                                   layers.BatchNormalization(), layers.Dense(2)]), [(8,)]),
})
for _m in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
    CASES[_m.lower()] = lambda m=_m: (two((6,), getattr(layers, m)()), [(6,), (6,)])


def _add_three():
    ins = [keras.Input((5,), name=n) for n in "abc"]
    return keras.Model(ins, layers.Add()(ins)), [(5,)] * 3


CASES["add_three_inputs"] = _add_three


@pytest.mark.parametrize("case", sorted(CASES))
def test_keras_layer(case, cli, tmp_path):
    model, shapes = CASES[case]()
    randomize(model)
    path = tmp_path / "model.json"
    convert_keras(model, path)
    check_model(cli, "keras", case, path, keras_fn(model), shapes, tmp_path)

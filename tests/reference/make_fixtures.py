#!/usr/bin/env python3
"""Write the layer fixtures and the jet-tagger model from the numpy reference.

    python tests/reference/make_fixtures.py           # (re)write all files
    python tests/reference/make_fixtures.py --check   # verify the files on disk
    python tests/reference/make_fixtures.py --list    # print the case names

Outputs:
  tests/data/layers/<case>.json  one small complete model per case, each with
                                 two test vectors (batch 1 and batch 3)
  models/jet_tagger.json         the hls4ml jet tagger with random weights

Everything is deterministic: each case draws from its own generator seeded by
a CRC32 of the case name (so adding a case never changes another), and the
"created" date is fixed.  Re-running produces byte-identical files on the same
numpy build (float64 exp/tanh may differ in the last bit between numpy builds,
which would change a 17th digit, never a test outcome).

--check reloads every file with a strict JSON parser, re-validates it with the
reference, re-evaluates each test vector and requires bit-identical expected
outputs, requires weights and inputs to be float32 values, requires the files
to equal what this script would write now, and runs a float32 emulation of
each model to show that the tolerances leave room for a float32 engine.
"""

import argparse
import json
import sys
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import trignet_reference as ref  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LAYERS_DIR = ROOT / "tests" / "data" / "layers"
JET_TAGGER_PATH = ROOT / "models" / "jet_tagger.json"

GENERATOR = "tests/reference/make_fixtures.py"
CREATED = "2026-11-28"  # fixed so that the output is reproducible
LAYER_TOLERANCE = {"abs": 1e-6, "rel": 1e-5}
JET_TOLERANCE = {"abs": 1e-6, "rel": 1e-4}
LAYER_BATCHES = (1, 3)
JET_BATCHES = (1, 4, 16)
JET_TAGGER_SEED = 20261128

# --check fails if a float32 emulation of a model uses more than this fraction
# of the allowed error |y - e| <= abs + rel * |e| anywhere.  A real float32
# engine sums in another order and uses other exp/tanh implementations, so the
# fixtures must not be close to the limit even for the emulation.
FLOAT32_MARGIN = 0.25

# --------------------------------------------------------------------------
# Small builders
# --------------------------------------------------------------------------


def model(name, description, inputs, outputs, nodes):
    return {
        "format": "trignet",
        "format_version": 1,
        "name": name,
        "metadata": {"generator": GENERATOR, "created": CREATED, "description": description},
        "inputs": inputs,
        "outputs": outputs,
        "nodes": nodes,
    }


def inp(name, shape, **extra):
    return {"name": name, "shape": list(shape), **extra}


def out(name, node, shape=None):
    o = {"name": name, "node": node}
    if shape is not None:
        o["shape"] = list(shape)
    return o


def node(name, kind, inputs, config=None, weights=None):
    n = {"name": name, "type": kind, "inputs": list(inputs)}
    if config is not None:
        n["config"] = config
    if weights:
        n["weights"] = {k: ref.weight(v) for k, v in weights.items()}
    return n


def dense(name, src, kernel, bias=None, activation=None):
    config = {"units": int(np.shape(kernel)[1])}
    if activation is not None:
        config["activation"] = activation
    weights = {"kernel": kernel}
    if bias is None:
        config["use_bias"] = False
    else:
        weights["bias"] = bias
    return node(name, "Dense", [src], config, weights)


def uniform(rng, shape, low, high):
    """Uniform values already rounded to float32."""
    return ref.f32(rng.uniform(low, high, size=shape))


def glorot(rng, n_in, n_out):
    limit = np.sqrt(6.0 / (n_in + n_out))
    return uniform(rng, (n_in, n_out), -limit, limit)


def dyadic(rng, shape, limit, denominator):
    """Random multiples of 1/denominator in [-limit, limit]: exact in float32,
    and sums of a few products of them are exact too (see activation cases)."""
    k = round(limit * denominator)
    return rng.integers(-k, k, endpoint=True, size=shape) / denominator


def uniform_inputs(shapes, low=-2.0, high=2.0):
    """Input generator: {name: shape} -> uniform float32 batches.

    Structural cases use [-2, 2]: results then stay O(1), so a float32 engine's
    rounding (about 1e-7 relative) stays well inside abs 1e-6 even where a
    result cancels to nearly zero."""
    def gen(rng, batch):
        return {n: uniform(rng, (batch, *s), low, high) for n, s in shapes.items()}
    return gen


CASES = {}  # case name -> builder(rng) -> (model dict, input generator)


def case(name):
    def register(fn):
        assert name not in CASES, name
        CASES[name] = fn
        return fn
    return register


# --------------------------------------------------------------------------
# Activation cases: x [3] -> Dense(units) with the activation.
#
# Inputs are multiples of 1/32 in [-4, 4], kernel entries multiples of 1/8 in
# [-1, 1], bias entries multiples of 1/32 in [-0.5, 0.5] (relu6: inputs in
# [-6, 6] and kernel in [-2, 2], to get past 6).  Every pre-activation is then
# a multiple of 1/256 below 64 in magnitude (at most 14 significant bits), so a
# float32 engine computes it exactly whatever its summation order: the test
# isolates the activation function itself.  The last sample of a batch is the
# negation of the one before it, so both signs are well covered, and
# build_case asserts that every branch (negative, positive, the clamps at
# +-2.5 / +-3 and at 6) is reached.
# --------------------------------------------------------------------------

ACTIVATION_IN = 3


def _activation_case(name, activation, units=8, input_limit=4.0, kernel_limit=1.0,
                     need=(-1.0, 1.0)):
    def build(rng):
        kernel = dyadic(rng, (ACTIVATION_IN, units), kernel_limit, 8)
        bias = dyadic(rng, (units,), 0.5, 32)
        m = model(
            name, f"x[{ACTIVATION_IN}] -> Dense {units} with activation {json.dumps(activation)}; "
            "pre-activations are exact in float32",
            [inp("x", [ACTIVATION_IN])],
            [out("y", "dense", [units])],
            [dense("dense", "x", kernel, bias, activation)],
        )

        def gen(rng, batch):
            x = dyadic(rng, (batch, ACTIVATION_IN), input_limit, 32)
            if batch >= 2:
                x[-1] = -x[-2]
            return {"x": x}
        return m, gen
    build.preactivation_range = need
    case(name)(build)


_activation_case("act_linear", "linear")
_activation_case("act_relu", "relu")
_activation_case("act_relu6", "relu6", input_limit=6.0, kernel_limit=2.0, need=(-1.0, 6.0))
_activation_case("act_leaky_relu", {"name": "leaky_relu", "alpha": 0.1})
_activation_case("act_elu", "elu")
_activation_case("act_elu_alpha_0p5", {"name": "elu", "alpha": 0.5})
_activation_case("act_selu", "selu")
_activation_case("act_gelu", "gelu")
_activation_case("act_gelu_approximate", {"name": "gelu", "approximate": True})
_activation_case("act_sigmoid", {"name": "sigmoid"})  # object form without parameters
_activation_case("act_hard_sigmoid_keras2", {"name": "hard_sigmoid", "slope": 0.2, "offset": 0.5},
                 need=(-2.5, 2.5))
_activation_case("act_hard_sigmoid_keras3", {"name": "hard_sigmoid", "slope": 1 / 6, "offset": 0.5},
                 need=(-3.0, 3.0))
_activation_case("act_tanh", "tanh")
_activation_case("act_softplus", "softplus")
_activation_case("act_softsign", "softsign")
_activation_case("act_silu", "silu")
_activation_case("act_swish", "swish")
_activation_case("act_exponential", "exponential")
# Softmax over several widths (1 and odd sizes catch vector-remainder bugs).
for _w in (1, 3, 7, 16, 17):
    _activation_case(f"act_softmax_w{_w}",
                     {"name": "softmax", "axis": -1} if _w == 7 else "softmax",
                     units=_w, need=None)


# --------------------------------------------------------------------------
# Activation node
# --------------------------------------------------------------------------

@case("activation_softmax_axis0")
def _(rng):
    return model("activation_softmax_axis0", "Activation softmax over axis 0 of a [4, 3] input",
                 [inp("x", [4, 3])], [out("y", "softmax", [4, 3])],
                 [node("softmax", "Activation", ["x"], {"activation": {"name": "softmax", "axis": 0}})],
                 ), uniform_inputs({"x": (4, 3)}, -4, 4)


@case("activation_softmax_axis1_rank3")
def _(rng):
    return model("activation_softmax_axis1_rank3",
                 "Activation softmax over the middle axis of a [2, 3, 4] input",
                 [inp("x", [2, 3, 4])], [out("y", "softmax", [2, 3, 4])],
                 [node("softmax", "Activation", ["x"], {"activation": {"name": "softmax", "axis": 1}})],
                 ), uniform_inputs({"x": (2, 3, 4)}, -4, 4)


# --------------------------------------------------------------------------
# Dense
# --------------------------------------------------------------------------

@case("dense_rank2")
def _(rng):
    return model("dense_rank2", "Dense 3 applied to the last axis of a [5, 4] input",
                 [inp("x", [5, 4])], [out("y", "dense", [5, 3])],
                 [dense("dense", "x", glorot(rng, 4, 3), uniform(rng, 3, -0.5, 0.5))],
                 ), uniform_inputs({"x": (5, 4)})


@case("dense_rank3")
def _(rng):
    return model("dense_rank3", "Dense 2 (tanh) applied to the last axis of a [2, 3, 4] input",
                 [inp("x", [2, 3, 4])], [out("y", "dense", [2, 3, 2])],
                 [dense("dense", "x", glorot(rng, 4, 2), uniform(rng, 2, -0.5, 0.5), "tanh")],
                 ), uniform_inputs({"x": (2, 3, 4)})


@case("dense_no_bias")
def _(rng):
    return model("dense_no_bias", "Dense 3 with use_bias false on a [4] input",
                 [inp("x", [4])], [out("y", "dense", [3])],
                 [dense("dense", "x", glorot(rng, 4, 3))],
                 ), uniform_inputs({"x": (4,)})


# --------------------------------------------------------------------------
# BatchNormalization
# --------------------------------------------------------------------------

def _bn_weights(rng, c, gamma=True, beta=True):
    w = {"moving_mean": uniform(rng, c, -1, 1), "moving_variance": uniform(rng, c, 0.25, 2.0)}
    if gamma:
        w["gamma"] = uniform(rng, c, 0.5, 1.5)
    if beta:
        w["beta"] = uniform(rng, c, -0.5, 0.5)
    return w


def _bn_case(name, description, shape, config, **which):
    @case(name)
    def _(rng):
        axis = config.get("axis", -1)
        return model(name, description, [inp("x", shape)], [out("y", "bn", shape)],
                     [node("bn", "BatchNormalization", ["x"], config,
                           _bn_weights(rng, shape[axis], **which))],
                     ), uniform_inputs({"x": tuple(shape)})


_bn_case("batchnorm_last_axis", "BatchNormalization axis -1 on [6] with gamma and beta",
         [6], {"axis": -1, "epsilon": 1e-3})
_bn_case("batchnorm_last_axis_no_gamma_beta",
         "BatchNormalization (default axis) on [6] without gamma and beta",
         [6], {"epsilon": 1e-3}, gamma=False, beta=False)
_bn_case("batchnorm_axis0", "BatchNormalization axis 0 (channels first) on [3, 4] with gamma and beta",
         [3, 4], {"axis": 0, "epsilon": 1e-5})
_bn_case("batchnorm_axis0_no_gamma_beta",
         "BatchNormalization axis 0 (channels first) on [3, 4] without gamma and beta",
         [3, 4], {"axis": 0, "epsilon": 1e-5}, gamma=False, beta=False)
_bn_case("batchnorm_gamma_only", "BatchNormalization axis 1 (positive, last) on [2, 5], gamma only",
         [2, 5], {"axis": 1, "epsilon": 1e-3}, beta=False)


# --------------------------------------------------------------------------
# LayerNormalization
# --------------------------------------------------------------------------

def _ln_case(name, description, shape, config, param_shape=None, gamma=True, beta=True):
    @case(name)
    def _(rng):
        w = {}
        if gamma:
            w["gamma"] = uniform(rng, param_shape, 0.5, 1.5)
        if beta:
            w["beta"] = uniform(rng, param_shape, -0.5, 0.5)
        return model(name, description, [inp("x", shape)], [out("y", "ln", shape)],
                     [node("ln", "LayerNormalization", ["x"], config, w)],
                     ), uniform_inputs({"x": tuple(shape)})


_ln_case("layernorm_last_axis", "LayerNormalization axis -1 on [8] with gamma and beta",
         [8], {"axis": -1, "epsilon": 1e-3}, [8])
_ln_case("layernorm_two_axes", "LayerNormalization axes [-2, -1] on [3, 4], gamma and beta [3, 4]",
         [3, 4], {"axis": [-2, -1], "epsilon": 1e-5}, [3, 4])
_ln_case("layernorm_no_gamma_beta", "LayerNormalization (default axis) on [8] without gamma and beta",
         [8], {"epsilon": 1e-3}, gamma=False, beta=False)
_ln_case("layernorm_rank2_last_axis", "LayerNormalization axis -1 on [3, 4]: each row on its own",
         [3, 4], {"axis": -1, "epsilon": 1e-5}, [4])
_ln_case("layernorm_positive_axes", "LayerNormalization axes [1, 2] on [2, 3, 4], gamma only",
         [2, 3, 4], {"axis": [1, 2], "epsilon": 1e-5}, [3, 4], beta=False)


# --------------------------------------------------------------------------
# Shape layers
# --------------------------------------------------------------------------

@case("flatten")
def _(rng):
    return model("flatten", "Flatten of [2, 3, 4]",
                 [inp("x", [2, 3, 4])], [out("y", "flatten", [24])],
                 [node("flatten", "Flatten", ["x"])],
                 ), uniform_inputs({"x": (2, 3, 4)})


@case("reshape")
def _(rng):
    return model("reshape", "Reshape [2, -1] of [6]",
                 [inp("x", [6])], [out("y", "reshape", [2, 3])],
                 [node("reshape", "Reshape", ["x"], {"shape": [2, -1]})],
                 ), uniform_inputs({"x": (6,)})


@case("permute_2d")
def _(rng):
    return model("permute_2d", "Permute [1, 0] of [3, 4]",
                 [inp("x", [3, 4])], [out("y", "permute", [4, 3])],
                 [node("permute", "Permute", ["x"], {"dims": [1, 0]})],
                 ), uniform_inputs({"x": (3, 4)})


@case("permute_3d_flatten")
def _(rng):
    return model("permute_3d_flatten", "Permute [2, 0, 1] of [2, 3, 4], then Flatten",
                 [inp("x", [2, 3, 4])], [out("y", "flatten", [24])],
                 [node("permute", "Permute", ["x"], {"dims": [2, 0, 1]}),
                  node("flatten", "Flatten", ["permute"])],
                 ), uniform_inputs({"x": (2, 3, 4)})


# --------------------------------------------------------------------------
# Concatenate and merges (several model inputs)
# --------------------------------------------------------------------------

@case("concatenate_last_axis")
def _(rng):
    return model("concatenate_last_axis", "Concatenate axis -1 of two [2, 3] inputs",
                 [inp("a", [2, 3]), inp("b", [2, 3])], [out("y", "concat", [2, 6])],
                 [node("concat", "Concatenate", ["a", "b"], {"axis": -1})],
                 ), uniform_inputs({"a": (2, 3), "b": (2, 3)})


@case("concatenate_axis0")
def _(rng):
    return model("concatenate_axis0", "Concatenate axis 0 of two [2, 3] inputs",
                 [inp("a", [2, 3]), inp("b", [2, 3])], [out("y", "concat", [4, 3])],
                 [node("concat", "Concatenate", ["a", "b"], {"axis": 0})],
                 ), uniform_inputs({"a": (2, 3), "b": (2, 3)})


@case("concatenate_three")
def _(rng):
    shapes = {"a": (2, 1), "b": (2, 3), "c": (2, 2)}
    return model("concatenate_three",
                 "Concatenate (default axis) of [2, 1], [2, 3] and [2, 2] inputs",
                 [inp(n, s) for n, s in shapes.items()], [out("y", "concat", [2, 6])],
                 [node("concat", "Concatenate", ["a", "b", "c"])],
                 ), uniform_inputs(shapes)


def _merge_case(name, kind, n_inputs):
    names = "abc"[:n_inputs]
    shapes = {n: (2, 3) for n in names}

    @case(name)
    def _(rng):
        return model(name, f"{kind} of {n_inputs} [2, 3] inputs",
                     [inp(n, s) for n, s in shapes.items()], [out("y", "merge", [2, 3])],
                     [node("merge", kind, list(names))],
                     ), uniform_inputs(shapes)


_merge_case("add_three", "Add", 3)
_merge_case("subtract", "Subtract", 2)
_merge_case("multiply", "Multiply", 2)
_merge_case("multiply_three", "Multiply", 3)
_merge_case("average", "Average", 3)
_merge_case("maximum", "Maximum", 2)
_merge_case("minimum", "Minimum", 3)


@case("dropout")
def _(rng):
    return model("dropout", "Dropout (identity at inference) between the input and a Dense",
                 [inp("x", [5])], [out("y", "dense", [3])],
                 [node("dropout", "Dropout", ["x"], {"rate": 0.5}),
                  dense("dense", "dropout", glorot(rng, 5, 3), uniform(rng, 3, -0.5, 0.5))],
                 ), uniform_inputs({"x": (5,)})


# --------------------------------------------------------------------------
# Input preprocessing.  NaN cannot appear in a JSON test vector, so
# nan_replacement is present (and must be accepted) but only exercised by the
# C++ tests.  All parameters are float32 values.
# --------------------------------------------------------------------------

@case("preprocessing_offset_scale")
def _(rng):
    prep = {"offset": ref.f32_list(uniform(rng, 4, -1, 1)),
            "scale": ref.f32_list(uniform(rng, 4, 0.25, 2)),
            "nan_replacement": ref.f32_list(uniform(rng, 4, -1, 1))}
    return model("preprocessing_offset_scale",
                 "input [4] with offset, scale and nan_replacement, then Dense 2",
                 [inp("x", [4], dtype="float32", preprocessing=prep)], [out("y", "dense", [2])],
                 [dense("dense", "x", glorot(rng, 4, 2), uniform(rng, 2, -0.5, 0.5))],
                 ), uniform_inputs({"x": (4,)})


@case("preprocessing_rank2_offset_only")
def _(rng):
    prep = {"offset": ref.f32_list(uniform(rng, 4, -1, 1))}
    return model("preprocessing_rank2_offset_only",
                 "input [3, 4] with offset only (same per-feature offset on every row), then Flatten",
                 [inp("x", [3, 4], preprocessing=prep)], [out("y", "flatten", [12])],
                 [node("flatten", "Flatten", ["x"])],
                 ), uniform_inputs({"x": (3, 4)})


@case("preprocessing_scale_only")
def _(rng):
    prep = {"scale": ref.f32_list(uniform(rng, 5, 0.25, 2))}
    return model("preprocessing_scale_only", "input [5] with scale only, then Dropout",
                 [inp("x", [5], preprocessing=prep)], [out("y", "dropout", [5])],
                 [node("dropout", "Dropout", ["x"])],
                 ), uniform_inputs({"x": (5,)})


# --------------------------------------------------------------------------
# Graphs
# --------------------------------------------------------------------------

@case("graph_two_inputs_two_outputs")
def _(rng):
    return model(
        "graph_two_inputs_two_outputs",
        "a[4] -> Dense 3 relu, b[3] -> Dense 2 tanh, concatenate -> Dense 4 sigmoid; "
        "outputs: the final Dense and the intermediate concatenation",
        [inp("a", [4]), inp("b", [3])],
        [out("out", "dense_out", [4]), out("hidden", "concat")],  # second without shape
        [dense("dense_a", "a", glorot(rng, 4, 3), uniform(rng, 3, -0.5, 0.5), "relu"),
         dense("dense_b", "b", glorot(rng, 3, 2), uniform(rng, 2, -0.5, 0.5), "tanh"),
         node("concat", "Concatenate", ["dense_a", "dense_b"]),
         dense("dense_out", "concat", glorot(rng, 5, 4), uniform(rng, 4, -0.5, 0.5), "sigmoid")],
    ), uniform_inputs({"a": (4,), "b": (3,)})


@case("graph_unordered_nodes")
def _(rng):
    d1 = dense("d1", "x", glorot(rng, 4, 4), uniform(rng, 4, -0.5, 0.5), "relu")
    d2 = dense("d2", "d1", glorot(rng, 4, 4), uniform(rng, 4, -0.5, 0.5), "tanh")
    add = node("add", "Add", ["d1", "d2"])
    d3 = dense("d3", "add", glorot(rng, 4, 2), uniform(rng, 2, -0.5, 0.5))
    return model("graph_unordered_nodes",
                 "x[4] -> d1 -> d2, add(d1, d2) -> d3, nodes listed in reverse order",
                 [inp("x", [4])], [out("y", "d3", [2])],
                 [d3, add, d2, d1],
                 ), uniform_inputs({"x": (4,)})


@case("graph_unused_node")
def _(rng):
    return model("graph_unused_node",
                 "x[4] -> d1 -> output; unused_a (from x) and unused_b (from d1) feed no output",
                 [inp("x", [4])], [out("y", "d1", [3])],
                 [dense("d1", "x", glorot(rng, 4, 3), uniform(rng, 3, -0.5, 0.5), "relu"),
                  dense("unused_a", "x", glorot(rng, 4, 2), uniform(rng, 2, -0.5, 0.5)),
                  dense("unused_b", "d1", glorot(rng, 3, 2), uniform(rng, 2, -0.5, 0.5), "softmax")],
                 ), uniform_inputs({"x": (4,)})


# --------------------------------------------------------------------------
# Building, the jet tagger, checking
# --------------------------------------------------------------------------

def case_seed(name):
    return zlib.crc32(name.encode("utf-8"))


def build_case(name):
    build = CASES[name]
    rng = np.random.default_rng(case_seed(name))
    m, gen = build(rng)
    reference = ref.ReferenceModel(m)
    m["test_vectors"] = [ref.make_test_vector(reference, gen(rng, b), LAYER_TOLERANCE)
                         for b in LAYER_BATCHES]
    need = getattr(build, "preactivation_range", None)
    if need is not None:
        _assert_preactivation_range(name, m, need)
    return m


def _assert_preactivation_range(name, m, need):
    """The activation cases must reach every branch: at least two
    pre-activations below need[0] and two above need[1], and a spread beyond
    [-3, 3] (computed with the activation replaced by linear)."""
    linear = json.loads(json.dumps(m))  # deep copy as plain floats
    linear["nodes"][0]["config"]["activation"] = "linear"
    del linear["test_vectors"]
    z = np.concatenate([ref.ReferenceModel(linear).evaluate(ref.test_vector_arrays(tv)[0])["y"].ravel()
                        for tv in m["test_vectors"]])
    if not (np.sum(z < need[0]) >= 2 and np.sum(z > need[1]) >= 2
            and z.min() < -3 and z.max() > 3):
        raise AssertionError(f"{name}: pre-activations span [{z.min()}, {z.max()}], need {need}")


JET_FEATURES = [
    "j_zlogz", "j_c1_b0_mmdt", "j_c1_b1_mmdt", "j_c1_b2_mmdt", "j_c2_b1_mmdt", "j_c2_b2_mmdt",
    "j_d2_b1_mmdt", "j_d2_b2_mmdt", "j_d2_a1_b1_mmdt", "j_d2_a1_b2_mmdt", "j_m2_b1_mmdt",
    "j_m2_b2_mmdt", "j_n2_b1_mmdt", "j_n2_b2_mmdt", "j_mass_mmdt", "j_multiplicity",
]
JET_LABELS = ["g", "q", "W", "Z", "t"]


def build_jet_tagger():
    rng = np.random.default_rng(JET_TAGGER_SEED)
    sizes = [16, 64, 32, 32, 5]
    activations = ["relu", "relu", "relu", "softmax"]
    nodes, src = [], "features"
    for i, (n_in, n_out, act) in enumerate(zip(sizes, sizes[1:], activations), start=1):
        nodes.append(dense(f"dense_{i}", src, glorot(rng, n_in, n_out),
                           uniform(rng, n_out, -0.1, 0.1), act))
        src = f"dense_{i}"
    m = {
        "format": "trignet",
        "format_version": 1,
        "name": "hls4ml_jet_tagger",
        "metadata": {
            "framework": "numpy",
            "generator": GENERATOR,
            "weights": f"random (untrained), seed {JET_TAGGER_SEED}: Glorot-uniform kernels, "
                       "biases uniform in [-0.1, 0.1]",
            "architecture": "hls4ml jet-tagging benchmark: 16 -> Dense 64 relu -> Dense 32 relu "
                            "-> Dense 32 relu -> Dense 5 softmax",
            "created": CREATED,
        },
        "inputs": [inp("features", [16], dtype="float32", variables=JET_FEATURES)],
        "outputs": [{"name": "probabilities", "node": src, "shape": [5], "labels": JET_LABELS}],
        "nodes": nodes,
    }
    reference = ref.ReferenceModel(m)
    # Inputs look like standardised features: standard normal.
    m["test_vectors"] = [
        ref.make_test_vector(reference, {"features": rng.standard_normal((b, 16))}, JET_TOLERANCE)
        for b in JET_BATCHES]
    return m


def all_files():
    """(path, builder) for every file this script writes."""
    files = [(LAYERS_DIR / f"{name}.json", (lambda n=name: build_case(n))) for name in CASES]
    files.append((JET_TAGGER_PATH, build_jet_tagger))
    return files


def write_all():
    LAYERS_DIR.mkdir(parents=True, exist_ok=True)
    JET_TAGGER_PATH.parent.mkdir(parents=True, exist_ok=True)
    for path, build in all_files():
        path.write_text(ref.dumps(build()), encoding="utf-8")
    print(f"wrote {len(CASES)} layer cases to {LAYERS_DIR.relative_to(ROOT)} and "
          f"{JET_TAGGER_PATH.relative_to(ROOT)}")


def _weights_and_inputs_are_float32(m):
    values = []
    for n in m["nodes"]:
        for w in n.get("weights", {}).values():
            values.extend(w["data"])
    for i in m["inputs"]:
        for arr in i.get("preprocessing", {}).values():
            values.extend(arr)
    for tv in m.get("test_vectors", []):
        for v in tv["inputs"].values():
            values.extend(np.asarray(v, dtype=np.float64).ravel())
    # A float32 written with 9 digits does not parse to the float32 itself;
    # it must be exactly the 9-digit spelling of the float32 it rounds to.
    v = np.asarray(values, dtype=np.float64)
    respelled = [float(format(float(x), ".9g")) for x in v.astype(np.float32)]
    return np.array_equal(v, np.asarray(respelled))


def check_file(path, build):
    """Verify one written file; returns the float32-emulation error ratio."""
    text = path.read_text(encoding="utf-8")
    if text != ref.dumps(build()):
        raise AssertionError(f"{path}: differs from what the generator writes now")
    raw = json.loads(text, parse_constant=ref.reject_json_constant)
    model = ref.ReferenceModel(raw)
    if not _weights_and_inputs_are_float32(raw):
        raise AssertionError(f"{path}: a weight or input is not a float32 value")
    worst = 0.0
    for k, tv in enumerate(raw["test_vectors"]):
        inputs, expected, tol = ref.test_vector_arrays(tv)
        if set(expected) != {o for o, _ in model.outputs}:
            raise AssertionError(f"{path}: test_vectors[{k}] lacks outputs")
        got = model.evaluate(inputs)
        got32 = model.evaluate(inputs, dtype=np.float32)
        for name, e in expected.items():
            # The 17-digit text must round-trip the float64 result exactly.
            if got[name].shape != e.shape or not np.array_equal(got[name], e):
                raise AssertionError(f"{path}: test_vectors[{k}].outputs.{name} does not "
                                     f"round-trip: max diff {np.max(np.abs(got[name] - e))}")
            err = np.abs(got32[name].astype(np.float64) - e) / (tol["abs"] + tol["rel"] * np.abs(e))
            worst = max(worst, float(err.max()))
    if worst > FLOAT32_MARGIN:
        raise AssertionError(f"{path}: float32 emulation uses {worst:.2f} of the tolerance")
    return worst


def check_all():
    failures = 0
    for path, build in all_files():
        try:
            worst = check_file(path, build)
            print(f"ok    {path.relative_to(ROOT)}  (float32 emulation: {worst:.3f} of tolerance)")
        except (AssertionError, OSError, ValueError) as e:
            failures += 1
            print(f"FAIL  {e}")
    print(f"{len(CASES) + 1 - failures} ok, {failures} failed")
    return failures == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify the files instead of writing")
    parser.add_argument("--list", action="store_true", help="print the case names")
    args = parser.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    if args.check:
        return 0 if check_all() else 1
    write_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
# fixtures must not be close to the limit even for the emulation.  The
# emulation runs twice, with long sums (Dense, convolution, recurrent and
# attention products, pooling) in index order and in reverse order.
#
# Every case, including the recurrent and attention ones, keeps the default
# LAYER_TOLERANCE: with the small sizes below (sums of at most ~20 terms,
# 5-6 time steps of contracting recurrences, T <= 5 attention) the worst case
# over both orders is 0.19 of it (separable2d_stride2_same_no_bias: an output
# that cancels to near zero, where abs = 1e-6 is the binding term).  A looser
# per-file tolerance would not help anyway: tests/test_layers.cpp measures the
# float engine against abs 1e-6, rel 1e-5 for every fixture.
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
# Checks that a case really exercises what it claims to (masks, go_backwards,
# padding rules ...).  CHECKS[case] holds functions check(model, test_vectors)
# run by build_case; each raises AssertionError when the case is vacuous.
# --------------------------------------------------------------------------

CHECKS = {}


def check(name, fn):
    CHECKS.setdefault(name, []).append(fn)


def _plain(m):
    """Deep copy of a model dict as plain JSON values, without test vectors."""
    m = json.loads(json.dumps({k: v for k, v in m.items() if k != "test_vectors"}))
    return m


def must_differ(name, what, mutate):
    """mutate(model, inputs) changes a copy of the model and/or its inputs; the
    outputs must then differ from the expected ones by more than 1e-3."""
    def fn(m, tvs):
        diff = 0.0
        for tv in tvs:
            inputs, expected, _ = ref.test_vector_arrays(tv)
            mm = _plain(m)
            mutate(mm, inputs)
            got = ref.ReferenceModel(mm).evaluate(inputs)
            for k, e in expected.items():
                if got[k].shape != e.shape:
                    diff = np.inf
                else:
                    diff = max(diff, float(np.max(np.abs(got[k] - e))))
        if not diff > 1e-3:
            raise AssertionError(f"{name}: {what} does not change the result (max diff {diff})")
    check(name, fn)


def not_saturated(name):
    """Recurrent outputs must stay away from the +-1 limits of tanh/sigmoid."""
    def fn(m, tvs):
        y = np.concatenate([np.abs(np.asarray(v, dtype=np.float64)).ravel()
                            for tv in tvs for v in tv["outputs"].values()])
        if not (np.mean(y > 0.95) < 0.1 and y.max() > 0.1):
            raise AssertionError(f"{name}: outputs saturated or vanishing "
                                 f"(mean |y| {y.mean():.3f}, max {y.max():.3f})")
    check(name, fn)


def varies_over_time(name):
    """A returned sequence must change from step to step (axis 0 of the sample)."""
    def fn(m, tvs):
        for tv in tvs:
            for v in tv["outputs"].values():
                y = np.asarray(v, dtype=np.float64)
                if not np.max(np.abs(np.diff(y, axis=1))) > 1e-2:
                    raise AssertionError(f"{name}: the sequence is (nearly) constant over time")
    check(name, fn)


def _node_of(m, name):
    return next(n for n in m["nodes"] if n["name"] == name)


def _set_config(node_name, key, value):
    def mutate(m, inputs):
        _node_of(m, node_name).setdefault("config", {})[key] = value
    return mutate


def _linear_activation(node_name):
    return _set_config(node_name, "activation", "linear")


# --------------------------------------------------------------------------
# Convolution, pooling and resampling layers.
#
# Every case is one node on one input in [-2, 2] with a hand-computed output
# shape (the reference must infer the same).  Kernels are uniform in
# +-sqrt(3 / fan_in), so outputs stay O(1); sums have at most a few dozen
# terms, and a float32 engine stays within a few 1e-7 of the exact result,
# well inside the default layer tolerance (abs 1e-6, rel 1e-5).
# --------------------------------------------------------------------------

def scaled(rng, shape, fan_in):
    limit = float(np.sqrt(3.0 / fan_in))
    return uniform(rng, shape, -limit, limit)


def spatial_case(name, description, kind, in_shape, config, out_shape, weights=None,
                 gen=None):
    """weights(rng) -> {name: array} or None."""
    @case(name)
    def _(rng):
        w = weights(rng) if weights is not None else None
        return model(name, description, [inp("x", in_shape)], [out("y", "layer", out_shape)],
                     [node("layer", kind, ["x"], config, w)],
                     ), gen or uniform_inputs({"x": tuple(in_shape)})


def _channels(in_shape, config):
    return in_shape[0] if config.get("data_format") == "channels_first" else in_shape[-1]


def conv_case(name, description, kind, in_shape, config, out_shape):
    cin = _channels(in_shape, config)
    k = config["kernel_size"]
    groups = config.get("groups", 1)

    def weights(rng):
        f = config["filters"]
        w = {"kernel": scaled(rng, (*k, cin // groups, f), int(np.prod(k)) * cin // groups)}
        if config.get("use_bias", True):
            w["bias"] = uniform(rng, f, -0.5, 0.5)
        return w
    spatial_case(name, description, kind, in_shape, config, out_shape, weights)


def depthwise_case(name, description, kind, in_shape, config, out_shape):
    cin = _channels(in_shape, config)
    k = config["kernel_size"]
    dm = config.get("depth_multiplier", 1)

    def weights(rng):
        w = {"kernel": scaled(rng, (*k, cin, dm), int(np.prod(k)))}
        if config.get("use_bias", True):
            w["bias"] = uniform(rng, cin * dm, -0.5, 0.5)
        return w
    spatial_case(name, description, kind, in_shape, config, out_shape, weights)


def separable_case(name, description, kind, in_shape, config, out_shape):
    cin = _channels(in_shape, config)
    k = config["kernel_size"]
    dm = config.get("depth_multiplier", 1)

    def weights(rng):
        f = config["filters"]
        w = {"depthwise_kernel": scaled(rng, (*k, cin, dm), int(np.prod(k))),
             "pointwise_kernel": scaled(rng, (*[1] * len(k), cin * dm, f), cin * dm)}
        if config.get("use_bias", True):
            w["bias"] = uniform(rng, f, -0.5, 0.5)
        return w
    spatial_case(name, description, kind, in_shape, config, out_shape, weights)


def transpose_case(name, description, kind, in_shape, config, out_shape):
    cin = _channels(in_shape, config)
    k = config["kernel_size"]

    def weights(rng):
        f = config["filters"]
        w = {"kernel": scaled(rng, (*k, f, cin), int(np.prod(k)) * cin)}
        if config.get("use_bias", True):
            w["bias"] = uniform(rng, f, -0.5, 0.5)
        return w
    spatial_case(name, description, kind, in_shape, config, out_shape, weights)


# Conv1D / Conv2D.  Channels-last [L, C] / [H, W, C] unless stated.
conv_case("conv1d_valid", "Conv1D 4 filters, kernel 3, valid, on [8, 3]",
          "Conv1D", [8, 3], {"filters": 4, "kernel_size": [3]}, [6, 4])
conv_case("conv1d_same", "Conv1D kernel 3 same on [7, 3]: padding (1, 1)",
          "Conv1D", [7, 3], {"filters": 4, "kernel_size": [3], "padding": "same"}, [7, 4])
conv_case("conv1d_same_stride2_even_kernel",
          "Conv1D kernel 4, stride 2, same on [9, 2]: output ceil(9/2) = 5, padding (1, 2)",
          "Conv1D", [9, 2], {"filters": 3, "kernel_size": [4], "strides": [2], "padding": "same"},
          [5, 3])
conv_case("conv1d_explicit_padding", "Conv1D kernel 3 with explicit padding [[2, 1]] on [6, 2]",
          "Conv1D", [6, 2], {"filters": 3, "kernel_size": [3], "padding": [[2, 1]]}, [7, 3])
conv_case("conv1d_dilation_same",
          "Conv1D kernel 3, dilation 2 (effective kernel 5), same on [8, 2]: padding (2, 2)",
          "Conv1D", [8, 2], {"filters": 3, "kernel_size": [3], "dilation_rate": [2],
                             "padding": "same"}, [8, 3])
conv_case("conv1d_dilation_stride",
          "Conv1D kernel 3, dilation 2 and stride 2 together (PyTorch allows it), valid, on [10, 2]",
          "Conv1D", [10, 2], {"filters": 3, "kernel_size": [3], "dilation_rate": [2],
                              "strides": [2]}, [3, 3])
conv_case("conv1d_groups", "Conv1D 6 filters, groups 2, kernel 3 on [6, 4]",
          "Conv1D", [6, 4], {"filters": 6, "kernel_size": [3], "groups": 2}, [4, 6])
conv_case("conv1d_no_bias", "Conv1D kernel 2 with use_bias false on [6, 3]",
          "Conv1D", [6, 3], {"filters": 2, "kernel_size": [2], "use_bias": False}, [5, 2])
conv_case("conv1d_activation", "Conv1D kernel 3, same, relu, on [6, 3]",
          "Conv1D", [6, 3], {"filters": 4, "kernel_size": [3], "padding": "same",
                             "activation": "relu"}, [6, 4])
must_differ("conv1d_activation", "the relu", _linear_activation("layer"))
conv_case("conv1d_channels_first",
          "Conv1D channels_first [C=3, L=8], kernel 3, stride 2, padding [[1, 1]] (PyTorch "
          "padding=1) -> [5, 4]",
          "Conv1D", [3, 8], {"filters": 5, "kernel_size": [3], "strides": [2],
                             "padding": [[1, 1]], "data_format": "channels_first"}, [5, 4])
conv_case("conv2d_valid", "Conv2D 3 filters, kernel 3x3, valid, on [5, 5, 2]",
          "Conv2D", [5, 5, 2], {"filters": 3, "kernel_size": [3, 3]}, [3, 3, 3])
conv_case("conv2d_same", "Conv2D kernel 3x2 same on [4, 5, 2]: padding (1, 1) and (0, 1)",
          "Conv2D", [4, 5, 2], {"filters": 2, "kernel_size": [3, 2], "padding": "same"},
          [4, 5, 2])
conv_case("conv2d_stride2_same_even_kernel",
          "Conv2D kernel 4x2, stride 2, same on [7, 5, 2]: output [4, 3], padding (1, 2) and (0, 1)",
          "Conv2D", [7, 5, 2], {"filters": 2, "kernel_size": [4, 2], "strides": [2, 2],
                                "padding": "same"}, [4, 3, 2])
conv_case("conv2d_explicit_padding", "Conv2D kernel 3x3, padding [[1, 0], [2, 1]] on [4, 5, 2]",
          "Conv2D", [4, 5, 2], {"filters": 2, "kernel_size": [3, 3],
                                "padding": [[1, 0], [2, 1]]}, [3, 6, 2])
conv_case("conv2d_dilation", "Conv2D kernel 2x3, dilation [2, 1], valid, on [5, 5, 2]",
          "Conv2D", [5, 5, 2], {"filters": 2, "kernel_size": [2, 3], "dilation_rate": [2, 1]},
          [3, 3, 2])
conv_case("conv2d_dilation_same",
          "Conv2D kernel 3x3, dilation [2, 2], same, on [5, 4, 2]: padding (2, 2) and (2, 2)",
          "Conv2D", [5, 4, 2], {"filters": 2, "kernel_size": [3, 3], "dilation_rate": [2, 2],
                                "padding": "same"}, [5, 4, 2])
conv_case("conv2d_stride_dilation",
          "Conv2D kernel 3x2, strides [2, 1], dilation [1, 2], padding [[1, 1], [0, 0]] on [7, 5, 2]",
          "Conv2D", [7, 5, 2], {"filters": 2, "kernel_size": [3, 2], "strides": [2, 1],
                                "dilation_rate": [1, 2], "padding": [[1, 1], [0, 0]]}, [4, 3, 2])
conv_case("conv2d_groups",
          "Conv2D 3 filters, groups 3 (2 input channels and 1 filter each), kernel 2x2 on [3, 3, 6]",
          "Conv2D", [3, 3, 6], {"filters": 3, "kernel_size": [2, 2], "groups": 3}, [2, 2, 3])
conv_case("conv2d_no_bias", "Conv2D kernel 3x3, same, use_bias false, on [4, 4, 2]",
          "Conv2D", [4, 4, 2], {"filters": 2, "kernel_size": [3, 3], "padding": "same",
                                "use_bias": False}, [4, 4, 2])
conv_case("conv2d_activation", "Conv2D kernel 3x3, valid, relu, on [5, 5, 2]",
          "Conv2D", [5, 5, 2], {"filters": 3, "kernel_size": [3, 3], "activation": "relu"},
          [3, 3, 3])
must_differ("conv2d_activation", "the relu", _linear_activation("layer"))
conv_case("conv2d_channels_first",
          "Conv2D channels_first [C=2, 5, 5], kernel 3x3, stride 2, padding [[1, 1], [1, 1]] -> [4, 3, 3]",
          "Conv2D", [2, 5, 5], {"filters": 4, "kernel_size": [3, 3], "strides": [2, 2],
                                "padding": [[1, 1], [1, 1]], "data_format": "channels_first"},
          [4, 3, 3])
conv_case("conv2d_channels_first_groups_same",
          "Conv2D channels_first [C=4, 4, 3], 2 filters, groups 2, kernel 3x3, same, tanh",
          "Conv2D", [4, 4, 3], {"filters": 2, "kernel_size": [3, 3], "groups": 2,
                                "padding": "same", "activation": "tanh",
                                "data_format": "channels_first"}, [2, 4, 3])

# DepthwiseConv1D / 2D
depthwise_case("depthwise1d", "DepthwiseConv1D kernel 3, valid, on [8, 3]",
               "DepthwiseConv1D", [8, 3], {"kernel_size": [3]}, [6, 3])
depthwise_case("depthwise1d_dm2_stride2_same",
               "DepthwiseConv1D kernel 2, depth_multiplier 2, stride 2, same on [7, 2]: padding (0, 1)",
               "DepthwiseConv1D", [7, 2], {"kernel_size": [2], "depth_multiplier": 2,
                                           "strides": [2], "padding": "same"}, [4, 4])
depthwise_case("depthwise1d_channels_first",
               "DepthwiseConv1D channels_first [C=3, 8], kernel 3, dilation 2, padding [[2, 2]]",
               "DepthwiseConv1D", [3, 8], {"kernel_size": [3], "dilation_rate": [2],
                                           "padding": [[2, 2]], "data_format": "channels_first"},
               [3, 8])
depthwise_case("depthwise2d", "DepthwiseConv2D kernel 3x3, depth_multiplier 2, valid, relu, on [5, 5, 2]",
               "DepthwiseConv2D", [5, 5, 2], {"kernel_size": [3, 3], "depth_multiplier": 2,
                                              "activation": "relu"}, [3, 3, 4])
must_differ("depthwise2d", "the relu", _linear_activation("layer"))
depthwise_case("depthwise2d_stride2_same",
               "DepthwiseConv2D kernel 3x3, stride 2, same, on [6, 5, 2]: padding (0, 1) and (1, 1)",
               "DepthwiseConv2D", [6, 5, 2], {"kernel_size": [3, 3], "strides": [2, 2],
                                              "padding": "same"}, [3, 3, 2])
depthwise_case("depthwise2d_dilation_no_bias",
               "DepthwiseConv2D kernel 2x2, dilation [2, 2], use_bias false, on [5, 5, 2]",
               "DepthwiseConv2D", [5, 5, 2], {"kernel_size": [2, 2], "dilation_rate": [2, 2],
                                              "use_bias": False}, [3, 3, 2])
depthwise_case("depthwise2d_channels_first",
               "DepthwiseConv2D channels_first [C=2, 4, 3], kernel 3x2, depth_multiplier 2, "
               "padding [[1, 1], [0, 1]]",
               "DepthwiseConv2D", [2, 4, 3], {"kernel_size": [3, 2], "depth_multiplier": 2,
                                              "padding": [[1, 1], [0, 1]],
                                              "data_format": "channels_first"}, [4, 4, 3])

# SeparableConv1D / 2D
separable_case("separable1d", "SeparableConv1D 4 filters, kernel 3, depth_multiplier 2, same, relu, on [8, 3]",
               "SeparableConv1D", [8, 3], {"filters": 4, "kernel_size": [3], "depth_multiplier": 2,
                                           "padding": "same", "activation": "relu"}, [8, 4])
must_differ("separable1d", "the relu", _linear_activation("layer"))
separable_case("separable1d_channels_first_stride",
               "SeparableConv1D channels_first [C=2, 9], 3 filters, kernel 3, stride 2, valid",
               "SeparableConv1D", [2, 9], {"filters": 3, "kernel_size": [3], "strides": [2],
                                           "data_format": "channels_first"}, [3, 4])
separable_case("separable2d", "SeparableConv2D 3 filters, kernel 3x3, valid, on [5, 5, 2]",
               "SeparableConv2D", [5, 5, 2], {"filters": 3, "kernel_size": [3, 3]}, [3, 3, 3])
separable_case("separable2d_stride2_same_no_bias",
               "SeparableConv2D 3 filters, kernel 3x3, stride 2, same, depth_multiplier 2, "
               "use_bias false, on [5, 6, 2]: padding (1, 1) and (0, 1)",
               "SeparableConv2D", [5, 6, 2], {"filters": 3, "kernel_size": [3, 3], "strides": [2, 2],
                                              "padding": "same", "depth_multiplier": 2,
                                              "use_bias": False}, [3, 3, 3])
separable_case("separable2d_dilation_channels_first",
               "SeparableConv2D channels_first [C=2, 5, 5], 2 filters, kernel 2x2, dilation [2, 1], tanh",
               "SeparableConv2D", [2, 5, 5], {"filters": 2, "kernel_size": [2, 2],
                                              "dilation_rate": [2, 1], "activation": "tanh",
                                              "data_format": "channels_first"}, [2, 3, 4])

# Conv1DTranspose / Conv2DTranspose
transpose_case("convtranspose1d_valid", "Conv1DTranspose kernel 3, stride 1, valid on [4, 3]: length 6",
               "Conv1DTranspose", [4, 3], {"filters": 2, "kernel_size": [3]}, [6, 2])
transpose_case("convtranspose1d_stride2",
               "Conv1DTranspose kernel 3, stride 2, valid on [4, 2]: length (4-1)*2 + 3 = 9",
               "Conv1DTranspose", [4, 2], {"filters": 3, "kernel_size": [3], "strides": [2]}, [9, 3])
transpose_case("convtranspose1d_stride2_same_even_kernel",
               "Conv1DTranspose kernel 4, stride 2, same on [4, 2]: padding (1, 1), length 8",
               "Conv1DTranspose", [4, 2], {"filters": 3, "kernel_size": [4], "strides": [2],
                                           "padding": "same"}, [8, 3])
transpose_case("convtranspose1d_stride2_same_odd_kernel",
               "Conv1DTranspose kernel 3, stride 2, same on [4, 2]: padding (0, 1), length 8",
               "Conv1DTranspose", [4, 2], {"filters": 3, "kernel_size": [3], "strides": [2],
                                           "padding": "same"}, [8, 3])
transpose_case("convtranspose1d_output_padding",
               "Conv1DTranspose kernel 3, stride 2, padding [[1, 1]], output_padding [1] "
               "(PyTorch padding=1, output_padding=1) on [4, 2]: length 8",
               "Conv1DTranspose", [4, 2], {"filters": 2, "kernel_size": [3], "strides": [2],
                                           "padding": [[1, 1]], "output_padding": [1]}, [8, 2])
transpose_case("convtranspose1d_dilation",
               "Conv1DTranspose kernel 3, dilation 2, valid on [4, 2]: length 3 + 5 = 8",
               "Conv1DTranspose", [4, 2], {"filters": 2, "kernel_size": [3], "dilation_rate": [2]},
               [8, 2])
transpose_case("convtranspose1d_channels_first",
               "Conv1DTranspose channels_first [C=3, 4], kernel 2, stride 2: [2, 8]",
               "Conv1DTranspose", [3, 4], {"filters": 2, "kernel_size": [2], "strides": [2],
                                           "data_format": "channels_first"}, [2, 8])
transpose_case("convtranspose2d_valid", "Conv2DTranspose kernel 2x3, stride 1, valid on [3, 3, 2]",
               "Conv2DTranspose", [3, 3, 2], {"filters": 2, "kernel_size": [2, 3]}, [4, 5, 2])
transpose_case("convtranspose2d_stride2_same",
               "Conv2DTranspose kernel 3x3, stride 2, same on [2, 3, 2]: padding (0, 1) and (0, 1), [4, 6, 2]",
               "Conv2DTranspose", [2, 3, 2], {"filters": 2, "kernel_size": [3, 3], "strides": [2, 2],
                                              "padding": "same"}, [4, 6, 2])
transpose_case("convtranspose2d_explicit_output_padding",
               "Conv2DTranspose kernel 3x4, strides [2, 3], padding [[1, 1], [2, 0]], output_padding "
               "[1, 2] on [2, 2, 2]: [4, 7, 2]; the last two columns only get the bias",
               "Conv2DTranspose", [2, 2, 2], {"filters": 2, "kernel_size": [3, 4], "strides": [2, 3],
                                              "padding": [[1, 1], [2, 0]], "output_padding": [1, 2]},
               [4, 7, 2])
transpose_case("convtranspose2d_channels_first",
               "Conv2DTranspose channels_first [C=2, 2, 3], kernel 2x2, stride 2, relu: [2, 4, 6]",
               "Conv2DTranspose", [2, 2, 3], {"filters": 2, "kernel_size": [2, 2], "strides": [2, 2],
                                              "activation": "relu", "data_format": "channels_first"},
               [2, 4, 6])
must_differ("convtranspose2d_channels_first", "the relu", _linear_activation("layer"))
transpose_case("convtranspose2d_dilation_no_bias",
               "Conv2DTranspose kernel 2x2, dilation [2, 1], strides [1, 2], use_bias false on [3, 3, 2]",
               "Conv2DTranspose", [3, 3, 2], {"filters": 2, "kernel_size": [2, 2],
                                              "dilation_rate": [2, 1], "strides": [1, 2],
                                              "use_bias": False}, [5, 6, 2])


# Pooling
def pool_case(name, description, kind, in_shape, config, out_shape):
    spatial_case(name, description, kind, in_shape, config, out_shape)
    if kind.startswith("Average") and config.get("padding", "valid") != "valid":
        must_differ(name, "count_include_pad",
                    _set_config("layer", "count_include_pad",
                                not config.get("count_include_pad", False)))


def _max_pool_zero_padded(pads):
    """Variant where padded cells are zeros that can win the maximum."""
    def mutate(m, inputs):
        layer = _node_of(m, "layer")
        cfg = layer["config"]
        pad_cfg = {"padding": pads}
        if "data_format" in cfg:
            pad_cfg["data_format"] = cfg["data_format"]
        cfg["padding"] = "valid"
        kind = layer["type"].replace("MaxPooling", "ZeroPadding")
        layer["inputs"] = ["zero_padded"]
        m["nodes"].insert(0, {"name": "zero_padded", "type": kind, "inputs": ["x"],
                              "config": pad_cfg})
    return mutate


pool_case("pool_max1d_valid", "MaxPooling1D pool 2 on [8, 3]",
          "MaxPooling1D", [8, 3], {"pool_size": [2]}, [4, 3])
pool_case("pool_max1d_same_stride",
          "MaxPooling1D pool 3, stride 2, same on [8, 2]: padding (0, 1), padded cells never win",
          "MaxPooling1D", [8, 2], {"pool_size": [3], "strides": [2], "padding": "same"}, [4, 2])
must_differ("pool_max1d_same_stride", "ignoring padded cells", _max_pool_zero_padded([[0, 1]]))
pool_case("pool_max1d_explicit_channels_first",
          "MaxPooling1D channels_first [C=2, 7], pool 3, stride 2, padding [[1, 1]]",
          "MaxPooling1D", [2, 7], {"pool_size": [3], "strides": [2], "padding": [[1, 1]],
                                   "data_format": "channels_first"}, [2, 4])
must_differ("pool_max1d_explicit_channels_first", "ignoring padded cells",
            _max_pool_zero_padded([[1, 1]]))
pool_case("pool_avg1d_valid_strides", "AveragePooling1D pool 3, stride 2, valid on [9, 2]",
          "AveragePooling1D", [9, 2], {"pool_size": [3], "strides": [2]}, [4, 2])
pool_case("pool_avg1d_same_exclude_pad",
          "AveragePooling1D pool 3, stride 1, same on [7, 2], padded cells left out of the mean",
          "AveragePooling1D", [7, 2], {"pool_size": [3], "strides": [1], "padding": "same"}, [7, 2])
pool_case("pool_avg1d_same_include_pad",
          "AveragePooling1D pool 3, stride 1, same, count_include_pad true on [7, 2]",
          "AveragePooling1D", [7, 2], {"pool_size": [3], "strides": [1], "padding": "same",
                                       "count_include_pad": True}, [7, 2])
pool_case("pool_max2d_valid", "MaxPooling2D pool 2x2 on [5, 5, 2] (last row and column dropped)",
          "MaxPooling2D", [5, 5, 2], {"pool_size": [2, 2]}, [2, 2, 2])
pool_case("pool_max2d_same_strides",
          "MaxPooling2D pool 3x3, strides [2, 1], same on [5, 6, 2]: padding (1, 1) and (1, 1)",
          "MaxPooling2D", [5, 6, 2], {"pool_size": [3, 3], "strides": [2, 1], "padding": "same"},
          [3, 6, 2])
must_differ("pool_max2d_same_strides", "ignoring padded cells",
            _max_pool_zero_padded([[1, 1], [1, 1]]))
pool_case("pool_max2d_explicit_channels_first",
          "MaxPooling2D channels_first [C=2, 4, 5], pool 2x2, padding [[1, 1], [1, 0]]",
          "MaxPooling2D", [2, 4, 5], {"pool_size": [2, 2], "padding": [[1, 1], [1, 0]],
                                      "data_format": "channels_first"}, [2, 3, 3])
must_differ("pool_max2d_explicit_channels_first", "ignoring padded cells",
            _max_pool_zero_padded([[1, 1], [1, 0]]))
pool_case("pool_avg2d_valid_strides", "AveragePooling2D pool 3x2, strides [1, 2] on [5, 6, 2]",
          "AveragePooling2D", [5, 6, 2], {"pool_size": [3, 2], "strides": [1, 2]}, [3, 3, 2])
pool_case("pool_avg2d_same_exclude_pad",
          "AveragePooling2D pool 2x3, stride 2, same on [5, 5, 2]: padding (0, 1) and (1, 1)",
          "AveragePooling2D", [5, 5, 2], {"pool_size": [2, 3], "strides": [2, 2], "padding": "same"},
          [3, 3, 2])
pool_case("pool_avg2d_same_include_pad",
          "AveragePooling2D pool 2x3, stride 2, same, count_include_pad true on [5, 5, 2]",
          "AveragePooling2D", [5, 5, 2], {"pool_size": [2, 3], "strides": [2, 2], "padding": "same",
                                          "count_include_pad": True}, [3, 3, 2])
pool_case("pool_avg2d_explicit_include_pad_channels_first",
          "AveragePooling2D channels_first [C=2, 5, 5], pool 3x3, stride 2, padding [[1, 1], [1, 1]], "
          "count_include_pad true (PyTorch AvgPool2d(3, 2, 1))",
          "AveragePooling2D", [2, 5, 5], {"pool_size": [3, 3], "strides": [2, 2],
                                          "padding": [[1, 1], [1, 1]], "count_include_pad": True,
                                          "data_format": "channels_first"}, [2, 3, 3])
pool_case("pool_avg2d_explicit_exclude_pad",
          "AveragePooling2D pool 2x2, padding [[1, 0], [0, 1]] on [5, 5, 2], padded cells left out",
          "AveragePooling2D", [5, 5, 2], {"pool_size": [2, 2], "padding": [[1, 0], [0, 1]]},
          [3, 3, 2])

# Global pooling
spatial_case("globalpool_max1d", "GlobalMaxPooling1D on [6, 3]",
             "GlobalMaxPooling1D", [6, 3], {}, [3])
spatial_case("globalpool_avg1d_keepdims", "GlobalAveragePooling1D keepdims on [6, 3]",
             "GlobalAveragePooling1D", [6, 3], {"keepdims": True}, [1, 3])
spatial_case("globalpool_avg1d_channels_first", "GlobalAveragePooling1D channels_first on [3, 6]",
             "GlobalAveragePooling1D", [3, 6], {"data_format": "channels_first"}, [3])
spatial_case("globalpool_max2d", "GlobalMaxPooling2D on [4, 4, 2]",
             "GlobalMaxPooling2D", [4, 4, 2], {"keepdims": False}, [2])
spatial_case("globalpool_max2d_keepdims_channels_first",
             "GlobalMaxPooling2D channels_first keepdims on [3, 4, 4]: [3, 1, 1]",
             "GlobalMaxPooling2D", [3, 4, 4], {"data_format": "channels_first", "keepdims": True},
             [3, 1, 1])
spatial_case("globalpool_avg2d", "GlobalAveragePooling2D on [4, 5, 3]",
             "GlobalAveragePooling2D", [4, 5, 3], None, [3])
spatial_case("globalpool_avg2d_keepdims", "GlobalAveragePooling2D keepdims on [4, 5, 3]",
             "GlobalAveragePooling2D", [4, 5, 3], {"keepdims": True}, [1, 1, 3])
spatial_case("globalpool_avg2d_channels_first", "GlobalAveragePooling2D channels_first on [3, 4, 5]",
             "GlobalAveragePooling2D", [3, 4, 5], {"data_format": "channels_first"}, [3])

# Resampling and padding
spatial_case("upsampling1d", "UpSampling1D size 2 on [4, 3]",
             "UpSampling1D", [4, 3], {"size": [2]}, [8, 3])
spatial_case("upsampling1d_channels_first", "UpSampling1D size 3 channels_first on [2, 4]",
             "UpSampling1D", [2, 4], {"size": [3], "data_format": "channels_first"}, [2, 12])
spatial_case("upsampling2d", "UpSampling2D size [2, 3] on [3, 2, 2]",
             "UpSampling2D", [3, 2, 2], {"size": [2, 3]}, [6, 6, 2])
spatial_case("upsampling2d_channels_first", "UpSampling2D size [2, 1] channels_first on [2, 3, 2]",
             "UpSampling2D", [2, 3, 2], {"size": [2, 1], "data_format": "channels_first"}, [2, 6, 2])
spatial_case("zeropadding1d", "ZeroPadding1D [[1, 2]] on [4, 3]",
             "ZeroPadding1D", [4, 3], {"padding": [[1, 2]]}, [7, 3])
spatial_case("zeropadding2d", "ZeroPadding2D [[1, 0], [2, 1]] on [3, 3, 2]",
             "ZeroPadding2D", [3, 3, 2], {"padding": [[1, 0], [2, 1]]}, [4, 6, 2])
spatial_case("zeropadding2d_channels_first", "ZeroPadding2D [[0, 1], [1, 1]] channels_first on [2, 3, 3]",
             "ZeroPadding2D", [2, 3, 3], {"padding": [[0, 1], [1, 1]],
                                          "data_format": "channels_first"}, [2, 4, 5])
spatial_case("cropping1d", "Cropping1D [[1, 2]] on [6, 3]",
             "Cropping1D", [6, 3], {"cropping": [[1, 2]]}, [3, 3])
spatial_case("cropping2d", "Cropping2D [[0, 1], [2, 1]] on [5, 5, 2]",
             "Cropping2D", [5, 5, 2], {"cropping": [[0, 1], [2, 1]]}, [4, 2, 2])
spatial_case("cropping2d_channels_first", "Cropping2D [[1, 1], [0, 2]] channels_first on [2, 5, 4]",
             "Cropping2D", [2, 5, 4], {"cropping": [[1, 1], [0, 2]],
                                       "data_format": "channels_first"}, [2, 3, 2])


@case("conv2d_pool_stack")
def _(rng):
    """A small CNN: ZeroPadding -> Conv2D relu -> MaxPooling -> Conv2D -> GlobalAveragePooling -> Dense."""
    return model(
        "conv2d_pool_stack",
        "x [6, 6, 2] -> ZeroPadding2D 1 -> Conv2D 3x3x4 relu -> MaxPooling2D 2 -> Conv2D 2x2x3 "
        "-> GlobalAveragePooling2D -> Dense 2 softmax",
        [inp("x", [6, 6, 2])], [out("y", "dense", [2])],
        [node("pad", "ZeroPadding2D", ["x"], {"padding": [[1, 1], [1, 1]]}),
         node("conv1", "Conv2D", ["pad"], {"filters": 4, "kernel_size": [3, 3], "activation": "relu"},
              {"kernel": scaled(rng, (3, 3, 2, 4), 18), "bias": uniform(rng, 4, -0.5, 0.5)}),
         node("pool", "MaxPooling2D", ["conv1"], {"pool_size": [2, 2]}),
         node("conv2", "Conv2D", ["pool"], {"filters": 3, "kernel_size": [2, 2]},
              {"kernel": scaled(rng, (2, 2, 4, 3), 16), "bias": uniform(rng, 3, -0.5, 0.5)}),
         node("gap", "GlobalAveragePooling2D", ["conv2"]),
         dense("dense", "gap", glorot(rng, 3, 2), uniform(rng, 2, -0.5, 0.5), "softmax")],
    ), uniform_inputs({"x": (6, 6, 2)})


# --------------------------------------------------------------------------
# Recurrent layers.  Input [T=5, F=3] in [-2, 2], 4 units; kernels,
# recurrent kernels and biases uniform in +-0.5: the states stay well
# inside (-1, 1) (not_saturated checks it), so every step matters.  A float32
# engine's rounding (a few 1e-7 per step) does not grow through these
# contracting recurrences; the float32 emulation stays far inside the default
# layer tolerance, so no looser tolerance is needed.
# --------------------------------------------------------------------------

RNN_T, RNN_F, RNN_UNITS = 5, 3, 4


def recurrent_weights(rng, kind, f, u, use_bias=True, reset_after=True):
    g = ref.RECURRENT_GATES[kind]
    w = {"kernel": uniform(rng, (f, g * u), -0.5, 0.5),
         "recurrent_kernel": uniform(rng, (u, g * u), -0.5, 0.5)}
    if use_bias:
        w["bias"] = uniform(rng, (2, 3 * u) if kind == "GRU" and reset_after else (g * u,),
                            -0.5, 0.5)
    return w


def recurrent_node(rng, name, kind, src, f, u, **config):
    w = recurrent_weights(rng, kind, f, u, config.get("use_bias", True),
                          config.get("reset_after", True))
    return node(name, kind, [src], {"units": u, **config}, w)


def recurrent_case(name, description, kind, **config):
    sequences = config.get("return_sequences", False)
    out_shape = [RNN_T, RNN_UNITS] if sequences else [RNN_UNITS]

    @case(name)
    def _(rng):
        return model(name, f"{kind} on [{RNN_T}, {RNN_F}]: {description}",
                     [inp("x", [RNN_T, RNN_F])], [out("y", "rnn", out_shape)],
                     [recurrent_node(rng, "rnn", kind, "x", RNN_F, RNN_UNITS, **config)],
                     ), uniform_inputs({"x": (RNN_T, RNN_F)})
    if config.get("activation") != "relu":  # relu is unbounded: nothing to saturate
        not_saturated(name)
    if config.get("go_backwards"):
        must_differ(name, "go_backwards", _set_config("rnn", "go_backwards", False))
    if sequences:
        varies_over_time(name)


recurrent_case("rnn_simple", "4 units, last state", "SimpleRNN")
recurrent_case("rnn_simple_sequences", "return_sequences", "SimpleRNN", return_sequences=True)
recurrent_case("rnn_simple_go_backwards", "go_backwards, last state", "SimpleRNN",
               go_backwards=True)
recurrent_case("rnn_simple_go_backwards_sequences", "go_backwards and return_sequences "
               "(sequence in processing order)", "SimpleRNN", go_backwards=True,
               return_sequences=True)
recurrent_case("rnn_simple_relu_no_bias", "relu activation, use_bias false, return_sequences",
               "SimpleRNN", activation="relu", use_bias=False, return_sequences=True)
recurrent_case("gru_reset_after", "reset_after true (default), last state", "GRU")
recurrent_case("gru_reset_after_false", "reset_after false, last state", "GRU",
               reset_after=False)
recurrent_case("gru_sequences", "reset_after true, return_sequences", "GRU",
               return_sequences=True, reset_after=True)
recurrent_case("gru_go_backwards", "go_backwards, last state", "GRU", go_backwards=True)
recurrent_case("gru_go_backwards_sequences", "go_backwards and return_sequences", "GRU",
               go_backwards=True, return_sequences=True)
recurrent_case("gru_reset_after_false_go_backwards_sequences",
               "reset_after false, go_backwards and return_sequences", "GRU",
               reset_after=False, go_backwards=True, return_sequences=True)
recurrent_case("gru_no_bias", "use_bias false, reset_after true, return_sequences", "GRU",
               use_bias=False, return_sequences=True)
recurrent_case("gru_reset_after_false_no_bias", "use_bias false, reset_after false", "GRU",
               use_bias=False, reset_after=False)
recurrent_case("gru_activations", "activation softsign, recurrent_activation hard_sigmoid "
               "(Keras 2), return_sequences", "GRU", activation="softsign",
               recurrent_activation={"name": "hard_sigmoid", "slope": 0.2, "offset": 0.5},
               return_sequences=True)
recurrent_case("lstm", "4 units, last state", "LSTM")
recurrent_case("lstm_sequences", "return_sequences", "LSTM", return_sequences=True)
recurrent_case("lstm_go_backwards", "go_backwards, last state", "LSTM", go_backwards=True)
recurrent_case("lstm_go_backwards_sequences", "go_backwards and return_sequences", "LSTM",
               go_backwards=True, return_sequences=True)
recurrent_case("lstm_no_bias", "use_bias false, return_sequences", "LSTM", use_bias=False,
               return_sequences=True)
recurrent_case("lstm_activations", "activation softsign, recurrent_activation hard_sigmoid "
               "(Keras 3 slope), return_sequences", "LSTM", activation="softsign",
               recurrent_activation={"name": "hard_sigmoid", "slope": 1 / 6, "offset": 0.5},
               return_sequences=True)
must_differ("gru_reset_after", "reset_after (with the two biases summed)",
            lambda m, inputs: _gru_to_reset_before(_node_of(m, "rnn")))
must_differ("lstm_activations", "the activations",
            _set_config("rnn", "recurrent_activation", "sigmoid"))


def _gru_to_reset_before(n):
    n["config"]["reset_after"] = False
    b = n["weights"]["bias"]
    data = np.asarray(b["data"], dtype=np.float64).reshape(2, -1)
    b["shape"] = [data.shape[1]]
    b["data"] = [float(v) for v in ref.f32(data[0] + data[1])]


def bidirectional_case(name, description, kind, merge, sequences, **config):
    u = RNN_UNITS
    width = 2 * u if merge == "Concatenate" else u
    out_shape = [RNN_T, width] if sequences else [width]

    @case(name)
    def _(rng):
        nodes = [recurrent_node(rng, "forward", kind, "x", RNN_F, u,
                                return_sequences=sequences, **config),
                 recurrent_node(rng, "backward", kind, "x", RNN_F, u,
                                return_sequences=sequences, go_backwards=True, **config)]
        backward = "backward"
        if sequences:
            nodes.append(node("reverse", "Reverse", ["backward"], {"axis": 0}))
            backward = "reverse"
        nodes.append(node("merge", merge, ["forward", backward]))
        return model(name, f"Keras Bidirectional({kind}) on [{RNN_T}, {RNN_F}] as forward + "
                     f"go_backwards{' + Reverse' if sequences else ''} + {merge}: {description}",
                     [inp("x", [RNN_T, RNN_F])], [out("y", "merge", out_shape)], nodes,
                     ), uniform_inputs({"x": (RNN_T, RNN_F)})
    must_differ(name, "go_backwards of the backward layer",
                _set_config("backward", "go_backwards", False))
    if sequences:
        def skip_reverse(m, inputs):
            _node_of(m, "merge")["inputs"] = ["forward", "backward"]
        must_differ(name, "the Reverse", skip_reverse)


bidirectional_case("bidirectional_lstm_concat_sequences", "sequences concatenated", "LSTM",
                   "Concatenate", True)
bidirectional_case("bidirectional_lstm_concat", "last states concatenated", "LSTM",
                   "Concatenate", False)
bidirectional_case("bidirectional_gru_add", "last states added", "GRU", "Add", False)
bidirectional_case("bidirectional_gru_multiply_sequences", "reset_after false, sequences multiplied",
                   "GRU", "Multiply", True, reset_after=False)
bidirectional_case("bidirectional_rnn_average_sequences", "sequences averaged", "SimpleRNN",
                   "Average", True)


@case("rnn_stacked")
def _(rng):
    return model(
        "rnn_stacked",
        "x [6, 3] -> LSTM 4 (sequences) -> GRU 3 (sequences, reset_after false) -> "
        "SimpleRNN 3 (last state) -> Dense 2",
        [inp("x", [6, 3])], [out("y", "dense", [2])],
        [recurrent_node(rng, "lstm", "LSTM", "x", 3, 4, return_sequences=True),
         recurrent_node(rng, "gru", "GRU", "lstm", 4, 3, return_sequences=True, reset_after=False),
         recurrent_node(rng, "rnn", "SimpleRNN", "gru", 3, 3),
         dense("dense", "rnn", glorot(rng, 3, 2), uniform(rng, 2, -0.5, 0.5))],
    ), uniform_inputs({"x": (6, 3)})


def reverse_case(name, description, shape, config, out_shape=None):
    spatial_case(name, description, "Reverse", shape, config, out_shape or shape)


reverse_case("reverse_axis0", "Reverse (default axis 0) of [4, 3]", [4, 3], None)
reverse_case("reverse_axis1", "Reverse axis 1 of [3, 4]", [3, 4], {"axis": 1})
reverse_case("reverse_negative_axis", "Reverse axis -2 of [2, 3, 4]", [2, 3, 4], {"axis": -2})


# --------------------------------------------------------------------------
# Embedding with int32 inputs.  Indices are written as integer tokens; every
# case uses index 0 and input_dim - 1 (the generator forces them into the
# first sample) so both ends of the table are read.
# --------------------------------------------------------------------------

def index_inputs(shapes, input_dim, floats=None):
    """{name: shape} int32 index inputs (plus float inputs in [-2, 2])."""
    def gen(rng, batch):
        result = {}
        for n, s in shapes.items():
            idx = rng.integers(0, input_dim, size=(batch, *s))
            flat = idx.reshape(batch, -1)
            flat[0, 0], flat[0, -1] = 0, input_dim - 1
            result[n] = flat.reshape(idx.shape).astype(np.float64)
        for n, s in (floats or {}).items():
            result[n] = uniform(rng, (batch, *s), -2, 2)
        return result
    return gen


@case("embedding_1d")
def _(rng):
    return model("embedding_1d", "int32 ids [5] -> Embedding(7, 3)",
                 [inp("ids", [5], dtype="int32")], [out("y", "embedding", [5, 3])],
                 [node("embedding", "Embedding", ["ids"], {"input_dim": 7, "output_dim": 3},
                       {"embeddings": uniform(rng, (7, 3), -1, 1)})],
                 ), index_inputs({"ids": (5,)}, 7)


@case("embedding_2d")
def _(rng):
    return model("embedding_2d", "int32 ids [2, 3] -> Embedding(5, 2): output [2, 3, 2]",
                 [inp("ids", [2, 3], dtype="int32")], [out("y", "embedding", [2, 3, 2])],
                 [node("embedding", "Embedding", ["ids"], {"input_dim": 5, "output_dim": 2},
                       {"embeddings": uniform(rng, (5, 2), -1, 1)})],
                 ), index_inputs({"ids": (2, 3)}, 5)


@case("embedding_flatten_dense")
def _(rng):
    return model("embedding_flatten_dense",
                 "int32 ids [3] -> Embedding(4, 2) -> Flatten -> Dense 2 tanh",
                 [inp("ids", [3], dtype="int32")], [out("y", "dense", [2])],
                 [node("embedding", "Embedding", ["ids"], {"input_dim": 4, "output_dim": 2},
                       {"embeddings": uniform(rng, (4, 2), -1, 1)}),
                  node("flatten", "Flatten", ["embedding"]),
                  dense("dense", "flatten", glorot(rng, 6, 2), uniform(rng, 2, -0.5, 0.5), "tanh")],
                 ), index_inputs({"ids": (3,)}, 4)


@case("embedding_with_features")
def _(rng):
    return model("embedding_with_features",
                 "particle-type ids [4] (int32) -> Embedding(6, 3), concatenated with float "
                 "features [4, 2] -> GRU 3 (last state)",
                 [inp("features", [4, 2]), inp("ids", [4], dtype="int32")],
                 [out("y", "gru", [3])],
                 [node("embedding", "Embedding", ["ids"], {"input_dim": 6, "output_dim": 3},
                       {"embeddings": uniform(rng, (6, 3), -1, 1)}),
                  node("concat", "Concatenate", ["embedding", "features"]),
                  recurrent_node(rng, "gru", "GRU", "concat", 5, 3)],
                 ), index_inputs({"ids": (4,)}, 6, floats={"features": (4, 2)})


# --------------------------------------------------------------------------
# MultiHeadAttention.  Kernels uniform in +-sqrt(3 / fan_in) (so Q, K, V are
# O(1) and softmax is neither flat nor one-hot), biases in +-0.5.  Masks
# are 0/1 float inputs with at least one attended key per query row (a fully
# masked row is left out: see the note on MASK_ADDER in the reference).
# The sums are short (key_dim <= 4, T <= 5) and softmax is well conditioned,
# so the float32 emulation stays far inside the default layer tolerance.
# --------------------------------------------------------------------------

def attention_weights(rng, d_q, d_k, d_v, heads, key_dim, value_dim, d_out, use_bias=True):
    w = {"query_kernel": scaled(rng, (d_q, heads, key_dim), d_q),
         "key_kernel": scaled(rng, (d_k, heads, key_dim), d_k),
         "value_kernel": scaled(rng, (d_v, heads, value_dim), d_v),
         "output_kernel": scaled(rng, (heads, value_dim, d_out), heads * value_dim)}
    if use_bias:
        w.update(query_bias=uniform(rng, (heads, key_dim), -0.5, 0.5),
                 key_bias=uniform(rng, (heads, key_dim), -0.5, 0.5),
                 value_bias=uniform(rng, (heads, value_dim), -0.5, 0.5),
                 output_bias=uniform(rng, d_out, -0.5, 0.5))
    return w


def mask_inputs(shapes, mask_name, t_q, t_v, causal=False):
    def gen(rng, batch):
        result = {n: uniform(rng, (batch, *s), -2, 2) for n, s in shapes.items()}
        mask = (rng.uniform(size=(batch, t_q, t_v)) < 0.6).astype(np.float64)
        for b in range(batch):
            for i in range(t_q):
                reach = i + 1 if causal else t_v
                if not mask[b, i, :reach].any():
                    mask[b, i, rng.integers(0, reach)] = 1.0
        result[mask_name] = mask
        return result
    return gen


def attention_case(name, description, q_shape, v_shape=None, k_shape=None, heads=2, key_dim=3,
                   value_dim=None, d_out=None, use_bias=True, use_mask=False, causal=False):
    self_attention = v_shape is None
    v_shape = v_shape or q_shape
    d_out = d_out or q_shape[1]
    config = {"num_heads": heads, "key_dim": key_dim}
    if value_dim is not None:
        config["value_dim"] = value_dim
    if not use_bias:
        config["use_bias"] = False
    if use_mask:
        config["use_mask"] = True
    if causal:
        config["causal"] = True

    @case(name)
    def _(rng):
        shapes = {"query": q_shape}
        if self_attention:
            srcs = ["query", "query"]
        else:
            shapes["value"] = v_shape
            srcs = ["query", "value"]
            if k_shape is not None:
                shapes["key"] = k_shape
                srcs.append("key")
        model_inputs = [inp(n, s) for n, s in shapes.items()]
        if use_mask:
            model_inputs.append(inp("mask", [q_shape[0], v_shape[0]]))
            srcs.append("mask")
            gen = mask_inputs(shapes, "mask", q_shape[0], v_shape[0], causal)
        else:
            gen = uniform_inputs(shapes)
        w = attention_weights(rng, q_shape[1], (k_shape or v_shape)[1], v_shape[1], heads,
                              key_dim, value_dim or key_dim, d_out, use_bias)
        return model(name, description, model_inputs, [out("y", "mha", [q_shape[0], d_out])],
                     [node("mha", "MultiHeadAttention", srcs, config, w)]), gen
    if use_mask:
        def unmask(m, inputs):
            inputs["mask"] = np.ones_like(inputs["mask"])
        must_differ(name, "the mask", unmask)
    if causal:
        must_differ(name, "causal", _set_config("mha", "causal", False))


attention_case("mha_self", "self-attention [4, 4] (inputs [x, x]), 2 heads, key_dim 3", [4, 4])
attention_case("mha_single_head", "self-attention [4, 4], 1 head, key_dim 4", [4, 4], heads=1,
               key_dim=4)
attention_case("mha_cross", "query [3, 4] attends to value [5, 6] (key = value)", [3, 4], [5, 6])
attention_case("mha_cross_key", "query [3, 4], value [5, 6], key [5, 2]", [3, 4], [5, 6], [5, 2])
attention_case("mha_mask", "self-attention [4, 4] with a [4, 4] mask input (use_mask)", [4, 4],
               use_mask=True)
attention_case("mha_cross_key_mask", "query [3, 4], value [5, 6], key [5, 2] and a [3, 5] mask",
               [3, 4], [5, 6], [5, 2], use_mask=True)
attention_case("mha_causal", "causal self-attention [5, 4]", [5, 4], causal=True)
attention_case("mha_causal_mask", "causal self-attention [4, 4] with a mask as well", [4, 4],
               causal=True, use_mask=True)
attention_case("mha_no_bias", "cross-attention query [3, 4], value [5, 6], use_bias false",
               [3, 4], [5, 6], use_bias=False)
attention_case("mha_value_dim", "query [3, 4], value [4, 5]: key_dim 3, value_dim 2, "
               "output width 5 (from output_kernel) != query width 4", [3, 4], [4, 5],
               value_dim=2, d_out=5)


@case("transformer_encoder")
def _(rng):
    d, t, ff = 4, 5, 8
    return model(
        "transformer_encoder",
        "x [5, 4] -> MultiHeadAttention(2 heads, key_dim 2, self) -> Add(x) -> LayerNormalization "
        "-> Dense 8 relu -> Dense 4 -> Add -> LayerNormalization",
        [inp("x", [t, d])], [out("y", "ln2", [t, d])],
        [node("mha", "MultiHeadAttention", ["x", "x"], {"num_heads": 2, "key_dim": 2},
              attention_weights(rng, d, d, d, 2, 2, 2, d)),
         node("add1", "Add", ["x", "mha"]),
         node("ln1", "LayerNormalization", ["add1"], {"epsilon": 1e-6},
              {"gamma": uniform(rng, d, 0.5, 1.5), "beta": uniform(rng, d, -0.5, 0.5)}),
         dense("ff1", "ln1", glorot(rng, d, ff), uniform(rng, ff, -0.5, 0.5), "relu"),
         dense("ff2", "ff1", glorot(rng, ff, d), uniform(rng, d, -0.5, 0.5)),
         node("add2", "Add", ["ln1", "ff2"]),
         node("ln2", "LayerNormalization", ["add2"], {"epsilon": 1e-6},
              {"gamma": uniform(rng, d, 0.5, 1.5), "beta": uniform(rng, d, -0.5, 0.5)})],
    ), uniform_inputs({"x": (t, d)})


# --------------------------------------------------------------------------
# Building, the jet tagger, checking
# --------------------------------------------------------------------------

def _checks_name_cases():
    unknown = set(CHECKS) - set(CASES)
    assert not unknown, f"checks for unknown cases {sorted(unknown)}"


_checks_name_cases()


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
    for fn in CHECKS.get(name, ()):
        fn(m, m["test_vectors"])
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
        # float32 emulation with long sums in index order and in reverse order:
        # two summation orders a float32 engine might use.
        got32 = [model.evaluate(inputs, dtype=np.float32)]
        try:
            ref.SUM_ORDER = -1
            got32.append(model.evaluate(inputs, dtype=np.float32))
        finally:
            ref.SUM_ORDER = 1
        for name, e in expected.items():
            # The 17-digit text must round-trip the float64 result exactly.
            if got[name].shape != e.shape or not np.array_equal(got[name], e):
                raise AssertionError(f"{path}: test_vectors[{k}].outputs.{name} does not "
                                     f"round-trip: max diff {np.max(np.abs(got[name] - e))}")
            for g in got32:
                err = np.abs(g[name].astype(np.float64) - e) / (tol["abs"] + tol["rel"] * np.abs(e))
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

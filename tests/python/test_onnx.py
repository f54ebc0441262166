"""ONNX route: every supported op in a model built with onnx.helper, plus
models exported from PyTorch by torch.onnx.export; compared with onnxruntime."""

import numpy as np
import pytest

from conftest import check_model

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from trignet_convert import convert_onnx  # noqa: E402

RNG = np.random.default_rng(3)


def W(name, *shape, positive=False):
    a = RNG.uniform(0.5, 2.0, shape) if positive else RNG.standard_normal(shape) * 0.4
    return numpy_helper.from_array(a.astype(np.float32), name)


def I64(name, values):
    return numpy_helper.from_array(np.asarray(values, np.int64), name)


def F1(name, v):
    return numpy_helper.from_array(np.asarray(v, np.float32), name)


def build(nodes, inputs, outputs, inits=(), opset=18):
    g = helper.make_graph(nodes, "g",
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", *s]) for n, s in inputs],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
                          list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    # give the outputs the types that shape inference finds (the checker wants them)
    inferred = {v.name: v for v in onnx.shape_inference.infer_shapes(m).graph.output}
    for o in m.graph.output:
        if o.name in inferred:
            o.type.CopyFrom(inferred[o.name].type)
    return m, [s for _, s in inputs]


def act(op_type, **attrs):
    """Gemm(8 -> 6) then the op."""
    return build([helper.make_node("Gemm", ["x", "w", "b"], ["h"], transB=1),
                  helper.make_node(op_type, ["h"], ["y"], **attrs)],
                 [("x", (8,))], ["y"], [W("w", 6, 8), W("b", 6)], opset=20 if op_type == "Gelu" else 18)


def binary(op_type, n=2):
    names = [f"x{i}" for i in range(n)]
    return build([helper.make_node(op_type, names, ["y"])], [(k, (6,)) for k in names], ["y"])


CASES = {
    "gemm": lambda: build([helper.make_node("Gemm", ["x", "w", "b"], ["y"], alpha=0.5, beta=2.0)],
                          [("x", (8,))], ["y"], [W("w", 8, 6), W("b", 6)]),
    "gemm_transB": lambda: act("Identity"),
    "matmul_add": lambda: build([helper.make_node("MatMul", ["x", "w"], ["h"]),
                                 helper.make_node("Add", ["h", "b"], ["y"])],
                                [("x", (5, 8))], ["y"], [W("w", 8, 6), W("b", 6)]),
    "relu": lambda: act("Relu"), "sigmoid": lambda: act("Sigmoid"), "tanh": lambda: act("Tanh"),
    "softmax": lambda: act("Softmax", axis=-1), "softplus": lambda: act("Softplus"),
    "softsign": lambda: act("Softsign"), "exp": lambda: act("Exp"), "selu": lambda: act("Selu"),
    "elu": lambda: act("Elu", alpha=0.7), "leaky_relu": lambda: act("LeakyRelu", alpha=0.2),
    "hard_sigmoid": lambda: act("HardSigmoid", alpha=0.25, beta=0.4),
    "gelu": lambda: act("Gelu"), "gelu_tanh": lambda: act("Gelu", approximate="tanh"),
    "dropout": lambda: act("Dropout"),
    "clip_relu6": lambda: build([helper.make_node("Clip", ["x", "lo", "hi"], ["y"])], [("x", (6,))], ["y"],
                                [F1("lo", 0.0), F1("hi", 6.0)]),
    "gelu_erf_pattern": lambda: build([
        helper.make_node("Div", ["x", "s2"], ["a"]), helper.make_node("Erf", ["a"], ["b"]),
        helper.make_node("Add", ["b", "one"], ["c"]), helper.make_node("Mul", ["x", "c"], ["d"]),
        helper.make_node("Mul", ["d", "half"], ["y"])], [("x", (6,))], ["y"],
        [F1("s2", np.sqrt(2.0)), F1("one", 1.0), F1("half", 0.5)]),
    "softsign_pattern": lambda: build([
        helper.make_node("Abs", ["x"], ["a"]), helper.make_node("Add", ["a", "one"], ["b"]),
        helper.make_node("Div", ["x", "b"], ["y"])], [("x", (6,))], ["y"], [F1("one", 1.0)]),
    "batchnorm": lambda: build([helper.make_node("BatchNormalization", ["x", "g", "bb", "m", "v"], ["y"],
                                                 epsilon=1e-3)], [("x", (4, 5))], ["y"],
                               [W("g", 4), W("bb", 4), W("m", 4), W("v", 4, positive=True)]),
    "layernorm": lambda: build([helper.make_node("LayerNormalization", ["x", "g", "bb"], ["y"], axis=-1)],
                               [("x", (3, 4))], ["y"], [W("g", 4), W("bb", 4)]),
    "layernorm_two_axes": lambda: build([helper.make_node("LayerNormalization", ["x", "g", "bb"], ["y"], axis=1,
                                                          epsilon=1e-3)],
                                        [("x", (3, 4))], ["y"], [W("g", 3, 4), W("bb", 3, 4)]),
    "flatten": lambda: build([helper.make_node("Flatten", ["x"], ["y"], axis=1)], [("x", (3, 4))], ["y"]),
    "reshape": lambda: build([helper.make_node("Reshape", ["x", "s"], ["y"])], [("x", (12,))], ["y"],
                             [I64("s", [-1, 3, 4])]),
    "reshape_shape_arithmetic": lambda: build([
        helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "ax"], ["n1"]), helper.make_node("Concat", ["n1", "m1"], ["t"], axis=0),
        helper.make_node("Reshape", ["x", "t"], ["y"])], [("x", (3, 4))], ["y"],
        [I64("zero", 0), I64("ax", [0]), I64("m1", [-1])]),
    "transpose": lambda: build([helper.make_node("Transpose", ["x"], ["y"], perm=[0, 2, 1])],
                               [("x", (3, 4))], ["y"]),
    "unsqueeze_squeeze": lambda: build([helper.make_node("Unsqueeze", ["x", "ax"], ["a"]),
                                        helper.make_node("Squeeze", ["a", "ax"], ["y"])],
                                       [("x", (3, 4))], ["y"], [I64("ax", [2])]),
    "concat": lambda: build([helper.make_node("Concat", ["a", "b"], ["y"], axis=1)],
                            [("a", (2, 4)), ("b", (3, 4))], ["y"]),
    "add": lambda: binary("Add"), "sub": lambda: binary("Sub"), "mul": lambda: binary("Mul"),
    "max3": lambda: binary("Max", 3), "min": lambda: binary("Min"), "mean3": lambda: binary("Mean", 3),
    "sum3": lambda: binary("Sum", 3),
}


def ort_fn(model):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return lambda xs: sess.run(None, dict(zip(names, xs)))


@pytest.mark.parametrize("case", sorted(CASES))
def test_onnx_op(case, cli, tmp_path):
    model, shapes = CASES[case]()
    onnx.checker.check_model(model)
    path = tmp_path / "model.json"
    convert_onnx(model, path)
    check_model(cli, "onnx", case, path, ort_fn(model), shapes, tmp_path)

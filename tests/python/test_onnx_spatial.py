"""ONNX route, convolution / pooling / resampling / embedding ops (NCHW,
converted as trignet channels_first layers), compared with onnxruntime."""

import numpy as np
import pytest

from conftest import check_model

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402

from test_onnx import F1, I64, W, build, ort_fn  # noqa: E402
from trignet_convert import UnsupportedError, convert_onnx  # noqa: E402

C1, C2 = (3, 9), (3, 6, 7)


def one(op_type, shape, inits=(), inputs_extra=(), **attrs):
    return build([helper.make_node(op_type, ["x", *inputs_extra], ["y"], **attrs)], [("x", shape)], ["y"], inits)


CASES = {
    "conv1d": lambda: one("Conv", C1, [W("w", 4, 3, 3), W("b", 4)], ["w", "b"]),
    "conv1d_pads_strides_dilations": lambda: one("Conv", C1, [W("w", 4, 3, 3)], ["w"], pads=[2, 1], strides=[2],
                                                 dilations=[2]),
    "conv2d_same_upper_groups": lambda: one("Conv", (4, 6, 7), [W("w", 6, 2, 2, 3), W("b", 6)], ["w", "b"],
                                            auto_pad="SAME_UPPER", group=2),
    "conv2d_same_lower_stride2": lambda: one("Conv", C2, [W("w", 4, 3, 2, 2)], ["w"], auto_pad="SAME_LOWER",
                                             strides=[2, 2]),
    "conv2d_pads": lambda: one("Conv", C2, [W("w", 4, 3, 3, 3), W("b", 4)], ["w", "b"], pads=[1, 0, 1, 2]),
    "conv_transpose1d": lambda: one("ConvTranspose", (3, 5), [W("w", 3, 4, 3), W("b", 4)], ["w", "b"], strides=[2],
                                    pads=[1, 1], output_padding=[1]),
    "conv_transpose2d": lambda: one("ConvTranspose", (3, 4, 3), [W("w", 3, 2, 3, 3)], ["w"], strides=[2, 1],
                                    dilations=[1, 2]),
    "maxpool1d": lambda: one("MaxPool", C1, kernel_shape=[2], strides=[2]),
    "maxpool2d_pads": lambda: one("MaxPool", C2, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    "maxpool2d_same_upper": lambda: one("MaxPool", C2, kernel_shape=[2, 2], strides=[2, 2], auto_pad="SAME_UPPER"),
    "avgpool1d_pads_include": lambda: one("AveragePool", C1, kernel_shape=[3], strides=[2], pads=[1, 1],
                                          count_include_pad=1),
    "avgpool2d_pads_exclude": lambda: one("AveragePool", C2, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    "global_avg2d": lambda: one("GlobalAveragePool", C2),
    "global_max1d": lambda: one("GlobalMaxPool", C1),
    "pad2d": lambda: one("Pad", C2, [I64("p", [0, 0, 1, 2, 0, 0, 0, 1])], ["p"]),
    "pad1d_value0": lambda: one("Pad", C1, [I64("p", [0, 0, 2, 0, 0, 1]), F1("v", 0.0)], ["p", "v"]),
    "resize_nearest_asymmetric": lambda: build([helper.make_node(
        "Resize", ["x", "", "s"], ["y"], mode="nearest", coordinate_transformation_mode="asymmetric",
        nearest_mode="floor")], [("x", (3, 4, 3))], ["y"], [F1("s", [1, 1, 2, 3])]),
    "resize_nearest_half_pixel_1d": lambda: build([helper.make_node("Resize", ["x", "", "s"], ["y"], mode="nearest")],
                                                  [("x", (3, 4))], ["y"], [F1("s", [1, 1, 3])]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_onnx_spatial_op(case, cli, tmp_path):
    model, shapes = CASES[case]()
    onnx.checker.check_model(model)
    path = tmp_path / "model.json"
    convert_onnx(model, path)
    check_model(cli, "onnx", case, path, ort_fn(model), shapes, tmp_path)


def test_onnx_gather_embedding(cli, tmp_path):
    g = helper.make_graph([helper.make_node("Gather", ["table", "ids"], ["y"], axis=0)], "g",
                          [helper.make_tensor_value_info("ids", TensorProto.INT64, ["N", 6])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 6, 4])], [W("table", 11, 4)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 8
    path = tmp_path / "model.json"
    model = convert_onnx(m, path)
    assert model["inputs"][0]["dtype"] == "int32" and model["nodes"][0]["type"] == "Embedding"
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    check_model(cli, "onnx", "gather_embedding", path, lambda xs: sess.run(None, {"ids": xs[0].astype(np.int64)}),
                [(6,)], tmp_path)


def test_onnx_gru_refused():
    g = helper.make_graph([helper.make_node("GRU", ["x", "w", "r"], ["y"], hidden_size=4)], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 5, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [5, 1, "N", 4])],
                          [W("w", 1, 12, 3), W("r", 1, 12, 4)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 8
    with pytest.raises(UnsupportedError, match=r"GRU.*batch_first=True"):
        convert_onnx(m)


def test_onnx_resize_linear_refused():
    m, _ = build([helper.make_node("Resize", ["x", "", "s"], ["y"], mode="linear")], [("x", (3, 4, 4))], ["y"],
                 [F1("s", [1, 1, 2, 2])])
    with pytest.raises(Exception, match=r"Resize.*only nearest"):
        convert_onnx(m)

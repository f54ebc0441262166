"""Refusals: an unsupported layer/op, a custom layer, dynamic control flow.
Each error names the layer/op, where it is, and lists what is supported."""

import numpy as np
import pytest

from conftest import run_converter_cli

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
from keras import layers  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

from trignet_convert import ConversionError, UnsupportedError, convert_keras, convert_onnx, convert_torch  # noqa


def test_keras_lambda_layer():
    x = keras.Input((4,))
    m = keras.Model(x, layers.Lambda(lambda t: t * 2, name="times_two")(layers.Dense(3)(x)))
    with pytest.raises(UnsupportedError) as e:
        convert_keras(m)
    msg = str(e.value)
    assert "Lambda" in msg and "times_two" in msg and "supported: " in msg and "Dense" in msg


def test_keras_lambda_layer_file(tmp_path):
    x = keras.Input((4,))
    m = keras.Model(x, layers.Lambda(lambda t: t * 2)(x))
    m.save(tmp_path / "l.keras")
    r = run_converter_cli(tmp_path / "l.keras", "-o", tmp_path / "l.json")
    assert r.returncode == 1 and "Lambda" in r.stderr and "supported" in r.stderr
    assert not (tmp_path / "l.json").exists()


class Doubler(keras.layers.Layer):
    def call(self, x):
        return 2 * x


def test_keras_custom_layer():
    x = keras.Input((4,))
    m = keras.Model(x, Doubler(name="my_doubler")(x))
    with pytest.raises(UnsupportedError, match=r"(?s)Doubler.*my_doubler.*custom layer class.*supported: "):
        convert_keras(m)


def test_keras_unsupported_activation():
    x = keras.Input((4,))
    m = keras.Model(x, layers.Dense(3, activation="mish", name="d")(x))
    with pytest.raises(UnsupportedError, match=r"(?s)activation 'mish'.*layer 'functional.*/d' \(Dense\)"):
        convert_keras(m)


def test_keras_subclassed_model():
    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(3)

        def call(self, x):
            return self.d(x)
    m = Sub()
    m(np.zeros((1, 4), np.float32))
    with pytest.raises(ConversionError):
        convert_keras(m)


def test_torch_fft_op():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(8, 8)

        def forward(self, x):
            return torch.fft.rfft(self.lin(x)).abs()
    with pytest.raises(UnsupportedError) as e:
        convert_torch(M().eval(), (torch.randn(2, 8),))
    msg = str(e.value)
    assert "fft" in msg and "graph node" in msg and "supported: " in msg and "linear" in msg


def test_torch_constant_arithmetic():
    class M(torch.nn.Module):
        def forward(self, x):
            return x * 3.0
    with pytest.raises(ConversionError, match="constant or a Python number"):
        convert_torch(M(), (torch.randn(2, 4),))


def test_torch_dynamic_control_flow():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(4, 4)

        def forward(self, x):
            if x.sum() > 0:            # depends on the data
                return self.lin(x)
            return -x
    with pytest.raises(ConversionError, match="(?i)control flow"):
        convert_torch(M().eval(), (torch.randn(2, 4),))


def test_torch_cond_control_flow():
    class M(torch.nn.Module):
        def forward(self, x):
            return torch.cond(x.sum() > 0, lambda t: t.relu(), lambda t: t.sigmoid(), (x,))
    with pytest.raises(UnsupportedError, match="(?i)cond.*control flow"):
        convert_torch(M(), (torch.randn(2, 4),))


def test_onnx_unsupported_op():
    g = helper.make_graph([helper.make_node("Cos", ["x"], ["y"], name="my_cos")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    with pytest.raises(UnsupportedError, match=r"(?s)ONNX op 'Cos'.*node 0 'my_cos'.*supported: .*Gemm"):
        convert_onnx(m)


def test_onnx_batch_axis():
    g = helper.make_graph([helper.make_node("Softmax", ["x"], ["y"], axis=0)], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    with pytest.raises(ConversionError, match="batch axis"):
        convert_onnx(m)

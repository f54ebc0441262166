"""End-to-end models with the spatial/recurrent/attention layers: a Conv1D
particle-list tagger, a 2D CNN on a 16x16 calorimeter image, a GRU track
model (20x6 -> GRU(32) -> Dense 5 softmax), PyTorch Conv2d -> Flatten ->
Linear (the channels-first layout trap, also through ONNX), and a Keras
transformer encoder block."""

import json

import numpy as np
import pytest

from conftest import check_model, run_converter_cli

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
from keras import layers  # noqa: E402

from test_keras import keras_fn, randomize as k_random  # noqa: E402
from test_torch import randomize as t_random, torch_fn  # noqa: E402
from trignet_convert import convert_keras, convert_onnx, convert_torch  # noqa: E402

nn = torch.nn


def test_conv1d_particle_tagger_keras_file(cli, tmp_path):
    x = inp = keras.Input((20, 6), name="particles")
    x = layers.Conv1D(16, 1, activation="relu")(x)
    x = layers.Conv1D(16, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Conv1D(8, 3, activation="relu")(x)
    x = layers.GlobalAveragePooling1D()(x)
    m = k_random(keras.Model(inp, layers.Dense(5, activation="softmax", name="probabilities")(x)))
    m.save(tmp_path / "tagger.keras")
    r = run_converter_cli(tmp_path / "tagger.keras", "-o", tmp_path / "t.json", "--labels", "g,q,W,Z,t")
    assert r.returncode == 0, r.stderr
    check_model(cli, "keras", "e2e_conv1d_particle_tagger_20x6", tmp_path / "t.json", keras_fn(m), [(20, 6)],
                tmp_path)


def test_calorimeter_cnn_keras(cli, tmp_path):
    x = inp = keras.Input((16, 16, 1), name="image")
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    m = k_random(keras.Model(inp, layers.Dense(3, activation="softmax")(x)))
    convert_keras(m, tmp_path / "c.json")
    check_model(cli, "keras", "e2e_calorimeter_cnn_16x16", tmp_path / "c.json", keras_fn(m), [(16, 16, 1)], tmp_path)


def test_gru_track_model_keras(cli, tmp_path):
    inp = keras.Input((20, 6), name="tracks")
    m = k_random(keras.Model(inp, layers.Dense(5, activation="softmax")(layers.GRU(32)(inp))))
    convert_keras(m, tmp_path / "g.json")
    check_model(cli, "keras", "e2e_gru_track_20x6_gru32_dense5", tmp_path / "g.json", keras_fn(m), [(20, 6)],
                tmp_path)


class TorchGruTracks(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(6, 32, batch_first=True)
        self.out = nn.Linear(32, 5)

    def forward(self, x):
        _, h = self.gru(x)
        return torch.softmax(self.out(h[-1]), -1)


def test_gru_track_model_torch(cli, tmp_path):
    m = t_random(TorchGruTracks())
    convert_torch(m, (torch.randn(2, 20, 6),), tmp_path / "g.json")
    check_model(cli, "pytorch", "e2e_gru_track_20x6_gru32_linear5", tmp_path / "g.json", torch_fn(m), [(20, 6)],
                tmp_path)


def torch_cnn():
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 3, 3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(3 * 2 * 3, 5))


def _flatten_after_channels_first_conv(model):
    """The engine keeps [C, H, W]: Flatten reads it directly, no Permute, so
    its element order is PyTorch's (a channels-last engine would need a
    transpose here and would silently scramble the Linear's inputs without one)."""
    types = [n["type"] for n in model["nodes"]]
    assert "Permute" not in types and "Flatten" in types
    conv = [n for n in model["nodes"] if n["type"] == "Conv2D"]
    assert conv and all(n["config"]["data_format"] == "channels_first" for n in conv)


def test_torch_conv2d_flatten_linear_layout(cli, tmp_path):
    m = t_random(torch_cnn())
    model = convert_torch(m, (torch.randn(2, 2, 8, 10),), tmp_path / "c.json")
    _flatten_after_channels_first_conv(model)
    check_model(cli, "pytorch", "e2e_conv2d_flatten_linear_layout", tmp_path / "c.json", torch_fn(m), [(2, 8, 10)],
                tmp_path)
    # and the same weights read in channels-last order would be wrong: the check is sensitive to the layout
    wrong = json.loads((tmp_path / "c.json").read_text())
    lin = next(n for n in wrong["nodes"] if n["type"] == "Dense")
    k = np.asarray(lin["weights"]["kernel"]["data"]).reshape(3, 2, 3, 5).transpose(1, 2, 0, 3).reshape(-1)
    assert not np.allclose(k, lin["weights"]["kernel"]["data"])


def test_torch_conv2d_flatten_linear_onnx(cli, tmp_path):
    import onnxruntime as ort
    m = t_random(torch_cnn())
    torch.onnx.export(m, (torch.randn(2, 2, 8, 10),), str(tmp_path / "c.onnx"), dynamo=False,
                      input_names=["image"], dynamic_axes={"image": {0: "batch"}})
    model = convert_onnx(str(tmp_path / "c.onnx"), tmp_path / "c.json")
    _flatten_after_channels_first_conv(model)
    sess = ort.InferenceSession(str(tmp_path / "c.onnx"), providers=["CPUExecutionProvider"])
    check_model(cli, "onnx", "e2e_conv2d_flatten_linear_from_torch", tmp_path / "c.json",
                lambda xs: sess.run(None, {"image": xs[0]}), [(2, 8, 10)], tmp_path)


def test_keras_transformer_encoder_block(cli, tmp_path):
    x = inp = keras.Input((8, 16), name="constituents")
    a = layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    x = layers.LayerNormalization()(layers.Add()([x, a]))
    f = layers.Dense(16)(layers.Dense(32, activation="gelu")(x))
    x = layers.LayerNormalization()(layers.Add()([x, f]))
    x = layers.GlobalAveragePooling1D()(x)
    m = k_random(keras.Model(inp, layers.Dense(3, activation="softmax")(x)))
    convert_keras(m, tmp_path / "t.json")
    check_model(cli, "keras", "e2e_transformer_encoder_block", tmp_path / "t.json", keras_fn(m), [(8, 16)], tmp_path)

"""End-to-end models: the hls4ml jet tagger (Keras, PyTorch, and PyTorch ->
ONNX), a two-input two-output functional Keras model, a legacy .h5 file."""

import json

import numpy as np
import pytest

from conftest import check_model, run_converter_cli, trignet

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
from keras import layers  # noqa: E402

from test_keras import keras_fn, randomize as k_random  # noqa: E402
from test_torch import randomize as t_random, torch_fn  # noqa: E402
from trignet_convert import convert_keras, convert_onnx, convert_torch  # noqa: E402

LABELS = ["g", "q", "W", "Z", "t"]


def keras_jet_tagger():
    x = inp = keras.Input((16,), name="features")
    for n in (64, 32, 32):
        x = layers.Dense(n, activation="relu")(x)
    return keras.Model(inp, layers.Dense(5, activation="softmax", name="probabilities")(x))


def torch_jet_tagger():
    nn = torch.nn
    return nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                         nn.Linear(32, 5), nn.Softmax(dim=-1))


def test_jet_tagger_keras_file(cli, tmp_path):
    m = k_random(keras_jet_tagger())
    m.save(tmp_path / "tagger.keras")
    r = run_converter_cli(tmp_path / "tagger.keras", "-o", tmp_path / "t.json", "--labels", ",".join(LABELS))
    assert r.returncode == 0, r.stderr
    model = json.loads((tmp_path / "t.json").read_text())
    assert [n["type"] for n in model["nodes"]] == ["Dense"] * 4
    assert model["outputs"][0]["labels"] == LABELS
    check_model(cli, "keras", "e2e_jet_tagger_16-64-32-32-5", tmp_path / "t.json", keras_fn(m), [(16,)], tmp_path)


def test_jet_tagger_keras_legacy_h5(cli, tmp_path):
    """Keras 3 writes and reads the legacy Keras 2 HDF5 full-model format."""
    m = k_random(keras_jet_tagger())
    m.save(tmp_path / "tagger.h5")
    r = run_converter_cli(tmp_path / "tagger.h5", "-o", tmp_path / "t.json")
    assert r.returncode == 0, r.stderr
    check_model(cli, "keras", "e2e_jet_tagger_h5", tmp_path / "t.json", keras_fn(m), [(16,)], tmp_path)


def test_jet_tagger_torch(cli, tmp_path):
    m = t_random(torch_jet_tagger())
    convert_torch(m, (torch.randn(4, 16),), tmp_path / "t.json", input_names=["features"],
                  output_names=["probabilities"], labels=LABELS)
    check_model(cli, "pytorch", "e2e_jet_tagger_16-64-32-32-5", tmp_path / "t.json", torch_fn(m), [(16,)], tmp_path)


@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "legacy"])
def test_jet_tagger_torch_to_onnx(dynamo, cli, tmp_path):
    import onnxruntime as ort
    m = t_random(torch_jet_tagger())
    kw = (dict(dynamic_shapes=({0: torch.export.Dim("batch")},)) if dynamo
          else dict(dynamic_axes={"features": {0: "batch"}}))
    torch.onnx.export(m, (torch.randn(2, 16),), str(tmp_path / "t.onnx"), dynamo=dynamo,
                      input_names=["features"], output_names=["probabilities"], **kw)
    convert_onnx(str(tmp_path / "t.onnx"), tmp_path / "t.json", labels=LABELS)
    sess = ort.InferenceSession(str(tmp_path / "t.onnx"), providers=["CPUExecutionProvider"])
    check_model(cli, "onnx", f"e2e_jet_tagger_from_torch_{'dynamo' if dynamo else 'legacy'}", tmp_path / "t.json",
                lambda xs: sess.run(None, {"features": xs[0]}), [(16,)], tmp_path)


def test_two_inputs_two_outputs_keras(cli, tmp_path):
    jets = keras.Input((10,), name="jet")
    leps = keras.Input((4, 3), name="leptons")
    a = layers.Dense(16, activation="relu")(jets)
    b = layers.Flatten()(layers.Dense(5, activation="tanh")(leps))
    h = layers.Concatenate()([a, b])
    h = layers.BatchNormalization()(layers.Dense(24, activation="elu")(h))
    cls = layers.Dense(3, activation="softmax", name="class")(h)
    reg = layers.Dense(2, name="regression")(h)
    m = k_random(keras.Model([jets, leps], [cls, reg]))
    convert_keras(m, tmp_path / "m.json", labels={"class": ["b", "c", "light"]})
    model = json.loads((tmp_path / "m.json").read_text())
    assert [i["name"] for i in model["inputs"]] == ["jet", "leptons"]
    assert [o["name"] for o in model["outputs"]] == ["class", "regression"]
    check_model(cli, "keras", "e2e_two_inputs_concat_two_outputs", tmp_path / "m.json", keras_fn(m),
                [(10,), (4, 3)], tmp_path)
    # double-precision engine agrees too
    out = trignet(cli, "check", tmp_path / "m.json", "--double")
    assert out.stdout.strip().endswith("PASS")

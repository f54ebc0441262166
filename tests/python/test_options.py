"""Converter options: names, preprocessing (arrays, scaler JSON, scaler
object), variables, labels, test vectors, test inputs, metadata, tolerance,
and the command line."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, check_model, run_converter_cli, trignet

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from test_keras import keras_fn, randomize  # noqa: E402
from trignet_convert import ConversionError, convert_keras  # noqa: E402

MEAN = np.array([1.0, -2.0, 0.5, 10.0], np.float32)
STD = np.array([2.0, 0.5, 1.0, 4.0], np.float32)


def small():
    x = keras.Input((4,), name="x")
    return randomize(keras.Model(x, layers.Dense(3, activation="softmax")(layers.Dense(5, activation="relu")(x))))


def pre_fn(xs):
    return [((xs[0] - MEAN) * (1 / STD).astype(np.float32)).astype(np.float32)]


class StandardScalerLike:
    mean_ = MEAN.astype(np.float64)
    scale_ = STD.astype(np.float64)


@pytest.mark.parametrize("how", ["arrays", "scaler_object", "scaler_json", "cli"])
def test_preprocessing(how, cli, tmp_path):
    m = small()
    path = tmp_path / "m.json"
    if how == "arrays":
        convert_keras(m, path, preprocessing={"offset": MEAN, "scale": 1 / STD})
    elif how == "scaler_object":
        convert_keras(m, path, preprocessing=StandardScalerLike())
    elif how == "scaler_json":
        (tmp_path / "s.json").write_text(json.dumps({"mean_": MEAN.tolist(), "scale_": STD.tolist()}))
        convert_keras(m, path, preprocessing={"x": str(tmp_path / "s.json")})
    else:
        m.save(tmp_path / "m.keras")
        r = run_converter_cli(tmp_path / "m.keras", "-o", path, "--offset", "x=" + ",".join(map(str, MEAN)),
                              "--scale", ",".join(str(1 / s) for s in STD))
        assert r.returncode == 0, r.stderr
    model = json.loads(path.read_text())
    pre = model["inputs"][0]["preprocessing"]
    np.testing.assert_array_equal(np.float32(pre["offset"]), MEAN)
    np.testing.assert_allclose(pre["scale"], 1 / STD, rtol=1e-7)
    # raw test-vector inputs follow the raw distribution, not N(0, 1)
    raw = np.asarray(model["test_vectors"][1]["inputs"]["x"])
    assert abs(raw[:, 3].mean() - 10.0) < 5
    check_model(cli, "keras", f"option_preprocessing_{how}", path, lambda xs: keras_fn(m)(pre_fn(xs)), [(4,)],
                tmp_path)


def test_names_variables_labels_metadata(cli, tmp_path):
    m = small()
    path = tmp_path / "m.json"
    convert_keras(m, path, name="tagger", input_names=["features"], output_names=["scores"],
                  variables=["pt", "eta", "phi", "mass"], labels={"scores": ["a", "b", "c"]},
                  metadata={"training": {"epochs": 3}, "author": "me"}, test_vectors=5, test_batch=4,
                  tolerance={"abs": 2e-5, "rel": 1e-4})
    model = json.loads(path.read_text())
    assert model["name"] == "tagger"
    assert model["inputs"][0]["name"] == "features" and model["nodes"][0]["inputs"] == ["features"]
    assert model["inputs"][0]["variables"] == ["pt", "eta", "phi", "mass"]
    assert model["outputs"][0] == {"name": "scores", "node": model["outputs"][0]["node"], "shape": [3],
                                   "labels": ["a", "b", "c"]}
    assert model["metadata"]["training"] == {"epochs": 3} and model["metadata"]["framework"] == "keras"
    assert [len(tv["inputs"]["features"]) for tv in model["test_vectors"]] == [1, 4, 4, 4, 4]
    assert model["test_vectors"][0]["tolerance"] == {"abs": 2e-5, "rel": 1e-4}
    check_model(cli, "keras", "option_names", path, keras_fn(m), [(4,)], tmp_path)


def test_test_inputs_and_nan_replacement(cli, tmp_path):
    m = small()
    path = tmp_path / "m.json"
    given = {"x": [[0.1, None, 0.3, 0.4], [1.0, 2.0, 3.0, 4.0]]}
    (tmp_path / "in.json").write_text(json.dumps(given))
    convert_keras(m, path, test_vectors=0, test_inputs=str(tmp_path / "in.json"),
                  preprocessing={"nan_replacement": [0, -1.5, 0, 0]})
    model = json.loads(path.read_text())
    assert len(model["test_vectors"]) == 1
    assert model["test_vectors"][0]["inputs"]["x"][0][1] is None
    trignet(cli, "check", path)


def test_weights_round_trip_exactly(tmp_path):
    m = small()
    w = m.layers[1].kernel
    w.assign(np.array([[np.float32(1) / 3, -0.0, 1e-38, 3.4e38, 1.17549435e-38]] * 4, np.float32))
    convert_keras(m, tmp_path / "m.json", test_vectors=0)
    model = json.loads((tmp_path / "m.json").read_text())
    back = np.asarray(model["nodes"][0]["weights"]["kernel"]["data"], np.float64).astype(np.float32)
    np.testing.assert_array_equal(back.view(np.uint32), keras.ops.convert_to_numpy(w).reshape(-1).view(np.uint32))
    assert "-0.0" in (tmp_path / "m.json").read_text()


def test_bad_options():
    m = small()
    with pytest.raises(ConversionError, match="4 features"):
        convert_keras(m, None, variables=["a", "b"])
    with pytest.raises(ConversionError, match="no input named 'y'"):
        convert_keras(m, None, preprocessing={"y": {"offset": [0, 0, 0, 0]}})
    with pytest.raises(ConversionError, match="expected 4 values"):
        convert_keras(m, None, preprocessing={"offset": [1, 2]})
    with pytest.raises(ConversionError, match="2 input names given"):
        convert_keras(m, None, input_names=["a", "b"])


def test_executable_help_and_version():
    """The real executable (a new process, with the project's .venv)."""
    exe = ROOT / "tools" / "trignet-convert"
    assert os.access(exe, os.X_OK)
    r = subprocess.run([sys.executable, str(exe), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--input-shape" in r.stdout and "--scaler" in r.stdout
    r = subprocess.run([sys.executable, str(exe), "missing.onnx", "-o", "x.json"], capture_output=True, text=True)
    assert r.returncode == 1 and "missing.onnx" in r.stderr

"""The binary weight file (docs/format.md, "Binary weight file"): the converter
writes it (--binary-weights, or re-packs an existing trignet .json), the C++
engine loads it and computes bit-identical outputs to the all-JSON file."""

import hashlib
import json

import numpy as np
import pytest

from conftest import ROOT, run_converter_cli, run_engine, trignet

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from test_keras import randomize  # noqa: E402
from trignet_convert import ConversionError, convert_keras, validate  # noqa: E402
from trignet_convert.binary_weights import join_weights  # noqa: E402


def small():
    x = keras.Input((6,), name="x")
    h = layers.Dense(16, activation="relu")(x)
    h = layers.BatchNormalization()(h)
    return randomize(keras.Model(x, layers.Dense(3, activation="softmax")(h)))


def test_converter_writes_a_weight_file_the_engine_reads(cli, tmp_path):
    model = small()
    plain = convert_keras(model, tmp_path / "plain.json")
    packed = convert_keras(model, tmp_path / "packed.json", binary_weights=True)
    validate(packed)
    blob = (tmp_path / "packed.weights.bin").read_bytes()
    assert packed["weights_file"] == {"path": "packed.weights.bin", "bytes": len(blob),
                                      "sha256": hashlib.sha256(blob).hexdigest()}
    assert all("data" not in w and "offset" in w for n in packed["nodes"] for w in n.get("weights", {}).values())
    # Same float32 values as the JSON numbers, bit for bit.
    joined = join_weights(json.loads((tmp_path / "packed.json").read_text()), tmp_path / "packed.json")
    for a, b in zip(plain["nodes"], joined["nodes"]):
        for k in a.get("weights", {}):
            x = np.asarray(a["weights"][k]["data"], np.float32)
            y = np.asarray(b["weights"][k]["data"], np.float32)
            assert np.array_equal(x.view(np.uint32), y.view(np.uint32)), (a["name"], k)
    trignet(cli, "check", tmp_path / "packed.json")
    x = {"x": np.random.default_rng(3).standard_normal((50, 6)).astype(np.float32)}
    y_plain = run_engine(cli, tmp_path / "plain.json", x, tmp_path)
    y_packed = run_engine(cli, tmp_path / "packed.json", x, tmp_path)
    assert set(y_plain) == set(y_packed)
    for k in y_plain:
        assert np.array_equal(y_plain[k], y_packed[k]), k
    info_plain = trignet(cli, "info", tmp_path / "plain.json").stdout
    info_packed = trignet(cli, "info", tmp_path / "packed.json").stdout
    hash_line = [line for line in info_plain.splitlines() if "hash" in line.lower()]
    assert hash_line and all(line in info_packed for line in hash_line)


@pytest.mark.parametrize("name", ["jet_tagger", "cicada_cnn", "gru_track_model"])
def test_repack_existing_model_from_the_command_line(cli, tmp_path, name):
    out = tmp_path / f"{name}.json"
    r = run_converter_cli(ROOT / "models" / f"{name}.json", "-o", out, "--binary-weights")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / f"{name}.weights.bin").exists()
    trignet(cli, "check", out)  # the embedded test vectors reproduce from the binary weights


def test_repack_needs_the_option_and_damage_is_caught(cli, tmp_path):
    r = run_converter_cli(ROOT / "models" / "jet_tagger.json", "-o", tmp_path / "j.json")
    assert r.returncode != 0 and "--binary-weights" in r.stderr
    out = tmp_path / "j.json"
    assert run_converter_cli(ROOT / "models" / "jet_tagger.json", "-o", out, "--binary-weights").returncode == 0
    bin_path = tmp_path / "j.weights.bin"
    blob = bytearray(bin_path.read_bytes())
    blob[100] ^= 0x40
    bin_path.write_bytes(bytes(blob))
    r = trignet(cli, "check", out, check=False)
    assert r.returncode != 0 and "not the file this model was written with" in r.stderr
    with pytest.raises(ConversionError, match="SHA-256"):
        join_weights(json.loads(out.read_text()), out)


def test_binary_weights_need_an_output_path():
    with pytest.raises(ConversionError, match="needs an output path"):
        convert_keras(small(), None, binary_weights=True)

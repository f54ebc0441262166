"""Fixed point (issue 7): the converter's precision description, and the
bit-exactness proof against hls4ml's C++ emulation.

- Type parsing and the cast arithmetic of tools/trignet_convert/precision.py
  against an exact-rational reference (no hls4ml needed).
- QKeras quantizer -> ap type mapping against hls4ml's own functions.
- For the four proof models of tests/fixed_point/models.py: the converter's
  description evaluated by an independent Python reference
  (tests/fixed_point/reference.py) and by trignet's fixed-point engine
  (`trignet run --fixed --raw`) must give exactly the raw output bits of
  hls4ml's compiled project (Vitis backend, io_parallel, latency) on 2,000
  inputs per model: random, grid edges and exact ties, saturating inputs,
  saturating intermediates.

hls4ml's projects are compiled once (about 7-12 s each) and cached under
build/fixed_point_hls4ml ($TRIGNET_HLS4ML_CACHE). Tests needing hls4ml are
skipped, with that reason, when it is not importable; those needing the CLI
when $TRIGNET_CLI is missing.
"""

import json
import sys
from fractions import Fraction

import numpy as np
import pytest

from conftest import ROOT, run_converter_cli

sys.path.insert(0, str(ROOT / "tests" / "fixed_point"))

from trignet_convert import ConversionError, convert_keras  # noqa: E402
from trignet_convert.precision import FixedType, _hls_weight_raw, parse_type, qkeras_type  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # keras variables in hls4ml

N_SAMPLES = 2000
MODELS = ("jet6", "cicada", "tau", "ad", "mix", "mix2")
REFERENCE_MODELS = MODELS   # tests/fixed_point/reference.py implements what all six use


def _hls4ml():
    try:
        import hls4ml
    except ImportError as e:  # pragma: no cover - depends on the environment
        pytest.skip(f"hls4ml is not importable ({e}): pip install -r tools/requirements.txt")
    return hls4ml


# ---------------------------------------------------------------------------
# types and casts

@pytest.mark.parametrize("text,expected", [
    ("fixed<16,6>", FixedType(16, 6)),
    ("ap_fixed<16, 6>", FixedType(16, 6)),
    ("ufixed<6,0,RND_CONV,SAT>", FixedType(6, 0, False, "RND_CONV", "SAT")),
    ("ap_ufixed<6,0,AP_RND_CONV,AP_SAT,0>", FixedType(6, 0, False, "RND_CONV", "SAT")),
    ("fixed<18,8,RND,SAT,0>", FixedType(18, 8, True, "RND", "SAT")),
    ("int<8>", FixedType(8, 8)),
    ("ap_uint<1>", FixedType(1, 1, False)),
    ("fixed<8,-2,TRN_ZERO,SAT_SYM>", FixedType(8, -2, True, "TRN_ZERO", "SAT_SYM")),
])
def test_parse_type(text, expected):
    t = parse_type(text)
    assert t == expected
    assert parse_type(t.ap()) == t and parse_type(t.hls()) == t


@pytest.mark.parametrize("text,msg", [
    ("float", "expected fixed<W,I"), ("fixed<16>", "malformed"), ("fixed<16,6,RND,SAT,2>", "saturation bits"),
    ("fixed<16,6,ROUND>", "rounding mode"), ("fixed<16,6,RND,CLIP>", "overflow mode"), ("fixed<80,6>", "1 to 64"),
])
def test_parse_type_errors(text, msg):
    with pytest.raises(ConversionError, match=msg):
        parse_type(text)


def _exact_cast(x, t):
    """Independent reference: exact rational value -> raw integer of t."""
    s = Fraction(x) * Fraction(2) ** t.fractional
    fl = s.numerator // s.denominator
    frac = s - fl
    q = t.rounding
    if frac == 0:
        n = fl
    elif q == "TRN":
        n = fl
    elif q == "TRN_ZERO":
        n = fl if s > 0 else fl + 1
    elif frac != Fraction(1, 2):
        n = fl + (1 if frac > Fraction(1, 2) else 0)
    else:
        n = {"RND": fl + 1, "RND_MIN_INF": fl, "RND_ZERO": fl if s > 0 else fl + 1,
             "RND_INF": fl + 1 if s > 0 else fl, "RND_CONV": fl + (fl % 2)}[q]
    lo, hi = t.raw_range()
    if n > hi or n < lo:
        if t.saturation == "WRAP":
            n %= 1 << t.width
            if t.signed and n > hi:
                n -= 1 << t.width
        elif t.saturation == "SAT_ZERO":
            n = 0
        else:
            n = hi if n > hi else lo
    if t.saturation == "SAT_SYM" and t.signed and t.width > 1 and n == lo:
        n = lo + 1
    return n


@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("width,integer", [(1, 1), (3, 1), (5, 2), (4, -1), (6, 8)])
def test_quantize_raw_exhaustive(width, integer, signed):
    """Every mode pair, on a grid of 8 points per LSB over 3x the range on each side."""
    base = FixedType(width, integer, signed)
    lsb = Fraction(2) ** -base.fractional
    lo, hi = base.raw_range()
    grid = [lsb * Fraction(k, 8) for k in range(8 * (lo - 3 * (hi - lo + 1)), 8 * (hi + 3 * (hi - lo + 1)))]
    xs = np.array([float(g) for g in grid])
    for q in ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV"):
        for o in ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM"):
            t = FixedType(width, integer, signed, q, o)
            got = t.quantize_raw(xs)
            want = [_exact_cast(g, t) for g in grid]
            assert got.tolist() == want, f"{t.ap()}"


def test_hls4ml_weight_text():
    """hls4ml writes a weight with F digits after the point and reads it back
    as a double: a float one ulp below a grid point reads as the grid point."""
    t = parse_type("fixed<10,2>")                  # F = 8
    g = np.float32(5) / np.float32(256)
    below = np.nextafter(g, np.float32(0))
    assert t.quantize_raw(np.array([below], np.float64))[0] == 4       # exact float: truncated to 4
    assert _hls_weight_raw(np.array([below]), t)[0] == 5                 # hls4ml's text "0.01953125" -> 5
    # an exact tie that the decimal text rounds below: RND then differs
    t = parse_type("fixed<10,2,RND>")
    tie = np.float32(5) / np.float32(512)          # 0.009765625 -> "0.00976562"
    assert t.quantize_raw(np.array([tie], np.float64))[0] == 3
    assert _hls_weight_raw(np.array([tie]), t)[0] == 2


# ---------------------------------------------------------------------------
# QKeras quantizers

QKERAS_ACTIVATIONS = [
    {"class_name": "quantized_relu", "config": {"bits": 6, "integer": 0, "negative_slope": 0.0}},
    {"class_name": "quantized_relu", "config": {"bits": 8, "integer": 3, "negative_slope": 0.0}},
    {"class_name": "quantized_relu", "config": {"bits": 8, "integer": 3, "negative_slope": 0.25}},
    {"class_name": "quantized_bits", "config": {"bits": 6, "integer": 0}},
    {"class_name": "quantized_bits", "config": {"bits": 10, "integer": 4}},
    {"class_name": "quantized_tanh", "config": {"bits": 8, "symmetric": True}},
    {"class_name": "quantized_tanh", "config": {"bits": 8, "symmetric": False}},
    {"class_name": "quantized_sigmoid", "config": {"bits": 8}},
]


@pytest.mark.parametrize("q", QKERAS_ACTIVATIONS, ids=lambda q: f"{q['class_name']}_{q['config']}")
def test_qkeras_activation_types_match_hls4ml(q):
    _hls4ml()
    from hls4ml.utils.config import _get_precision_from_quantizer
    want = parse_type(_get_precision_from_quantizer(json.loads(json.dumps(q))))
    assert qkeras_type(q, "activation") == want


@pytest.mark.parametrize("bits,integer", [(6, 0), (8, 3), (4, 4), (16, 6)])
def test_qkeras_weight_types_match_hls4ml(bits, integer):
    _hls4ml()
    from hls4ml.model.quantizers import QKerasQuantizer
    q = {"class_name": "quantized_bits", "config": {"bits": bits, "integer": integer, "alpha": 1}}
    want = parse_type(QKerasQuantizer._get_type(None, q))
    assert qkeras_type(q, "weight") == want


def test_qkeras_unsupported():
    with pytest.raises(ConversionError, match="quantized_po2"):
        qkeras_type({"class_name": "quantized_po2", "config": {"bits": 4}})
    with pytest.raises(ConversionError, match="ApplyAlpha"):
        qkeras_type({"class_name": "quantized_bits", "config": {"bits": 6, "integer": 0, "alpha": "auto_po2"}})


# ---------------------------------------------------------------------------
# the proof models

@pytest.fixture(scope="module")
def proof(tmp_path_factory):
    """{model: (path of the converted file, keras model, config, inputs, kinds, hls4ml outputs, project)}"""
    _hls4ml()
    import hls4ml_runner
    import models
    out = {}
    tmp = tmp_path_factory.mktemp("fixed")
    for name in MODELS:
        proj = hls4ml_runner.project(name, log=lambda *a: None)
        m, cfg = models.build(name)
        path = tmp / f"{name}.json"
        convert_keras(m, path, precision=cfg)
        xs, kinds = models.inputs(name, m, cfg, N_SAMPLES, seed=7)
        out[name] = (path, m, cfg, xs, kinds, proj.predict(xs), proj)
    return out


def _hls_raw(values, t):
    v = np.asarray(values, np.float64) * 2.0 ** t.fractional
    assert np.array_equal(v, np.rint(v))
    return v.astype(np.int64)


@pytest.mark.parametrize("name", MODELS)
def test_description_matches_hls4ml_project(name, proof):
    """Every type the converter wrote is the one in hls4ml's generated C++
    (defines.h / parameters.h of the compiled project)."""
    import re
    path, *_, proj = proof[name]
    model = json.loads(path.read_text())
    fw = proj.dir / "firmware"
    typedefs = dict((b, a) for a, b in re.findall(r"typedef\s+(.+?)\s+(\w+)\s*;", (fw / "defines.h").read_text()))
    compiled = {parse_type(t) for t in typedefs.values() if re.match(r"\s*ap_u?(fixed|int)", t)}
    compiled |= {parse_type(t) for t in re.findall(r"typedef\s+(ap_u?fixed<[^>]*>)", (fw / "parameters.h").read_text())}
    written = set()

    def collect(p):
        for k, v in p.items():
            if isinstance(v, str) and "fixed" in v:
                written.add(parse_type(v))
            elif isinstance(v, dict) and k == "activation":
                collect(v)
    for n in model["nodes"]:
        collect(n.get("precision", {}))
    for v in model["fixed_point"]["inputs"].values():
        written.add(parse_type(v["type"]))
    assert written <= compiled, f"types not in hls4ml's C++: {[t.ap() for t in written - compiled]}"


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_reference_bit_exact_vs_hls4ml(name, proof):
    """The converter's description, evaluated by the Python reference, gives hls4ml's bits."""
    import reference
    path, m, cfg, xs, kinds, ys_hls, _ = proof[name]
    model = json.loads(path.read_text())
    outs, types = reference.run(model, xs)
    for (k, r), yh in zip(outs.items(), ys_hls):
        rh = _hls_raw(yh, types[k]).reshape(r.shape)
        bad = r != rh
        assert not bad.any(), f"{name}/{k}: {int(bad.sum())} of {bad.size} values differ"


@pytest.mark.parametrize("name", MODELS)
def test_engine_bit_exact_vs_hls4ml(name, proof, cli, tmp_path):
    """trignet run --fixed --raw gives hls4ml's bits on every output of every input."""
    import compare_hls4ml
    path, m, cfg, xs, kinds, ys_hls, _ = proof[name]
    model = json.loads(path.read_text())
    got = compare_hls4ml.run_trignet(cli, path, [i["name"] for i in model["inputs"]], xs, tmp_path)
    for o, yh in zip(model["outputs"], ys_hls):
        t = parse_type(got[f"{o['name']}.type"])
        rt = np.asarray(got[o["name"]], np.int64).reshape(N_SAMPLES, -1)
        rh = _hls_raw(yh, t).reshape(rt.shape)
        bad = rt != rh
        if bad.any():
            i, j = (int(v[0]) for v in np.nonzero(bad))
            pytest.fail(f"{name}/{o['name']}: {int(bad.sum())} of {bad.size} values differ; first: sample {i} "
                        f"({kinds[i]}) element {j}: hls4ml raw {rh[i, j]}, trignet raw {rt[i, j]}")


@pytest.mark.parametrize("name", ["jet6", "cicada"])
def test_engine_double_inputs_vs_hls4ml(name, proof, cli, tmp_path):
    """float64 inputs that are not float32 numbers (hls4ml's predict on a float64 array, the
    <top>_double entry point) against `trignet run --fixed --double`."""
    import compare_hls4ml
    path, m, cfg, xs, kinds, _, proj = proof[name]
    rng = np.random.default_rng(17)
    xd = [np.asarray(x, np.float64) * (1 + rng.uniform(-1e-9, 1e-9, x.shape)) for x in xs]
    assert not np.array_equal(xd[0].astype(np.float32).astype(np.float64), xd[0])
    ys_hls = proj.predict(xd)
    model = json.loads(path.read_text())
    got = compare_hls4ml.run_trignet(cli, path, [i["name"] for i in model["inputs"]], xd, tmp_path, double=True)
    for o, yh in zip(model["outputs"], ys_hls):
        t = parse_type(got[f"{o['name']}.type"])
        rt = np.asarray(got[o["name"]], np.int64).reshape(N_SAMPLES, -1)
        assert np.array_equal(rt, _hls_raw(yh, t).reshape(rt.shape)), f"{name}/{o['name']}"


def test_engine_binary_weights_with_precision(proof, cli, tmp_path):
    """Weights in the binary side file (--binary-weights) and precision (with raw weights) together."""
    import dataclasses

    import compare_hls4ml
    from trignet_convert import Options
    if "binary_weights" not in {f.name for f in dataclasses.fields(Options)}:
        pytest.skip("this converter has no binary_weights option")
    _, m, cfg, xs, _, ys_hls, _ = proof["tau"]
    out = tmp_path / "tau_bin.json"
    model = convert_keras(m, out, precision=cfg, binary_weights=True)
    assert (tmp_path / "tau_bin.weights.bin").is_file()
    got = compare_hls4ml.run_trignet(cli, out, [i["name"] for i in model["inputs"]], xs, tmp_path)
    for o, yh in zip(model["outputs"], ys_hls):
        t = parse_type(got[f"{o['name']}.type"])
        rt = np.asarray(got[o["name"]], np.int64).reshape(N_SAMPLES, -1)
        assert np.array_equal(rt, _hls_raw(yh, t).reshape(rt.shape)), o["name"]


def test_inputs_saturate(proof):
    """The saturating groups really leave the input types, and outputs reach their limits."""
    import models
    for name, (path, m, cfg, xs, kinds, ys_hls, _) in proof.items():
        for x, t in zip(xs, models.input_type(cfg, m)):
            lo, hi = t.raw_range()
            r = x[kinds == "saturating inputs"].astype(np.float64) * 2.0 ** t.fractional
            assert np.mean((r > hi) | (r < lo)) > 0.5, name


def test_raw_weights_written(proof):
    """tau's weights placed where hls4ml's decimal text is not the float get `raw`."""
    model = json.loads(proof["tau"][0].read_text())
    raw = {n["name"]: sorted(n["precision"].get("raw", {})) for n in model["nodes"]}
    assert raw["fc1"] == ["kernel"] and raw["fc2"] == ["kernel"]
    jet = json.loads(proof["jet6"][0].read_text())
    assert all("raw" not in n.get("precision", {}) for n in jet["nodes"])   # on-grid weights: text is exact


# ---------------------------------------------------------------------------
# command line and refusals

@pytest.mark.parametrize("fmt", ["json", "yml"])
def test_cli_precision_config(fmt, tmp_path):
    _hls4ml()
    import yaml

    import models
    m, cfg = models.build("ad")
    m.save(tmp_path / "ad.keras")
    cfg_path = tmp_path / f"ad_precision.{fmt}"
    cfg_path.write_text(json.dumps(cfg) if fmt == "json" else yaml.safe_dump(cfg))
    r = run_converter_cli(tmp_path / "ad.keras", "-o", tmp_path / "ad.json", "--precision-config", cfg_path)
    assert r.returncode == 0, r.stderr
    via_cli = json.loads((tmp_path / "ad.json").read_text())
    via_api = convert_keras(m, None, precision=cfg)
    assert via_cli["fixed_point"] == via_api["fixed_point"]
    assert [n.get("precision") for n in via_cli["nodes"]] == [n.get("precision") for n in via_api["nodes"]]
    assert via_cli["metadata"]["fixed_point_source"].startswith("hls4ml ")


def test_precision_from_hls4ml_written_config(proof):
    """The hls4ml_config.yml hls4ml writes into its project (HLSConfig, custom YAML tags) is accepted."""
    import models
    *_, proj = proof["tau"]
    m, cfg = models.build("tau")
    a = convert_keras(m, None, precision=str(proj.dir / "hls4ml_config.yml"))
    b = convert_keras(m, None, precision=cfg)
    assert [n.get("precision") for n in a["nodes"]] == [n.get("precision") for n in b["nodes"]]


def test_precision_from_model_graph():
    """An hls4ml ModelGraph the user converted gives the same description as its configuration."""
    hls4ml = _hls4ml()
    import tempfile

    import models
    m, cfg = models.build("tau")
    with tempfile.TemporaryDirectory() as tmp:
        hm = hls4ml.converters.convert_from_keras_model(m, hls_config=cfg, output_dir=tmp, backend="Vitis",
                                                        io_type="io_parallel")
    a = convert_keras(m, None, precision=hm)
    b = convert_keras(m, None, precision=cfg)
    assert a["fixed_point"] == b["fixed_point"]
    assert [n.get("precision") for n in a["nodes"]] == [n.get("precision") for n in b["nodes"]]


def test_precision_refusals(tmp_path):
    _hls4ml()
    import models
    m, cfg = models.build("jet6")
    with pytest.raises(ConversionError, match="preprocessing"):
        convert_keras(m, None, precision=cfg, preprocessing={"offset": 1.0, "scale": 2.0})
    bad = json.loads(json.dumps(cfg))
    bad["LayerName"]["fc1"]["Precision"]["weight"] = "fixed<6,1,RND,SAT,3>"
    with pytest.raises(Exception, match="saturation bits|N > 0"):
        convert_keras(m, None, precision=bad)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ConversionError, match="not valid JSON"):
        convert_keras(m, None, precision=str(tmp_path / "broken.json"))


def test_hard_sigmoid_refused():
    """hls4ml's firmware computes Keras 2's hard_sigmoid (slope 0.2) for a Keras 3 model (1/6)."""
    _hls4ml()
    import keras
    x = inp = keras.Input((4,), name="x")
    y = keras.layers.Activation("hard_sigmoid", name="hs")(keras.layers.Dense(3, name="d")(x))
    with pytest.raises(ConversionError, match="hard_sigmoid.*0.2"):
        convert_keras(keras.Model(inp, y), None, precision={"Model": {"Precision": "fixed<16,6>"}})


def test_hls4ml_refusal_is_reported():
    """What hls4ml itself cannot convert (ReLU(max_value) in its Keras 3 frontend) is a ConversionError."""
    _hls4ml()
    import keras
    x = inp = keras.Input((4,), name="x")
    y = keras.layers.ReLU(max_value=6.0, name="r6")(keras.layers.Dense(3, name="d")(x))
    with pytest.raises(ConversionError, match="hls4ml .* cannot convert.*max_value"):
        convert_keras(keras.Model(inp, y), None, precision={"Model": {"Precision": "fixed<16,6>"}})


def test_precision_refused_for_torch():
    torch = pytest.importorskip("torch")
    from trignet_convert import convert_torch
    mod = torch.nn.Sequential(torch.nn.Linear(4, 2))
    with pytest.raises(ConversionError, match="Keras models"):
        convert_torch(mod, (torch.randn(1, 4),), None, precision={"Model": {"Precision": "fixed<16,6>"}})

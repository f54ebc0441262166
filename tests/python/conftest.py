"""Shared helpers of the converter tests (tests/python).

Every test converts a small real model, then runs the C++ engine through the
`trignet` CLI ($TRIGNET_CLI, default build/tools/trignet) on inputs that were
NOT used for the embedded test vectors and compares with the framework's own
output. Tolerance (both engine and embedded vectors): |y - e| <= 1e-5 + 1e-4 |e|.
Why: the engine and the framework both compute in float32 but in different
orders (GEMM blocking, exp/tanh implementations), so results differ by a few
ulp per operation; for the small models here (sums of <= 64 products of O(1)
terms) that is below ~5e-6 absolute. A wrong mapping (transposed kernel, wrong
axis, wrong epsilon or activation parameter) gives errors > 1e-3.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
os.environ.setdefault("KERAS_BACKEND", "torch")

ATOL = 1e-5
RTOL = 1e-4
CLI = os.environ.get("TRIGNET_CLI", str(ROOT / "build" / "tools" / "trignet"))
ERRORS = {}   # (route, case) -> (max abs, max rel)


def pytest_report_header(config):
    return f"trignet CLI: {CLI} ({'found' if os.access(CLI, os.X_OK) else 'MISSING'}); tolerance abs {ATOL} rel {RTOL}"


@pytest.fixture(scope="session")
def cli():
    if not (os.path.isfile(CLI) and os.access(CLI, os.X_OK)):
        pytest.skip(f"trignet CLI not found at {CLI}: build it (target trignet_cli) or set TRIGNET_CLI")
    return CLI


def trignet(cli, *args, check=True):
    r = subprocess.run([cli, *map(str, args)], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"trignet {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def run_engine(cli, model_path, inputs, tmp_path, double=False, int_inputs=None):
    """Runs the C++ engine on raw inputs {name: batch-first array}; returns {output: array}."""
    inp = tmp_path / "engine_in.json"
    out = tmp_path / "engine_out.json"
    ints = set(int_inputs or ())
    inp.write_text(json.dumps({k: (np.asarray(v).astype(np.int64) if k in ints else np.asarray(v, np.float32)).tolist()
                               for k, v in inputs.items()}))
    trignet(cli, "run", model_path, "--inputs", inp, "--outputs", out, *(["--double"] if double else []))
    return {k: np.asarray(v, np.float64) for k, v in json.loads(out.read_text()).items()}


def compare(route, case, expected, got, atol=ATOL, rtol=RTOL):
    """expected/got: {output: array}. Records and asserts the max errors."""
    worst_abs = worst_rel = 0.0
    assert set(expected) == set(got), (sorted(expected), sorted(got))
    for k, e in expected.items():
        e = np.asarray(e, np.float64)
        y = np.asarray(got[k], np.float64)
        assert y.shape == e.shape, f"{k}: engine shape {y.shape}, framework {e.shape}"
        err = np.abs(y - e)
        worst_abs = max(worst_abs, float(err.max()))
        worst_rel = max(worst_rel, float((err / np.maximum(np.abs(e), 1e-30)).max()))
        bad = err > atol + rtol * np.abs(e)
        assert not bad.any(), (f"{route}/{case} output {k}: {int(bad.sum())} values outside tolerance, "
                               f"max abs error {err.max():.3g}")
    ERRORS[(route, case)] = (worst_abs, worst_rel)
    return worst_abs, worst_rel


def check_model(cli, route, case, path, framework_fn, input_shapes, tmp_path, rng=None, batch=16, preprocess=None,
                atol=ATOL, rtol=RTOL):
    """Full check: schema, `trignet check` (embedded vectors), and `trignet run`
    on fresh inputs vs framework_fn(list of arrays in input order) -> list in output order."""
    from trignet_convert import validate
    model = json.loads(Path(path).read_text())
    validate(model)
    trignet(cli, "check", path)
    rng = rng or np.random.default_rng(12345)   # not the converter's seed: inputs unseen by the test vectors
    names = [i["name"] for i in model["inputs"]]
    raw = {n: fresh_input(model, n, s, batch, rng) for n, s in zip(names, input_shapes)}
    xs = [raw[n] for n in names]
    if preprocess:
        xs = preprocess(xs)
    ys = framework_fn(xs)
    expected = {o["name"]: np.asarray(y) for o, y in zip(model["outputs"], ys)}
    got = run_engine(cli, path, raw, tmp_path,
                     int_inputs=[i["name"] for i in model["inputs"] if i.get("dtype") == "int32"])
    return compare(route, case, expected, got, atol=atol, rtol=rtol)


def fresh_input(model, name, shape, batch, rng):
    """Random raw inputs: standard normal; for an int32 input read by an
    Embedding, indices in [0, input_dim); for an attention mask, 0/1 with the
    diagonal and first key set (no query fully masked)."""
    from trignet_convert.writer import random_mask
    inp = next(i for i in model["inputs"] if i["name"] == name)
    for n in model["nodes"]:
        if n["type"] == "Embedding" and name in n["inputs"]:
            return rng.integers(0, n["config"]["input_dim"], (batch, *shape)).astype(np.float32)
        if n["type"] == "MultiHeadAttention" and n.get("config", {}).get("use_mask") and n["inputs"][-1] == name:
            return random_mask(rng, (batch, *shape))
    if inp.get("dtype") == "int32":
        raise AssertionError(f"int32 input {name}: no Embedding or mask reads it")
    return rng.standard_normal((batch, *shape)).astype(np.float32)


def pytest_terminal_summary(terminalreporter):
    if not ERRORS:
        return
    tr = terminalreporter
    tr.section("converter: max error of the C++ engine (float) vs the framework, fresh inputs")
    for (route, case), (a, r) in sorted(ERRORS.items()):
        tr.write_line(f"  {route:8s} {case:40s} abs {a:9.2e}  rel {r:9.2e}")
    out = os.environ.get("TRIGNET_CONVERTER_ERRORS")
    if out:
        Path(out).write_text(json.dumps({f"{r}/{c}": v for (r, c), v in sorted(ERRORS.items())}, indent=1))


class CliResult:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_converter_cli(*args):
    """Runs trignet-convert's main() in this process; returns returncode/stdout/stderr."""
    import contextlib
    import io
    from trignet_convert.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main([str(a) for a in args])
        except SystemExit as e:
            rc = e.code
    return CliResult(rc, out.getvalue(), err.getvalue())

"""Command line: tools/trignet-convert MODEL -o OUT.json [options]."""

import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np

from . import __version__, convert_file
from .errors import ConversionError

EPILOG = """\
per-input/output options take NAME=VALUE; for a model with one input (output)
the NAME= part may be left out. VALUE lists are comma-separated, or @FILE
(whitespace-separated). Examples:
  trignet-convert tagger.keras -o tagger.json --labels g,q,W,Z,t
  trignet-convert tagger.pt2 -o tagger.json --scaler features=scaler.json
  trignet-convert tagger.pt -o tagger.json --input-shape 16      (TorchScript)
  trignet-convert tagger.onnx -o tagger.json --input-name features --check
See docs/converter.md for the supported layers and ops per route.
"""


def _keyed(items, parse=lambda v: v):
    out = {}
    for it in items or []:
        key, sep, val = it.partition("=")
        if not sep or os.path.exists(it):
            key, val = 0, it
        else:
            key = int(key) if key.isdigit() else key
        out[key] = parse(val)
    return out or None


def _floats(v):
    if v.startswith("@"):
        with open(v[1:]) as f:
            v = f.read().replace("\n", " ").replace(",", " ")
        return [float(x) for x in v.split()]
    return [float(x) for x in v.split(",") if x.strip()]


def _shape(v):
    return [int(x) for x in v.replace("x", ",").split(",") if x.strip()]


def find_cli():
    for c in (os.environ.get("TRIGNET_CLI"), shutil.which("trignet"),
              os.path.join(os.path.dirname(__file__), "..", "..", "build", "tools", "trignet")):
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="trignet-convert", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Converts a Keras (.keras, .h5), PyTorch (.pt2 torch.export, .pt TorchScript) or ONNX "
                    "(.onnx) model to a trignet model file (JSON, format version 1) with embedded test "
                    "vectors computed by the framework.")
    p.add_argument("model", help="model file: .keras, .h5, .pt2, .pt, .onnx")
    p.add_argument("-o", "--output", required=True, help="trignet JSON file to write")
    p.add_argument("--name", help="model name (default: the framework's)")
    p.add_argument("--input-name", action="append", metavar="NAME", help="rename inputs, in order (repeat)")
    p.add_argument("--output-name", action="append", metavar="NAME", help="rename outputs, in order (repeat)")
    p.add_argument("--input-shape", action="append", metavar="D1,D2,..",
                   help="per-sample shape of each input, in order (repeat); needed for TorchScript")
    p.add_argument("--offset", action="append", metavar="[INPUT=]V1,V2,..", help="preprocessing offset")
    p.add_argument("--scale", action="append", metavar="[INPUT=]V1,V2,..", help="preprocessing scale")
    p.add_argument("--nan-replacement", action="append", metavar="[INPUT=]V1,V2,..",
                   help="value replacing NaN inputs, per feature")
    p.add_argument("--scaler", action="append", metavar="[INPUT=]FILE.json",
                   help="preprocessing from JSON: {offset, scale} or a scaler's {mean_, scale_} "
                        "(StandardScaler), {center_, scale_} or {min_, scale_}")
    p.add_argument("--variables", action="append", metavar="[INPUT=]a,b,..", help="feature names of an input")
    p.add_argument("--labels", action="append", metavar="[OUTPUT=]a,b,..", help="labels of an output")
    p.add_argument("--test-vectors", type=int, default=3, metavar="N",
                   help="embedded test vectors computed by the framework (default 3; 0 for none)")
    p.add_argument("--test-batch", type=int, default=8, metavar="B", help="samples per test vector (default 8; "
                   "the first has 1)")
    p.add_argument("--test-inputs", metavar="FILE", help="extra test vector from these raw inputs "
                   "(JSON as for 'trignet run', or .npz)")
    p.add_argument("--tolerance", nargs=2, type=float, metavar=("ABS", "REL"),
                   help="test-vector tolerance (default 1e-5 1e-4)")
    p.add_argument("--seed", type=int, default=None, help="seed of the random test inputs")
    p.add_argument("--metadata", action="append", metavar="KEY=VALUE", help="free metadata (repeat)")
    p.add_argument("--metadata-json", metavar="FILE", help="free metadata from a JSON object")
    p.add_argument("--no-fuse", action="store_true", help="keep activations as separate nodes")
    p.add_argument("--binary-weights", action="store_true",
                   help="write the weights to OUTPUT's .weights.bin (float32, SHA-256 pinned) instead of "
                        "JSON numbers: large models load ~100x faster. With a trignet .json as MODEL, "
                        "re-packs that file")
    p.add_argument("--precision-config", metavar="FILE",
                   help="fixed point: an hls4ml configuration (.json, .yml: {Model: {Precision: ..}, LayerName: "
                        "{..}}); hls4ml resolves it and the file gets the precision of every node "
                        "(docs/fixed-point.md). Keras models only")
    p.add_argument("--check", action="store_true",
                   help="run 'trignet check' on the result (the C++ engine; $TRIGNET_CLI or trignet on PATH)")
    p.add_argument("--version", action="version", version=f"trignet-convert {__version__}")
    a = p.parse_args(argv)

    pre = {}
    for opt, key in ((a.offset, "offset"), (a.scale, "scale"), (a.nan_replacement, "nan_replacement")):
        for k, v in (_keyed(opt, _floats) or {}).items():
            pre.setdefault(k, {})[key] = v
    for k, v in (_keyed(a.scaler) or {}).items():
        if k in pre:
            p.error(f"input {k}: --scaler together with --offset/--scale")
        pre[k] = v
    meta = {}
    if a.metadata_json:
        with open(a.metadata_json) as f:
            meta.update(json.load(f))
    for m in a.metadata or []:
        k, sep, v = m.partition("=")
        if not sep:
            p.error(f"--metadata {m}: expected KEY=VALUE")
        meta[k] = v
    kwargs = dict(name=a.name, input_names=a.input_name, output_names=a.output_name,
                  preprocessing=pre or None, variables=_keyed(a.variables), labels=_keyed(a.labels),
                  test_vectors=a.test_vectors, test_batch=a.test_batch, test_inputs=a.test_inputs,
                  tolerance={"abs": a.tolerance[0], "rel": a.tolerance[1]} if a.tolerance else None,
                  metadata=meta or None, fuse_activations=not a.no_fuse,
                  binary_weights=a.binary_weights)
    if a.precision_config:
        kwargs["precision"] = a.precision_config
    if a.seed is not None:
        kwargs["seed"] = a.seed
    shapes = [_shape(s) for s in a.input_shape] if a.input_shape else None
    try:
        if a.model.lower().endswith(".json"):
            if not a.binary_weights:
                p.error("a trignet .json MODEL can only be re-packed: add --binary-weights")
            from .binary_weights import repack
            from .writer import dumps
            model = repack(a.model, a.output, dumps)
        else:
            model = convert_file(a.model, a.output, input_shapes=shapes, **kwargs)
    except ConversionError as e:
        print(f"trignet-convert: {a.model}: {e}", file=sys.stderr)
        return 1
    except FileNotFoundError as e:
        print(f"trignet-convert: {e}", file=sys.stderr)
        return 1
    n_w = sum(int(np.prod(w["shape"], dtype=np.int64)) for n in model["nodes"]
              for w in n.get("weights", {}).values())
    print(f"wrote {a.output}: {len(model['nodes'])} nodes, {n_w} weights, "
          f"{len(model.get('test_vectors', []))} test vectors")
    if a.check:
        cli = find_cli()
        if cli is None:
            print("trignet-convert: --check: no trignet executable (set TRIGNET_CLI)", file=sys.stderr)
            return 1
        return subprocess.call([cli, "check", a.output])
    return 0

#!/usr/bin/env python3
"""Regenerates the model zoo: every module in models/zoo/ -> models/<NAME>.json,
plus the table in models/README.md. Deterministic: fixed seeds, fixed
'created' date; running it twice gives byte-identical files.

    .venv/bin/python models/build_zoo.py [--check] [NAME...]

--check converts into a temporary folder and fails if a committed file differs.
Weights are random (untrained): see models/README.md.
"""
import argparse
import difflib
import hashlib
import importlib
import os
import pkgutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(HERE))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from trignet_convert import convert_keras  # noqa: E402

CREATED = "2026-11-28"  # fixed, so that the files are reproducible
BASE_SEED = 20261128

# Architectures of issue 5 that are not in the zoo yet, and what they wait for:
# (number, name, title, what it waits for). A module models/zoo/<name>.py
# replaces its line here. Every architecture of issue 5 is in the zoo now.
PLANNED = []
ISSUE_NUMBER = {"hls4ml_jet_tagger_keras": 1, "cms_l1_tau_id": 2, "cms_l1_jet_tagger": 3, "axol1tl_encoder": 4,
                "cicada_cnn": 5, "deep_sets_jet_tagger": 6, "lhcb_two_track_mva": 7, "dl1r_like": 8,
                "gru_track_model": 9, "particle_transformer_small": 10,
                "mlp_64_256x3_10": 11}  # 11: reference network of issue 6 (benchmarks)


def zoo_modules():
    mods = []
    for info in pkgutil.iter_modules([str(HERE / "zoo")]):
        mods.append(importlib.import_module(f"zoo.{info.name}"))
    return sorted(mods, key=lambda m: (ISSUE_NUMBER.get(m.NAME, 99), m.NAME))


def seed_of(name):
    return BASE_SEED + int(hashlib.sha256(name.encode()).hexdigest()[:6], 16)


def randomize(model, rng, fixed):
    """Glorot-uniform kernels (fan-in = product of all but the last axis, so a
    convolution's kernel_size x in_channels; recurrent kernels alike;
    MultiHeadAttention projections by their embedding and heads x key_dim
    sizes), small biases, plausible BatchNormalization statistics and
    normalisation gamma/beta; weights of layers listed in `fixed` are set to
    that constant."""
    for layer in model.layers:
        for w in layer.weights:
            shape = tuple(w.shape)
            if layer.name in fixed:
                w.assign(np.full(shape, fixed[layer.name], np.float32))
                continue
            kind = w.path.rsplit("/", 1)[-1]
            if kind in ("kernel", "recurrent_kernel"):
                fan_in, fan_out = int(np.prod(shape[:-1])), shape[-1]
                if isinstance(layer, keras.layers.MultiHeadAttention) and len(shape) == 3:
                    # query/key/value [embed, heads, key_dim]; attention_output [heads, key_dim, embed]
                    out_proj = "attention_output" in w.path
                    fan_in = shape[0] * shape[1] if out_proj else shape[0]
                    fan_out = shape[2] if out_proj else shape[1] * shape[2]
                lim = np.sqrt(6.0 / (fan_in + fan_out))
                v = rng.uniform(-lim, lim, shape)
            elif kind == "bias":
                v = rng.uniform(-0.1, 0.1, shape)
            elif kind == "gamma":
                v = rng.uniform(0.5, 1.5, shape)
            elif kind == "beta":
                v = rng.normal(0.0, 0.1, shape)
            elif kind == "moving_mean":
                v = rng.normal(0.0, 0.5, shape)
            elif kind == "moving_variance":
                v = rng.uniform(0.5, 2.0, shape)
            else:
                raise SystemExit(f"{model.name}: no rule to randomise weight {w.path}")
            w.assign(v.astype(np.float32))


def build_one(mod, out_dir):
    seed = seed_of(mod.NAME)
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = mod.build()
    randomize(model, rng, getattr(mod, "FIXED_WEIGHTS", {}))
    kwargs = dict(mod.CONVERT)
    if hasattr(mod, "preprocessing"):
        kwargs["preprocessing"] = mod.preprocessing(rng)
    meta = {
        "created": CREATED,
        "architecture": mod.TITLE,
        "weights": f"random (untrained), seed {seed}: Glorot-uniform kernels, biases uniform in [-0.1, 0.1]"
                   + (", BatchNormalization gamma U(0.5,1.5), beta N(0,0.1), mean N(0,0.5), variance U(0.5,2)"
                      if any("moving_mean" in w.path for w in model.weights) else "")
                   + (", LayerNormalization gamma U(0.5,1.5), beta N(0,0.1)"
                      if any(isinstance(l, keras.layers.LayerNormalization) for l in model.layers) else ""),
        "differences_from_published": mod.NOTES,
        "zoo_source": f"models/zoo/{mod.__name__.split('.')[-1]}.py (models/build_zoo.py)",
    }
    path = out_dir / f"{mod.NAME}.json"
    convert_keras(model, path, name=mod.NAME, metadata=meta, seed=seed % (2**31), **kwargs)
    return path


def readme_table(mods):
    rows = [(ISSUE_NUMBER.get(m.NAME, "-"), m.NAME, m.TITLE, f"`models/{m.NAME}.json`", m.NOTES) for m in mods]
    have = {m.NAME for m in mods}
    rows += [(n, name, title, "planned", f"waits for: {why}") for n, name, title, why in PLANNED if name not in have]
    rows.sort(key=lambda r: r[0] if isinstance(r[0], int) else 99)
    lines = ["| # | name | architecture | file | notes |", "|---|---|---|---|---|"]
    lines += [f"| {n} | {name} | {title} | {f} | {notes} |" for n, name, title, f, notes in rows]
    return "\n".join(lines) + "\n"


def update_readme(mods, check):
    readme = HERE / "README.md"
    text = readme.read_text()
    begin, end = "<!-- zoo-table:begin (models/build_zoo.py writes this) -->\n", "<!-- zoo-table:end -->"
    a, b = text.index(begin) + len(begin), text.index(end)
    new = text[:a] + readme_table(mods) + text[b:]
    if check:
        return new == text
    readme.write_text(new)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="fail if a committed file differs from a rebuild")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    mods = [m for m in zoo_modules() if not args.names or m.NAME in args.names]
    status = 0
    with tempfile.TemporaryDirectory() as tmp:
        for m in mods:
            path = build_one(m, Path(tmp) if args.check else HERE)
            if args.check:
                old = (HERE / path.name).read_text() if (HERE / path.name).exists() else ""
                same = old == path.read_text()
                print(f"{path.name:32s} {'same' if same else 'DIFFERS'}")
                if not same:
                    status = 1
                    sys.stdout.writelines(list(difflib.unified_diff(
                        old.splitlines(True), path.read_text().splitlines(True), "committed", "rebuilt", n=0))[:20])
            else:
                print(f"wrote models/{path.name}")
    if not args.names:
        if not update_readme(zoo_modules(), args.check):
            print("models/README.md table DIFFERS")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())

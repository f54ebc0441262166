"""hls4ml's C++ emulation of a proof model, compiled once and cached.

``project(name)`` converts the model of tests/fixed_point/models.py with
hls4ml (Vitis backend, io_parallel, latency strategy), compiles the generated
project into a shared library (hls4ml's ``compile()``: its bundled ap_types
headers and g++, no FPGA tools), and caches the project directory under
``$TRIGNET_HLS4ML_CACHE`` (default ``build/fixed_point_hls4ml``), keyed by a
hash of the weights, the configuration, the hls4ml version and the compiler,
so the four models are compiled once (about 10-60 s each on two cores) and
later runs reuse them.

``Project.predict(xs)`` calls the compiled library's ``<top>_double`` entry
point through ctypes, sample by sample: the same C function hls4ml's own
``ModelGraph.predict`` calls (its double variant, so that wide output types
are not rounded to float). At compile time the cache checks once that this
gives the same bits as ``ModelGraph.predict``.
"""

import ctypes
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("KERAS_BACKEND", "torch")

import models  # noqa: E402

BACKEND = "Vitis"
IO_TYPE = "io_parallel"


def cache_root():
    return Path(os.environ.get("TRIGNET_HLS4ML_CACHE", ROOT / "build" / "fixed_point_hls4ml"))


def _cxx_version():
    try:
        return subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "no g++"


def model_key(name, model, cfg):
    import hls4ml
    h = hashlib.sha256()
    h.update(json.dumps({"name": name, "cfg": cfg, "hls4ml": hls4ml.__version__, "backend": BACKEND,
                         "io": IO_TYPE, "cxx": _cxx_version()}, sort_keys=True).encode())
    for w in model.get_weights():
        h.update(np.ascontiguousarray(w, np.float32).tobytes())
    return h.hexdigest()[:16]


class Project:
    def __init__(self, name, directory, meta):
        self.name = name
        self.dir = Path(directory)
        self.meta = meta
        self.lib = ctypes.CDLL(str(self.dir / meta["library"]))
        self.fn = getattr(self.lib, f"{meta['top']}_double")
        self.fn.restype = None
        self.in_sizes = meta["in_sizes"]
        self.out_sizes = meta["out_sizes"]

    @property
    def library(self):
        return self.dir / self.meta["library"]

    def predict(self, xs):
        """xs: list of arrays [N, ...] (input order) -> list of float64 arrays [N, out_size]."""
        n = len(xs[0])
        flat = [np.ascontiguousarray(np.asarray(x, np.float64).reshape(n, -1)) for x in xs]
        for f, s in zip(flat, self.in_sizes):
            assert f.shape[1] == s, (f.shape, s)
        outs = [np.zeros((n, s), np.float64) for s in self.out_sizes]
        dp = ctypes.POINTER(ctypes.c_double)
        for i in range(n):
            args = [f[i].ctypes.data_as(dp) for f in flat] + [o[i].ctypes.data_as(dp) for o in outs]
            self.fn(*args)
        return outs


def project(name, log=print):
    """The compiled hls4ml project of proof model `name` (cached)."""
    model, cfg = models.build(name)
    key = model_key(name, model, cfg)
    d = cache_root() / f"{name}-{key}"
    meta_path = d / "trignet_meta.json"
    if meta_path.is_file():
        return Project(name, d, json.loads(meta_path.read_text()))
    import hls4ml
    for stale in d.parent.glob(f"{name}-*"):   # projects of earlier versions of this model
        shutil.rmtree(stale, ignore_errors=True)
    d.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    hm = hls4ml.converters.convert_from_keras_model(model, hls_config=cfg, output_dir=str(d), backend=BACKEND,
                                                    io_type=IO_TYPE, project_name="myproject")
    t1 = time.time()
    hm.compile()
    t2 = time.time()
    lib = next((d / "firmware").glob("myproject-*.so"))
    in_sizes = [int(np.prod(v.shape)) for v in hm.get_input_variables()]
    out_sizes = [int(np.prod(v.shape)) for v in hm.get_output_variables()]
    meta = {"library": str(lib.relative_to(d)), "top": "myproject", "in_sizes": in_sizes, "out_sizes": out_sizes,
            "hls4ml": hls4ml.__version__, "convert_s": round(t1 - t0, 2), "compile_s": round(t2 - t1, 2)}
    # the ctypes path must give exactly what hls4ml's own predict gives
    probe_groups, _ = models.inputs(name, model, cfg, 64, seed=99)
    ref = hm.predict([g.astype(np.float64) for g in probe_groups] if len(probe_groups) > 1
                     else probe_groups[0].astype(np.float64))
    ref = ref if isinstance(ref, list) else [ref]
    proj = Project(name, d, meta)
    mine = proj.predict(probe_groups)
    for r, m in zip(ref, mine):
        r = np.asarray(r, np.float64).reshape(m.shape)
        if not np.array_equal(r, m):
            raise AssertionError(f"{name}: ctypes call of {lib.name} differs from hls4ml's predict")
    meta_path.write_text(json.dumps(meta, indent=1))
    log(f"hls4ml {name}: converted in {t1 - t0:.1f} s, compiled in {t2 - t1:.1f} s -> {d}")
    return proj


if __name__ == "__main__":
    for n in sys.argv[1:] or models.NAMES:
        p = project(n)
        print(n, p.dir, p.meta)

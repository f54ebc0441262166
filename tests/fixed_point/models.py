"""The four proof models of issue 7 (bit-exact fixed point against hls4ml).

Each model is a Keras 3 model built deterministically (fixed seed, weights
drawn here, not trained) plus an hls4ml precision configuration in hls4ml's
own dictionary style (``{'Model': {...}, 'LayerName': {...}}``): the "plain
precision configuration" route. Nothing is stored on disk; everything is
rebuilt from this file in about a second, so no large artefact enters git.

- ``jet6``: jet tagger 16-64-32-32-5, 6-bit weights and biases
  (``fixed<6,1>``, the type hls4ml gives a QKeras ``quantized_bits(6, 0)``
  kernel; the float weights are snapped to that grid with round-to-nearest
  as QKeras does during training) and 6-bit activations
  (``ufixed<6,0,RND_CONV,SAT>``, the type hls4ml gives ``quantized_relu(6, 0)``),
  softmax output (hls4ml "stable" implementation, lookup tables).
- ``cicada``: CICADA-like CNN: 18x14x1 calorimeter image (unsigned 10-bit
  integer ET), Conv2D 3 filters 3x3 stride 2, relu, Flatten, Dense 20, relu,
  Dense 1.
- ``tau``: tau-ID-like MLP with two output heads: a sigmoid ID score (lookup
  table) and a linear pT correction.
- ``ad``: anomaly-detection encoder 57 -> 32-16-13 with the score
  sum(z^2) computed in the network: ``Multiply([z, z])`` then a ``Dense(1)``
  with a kernel of ones and no bias (both layers exist in Keras, hls4ml and
  trignet; hls4ml has no "sum of squares" layer).

Two coverage models follow (``mix``, ``mix2``: the other layers, activations,
merges, pooling, several inputs; see their docstrings).

Usage: ``build(name) -> (keras_model, hls_config)``;
``inputs(name, model, cfg, n, seed) -> (list of float32 arrays, kind per sample)``.
"""

import copy

import numpy as np

NAMES = ("jet6", "cicada", "tau", "ad", "mix", "mix2")   # the four proof models, then two coverage models
SEED = 20261128


def _keras():
    import os
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    return keras


def _randomize(model, seed, scale=1.0, snap=None):
    """Deterministic weights: kernels ~ U(-a, a) with a = scale*sqrt(3/fan_in)
    (unit-variance outputs for unit-variance inputs), biases ~ U(-0.25, 0.25).
    snap=(bits, integer): round to the grid of QKeras quantized_bits(bits,
    integer, alpha=1): step 2^-(bits-1-integer), clipped to its range."""
    rng = np.random.default_rng(seed)
    for lyr in model.layers:
        ws = lyr.get_weights()
        if not ws or not lyr.trainable:
            continue
        new = []
        for w in ws:
            if w.ndim >= 2:
                fan_in = int(np.prod(w.shape[:-1]))
                a = scale * np.sqrt(3.0 / fan_in)
                v = rng.uniform(-a, a, w.shape)
            else:
                v = rng.uniform(-0.25, 0.25, w.shape)
            if snap:
                bits, integer = snap
                step = 2.0 ** -(bits - 1 - integer)
                hi = 2.0 ** integer - step
                v = np.clip(np.round(v / step) * step, -2.0 ** integer, hi)
            new.append(v.astype(np.float32))
        lyr.set_weights(new)
    return model


def jet6():
    keras = _keras()
    L = keras.layers
    x = inp = keras.Input((16,), name="features")
    for i, n in enumerate((64, 32, 32), 1):
        x = L.Dense(n, name=f"fc{i}")(x)
        x = L.Activation("relu", name=f"relu{i}")(x)
    x = L.Dense(5, name="fc4")(x)
    out = L.Activation("softmax", name="softmax")(x)
    m = _randomize(keras.Model(inp, out, name="jet6"), SEED + 1, scale=1.5, snap=(6, 0))
    q6 = "fixed<6,1>"
    a6 = "ufixed<6,0,RND_CONV,SAT>"
    cfg = {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
           "LayerName": {"features": {"Precision": {"result": "fixed<12,4,RND,SAT>"}}}}
    for i in (1, 2, 3, 4):
        cfg["LayerName"][f"fc{i}"] = {"Precision": {"weight": q6, "bias": q6, "accum": "auto", "result": "auto"}}
    for i in (1, 2, 3):
        cfg["LayerName"][f"relu{i}"] = {"Precision": {"result": a6}}
    cfg["LayerName"]["fc4"]["Precision"]["result"] = "fixed<12,5,RND,SAT>"
    # hls4ml 1.3.0 ignores exp_table/inv_table here (a Keras 3 activation layer keeps the default
    # ap_fixed<18,8,AP_RND,AP_SAT> tables); the converter writes what hls4ml compiles (docs/fixed-point.md)
    cfg["LayerName"]["softmax"] = {"Precision": {"result": "ufixed<12,0,RND,SAT>", "exp_table": "ufixed<18,8,RND,SAT>",
                                                  "inv_table": "ufixed<18,4,RND,SAT>"},
                                   "TableSize": 1024, "Implementation": "stable"}
    return m, cfg


def cicada():
    keras = _keras()
    L = keras.layers
    x = inp = keras.Input((18, 14, 1), name="regions")
    x = L.Conv2D(3, (3, 3), strides=(2, 2), padding="valid", name="conv")(x)
    x = L.Activation("relu", name="relu_conv")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(20, name="fc1")(x)
    x = L.Activation("relu", name="relu1")(x)
    out = L.Dense(1, name="score")(x)
    m = _randomize(keras.Model(inp, out, name="cicada"), SEED + 2, scale=1.0)
    cfg = {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
           "LayerName": {
               "regions": {"Precision": {"result": "ufixed<10,10,RND,SAT>"}},
               "conv": {"Precision": {"weight": "fixed<8,1>", "bias": "fixed<8,3>", "accum": "fixed<24,14>",
                                      "result": "fixed<16,10,RND,SAT>"}},
               "relu_conv": {"Precision": {"result": "ufixed<10,6,RND,SAT>"}},
               "fc1": {"Precision": {"weight": "fixed<8,1,RND_CONV>", "bias": "fixed<8,3>", "accum": "fixed<20,10>",
                                     "result": "fixed<14,8,RND_ZERO,SAT_SYM>"}},
               "relu1": {"Precision": {"result": "ufixed<8,6,TRN,SAT>"}},
               "score": {"Precision": {"weight": "fixed<8,1>", "bias": "fixed<8,3>", "accum": "auto",
                                       "result": "fixed<16,8,RND_INF,SAT>"}},
           }}
    return m, cfg


def tau():
    keras = _keras()
    L = keras.layers
    x = inp = keras.Input((24,), name="tau")
    x = L.Dense(32, name="fc1")(x)
    x = L.Activation("relu", name="relu1")(x)
    x = L.Dense(16, name="fc2")(x)
    x = L.Activation("relu", name="relu2")(x)
    s = L.Dense(1, name="id_logit")(x)
    s = L.Activation("sigmoid", name="id")(s)
    p = L.Dense(1, name="pt")(x)
    m = _randomize(keras.Model(inp, [s, p], name="tau"), SEED + 3, scale=1.5)
    # Weights where hls4ml's decimal weight text (F digits after the point,
    # read back as double) is not the float: the converter must write `raw`.
    # fc1 (fixed<10,2,RND>, F=8): exact ties (2k+1)/512; the 8-digit text
    # rounds half-even in decimal, below the tie for some k.
    k1, b1 = m.get_layer("fc1").get_weights()
    k1[0, :8] = (2 * np.arange(8) + 1) / 512.0
    m.get_layer("fc1").set_weights([k1, b1])
    # fc2 (fixed<10,2>, TRN, F=8): one float32 ulp beside small grid points
    # k/256: the text reads as the grid point itself, so TRN keeps k.
    k2, b2 = m.get_layer("fc2").get_weights()
    g = np.arange(1, 9, dtype=np.float32) / np.float32(256)
    k2[0, :8] = np.nextafter(g, np.float32(0))
    k2[1, :8] = np.nextafter(-g, np.float32(-1))
    m.get_layer("fc2").set_weights([k2, b2])
    cfg = {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
           "LayerName": {
               "tau": {"Precision": {"result": "fixed<14,5,RND_CONV,SAT>"}},
               "fc1": {"Precision": {"weight": "fixed<10,2,RND>", "bias": "fixed<10,2>", "accum": "auto",
                                     "result": "fixed<16,7,RND_MIN_INF,SAT>"}},
               "relu1": {"Precision": {"result": "ufixed<10,5,RND,SAT>"}},
               "fc2": {"Precision": {"weight": "fixed<10,2>", "bias": "fixed<10,2>", "accum": "fixed<22,9,TRN,SAT>",
                                     "result": "fixed<16,7,TRN_ZERO,WRAP>"}},
               "relu2": {"Precision": {"result": "ufixed<10,5,RND,SAT>"}},
               "id_logit": {"Precision": {"weight": "fixed<10,2>", "bias": "fixed<10,2>", "accum": "auto",
                                          "result": "fixed<16,6,RND,SAT>"}},
               "id": {"Precision": {"result": "ufixed<10,0,RND,SAT>", "table": "ufixed<12,0,RND,SAT>"},
                      "TableSize": 1024},
               "pt": {"Precision": {"weight": "fixed<10,2>", "bias": "fixed<10,2>", "accum": "auto",
                                    "result": "fixed<18,8,RND_CONV,SAT>"}},
           }}
    return m, cfg


def ad():
    keras = _keras()
    L = keras.layers
    x = inp = keras.Input((57,), name="l1_objects")
    for i, n in enumerate((32, 16), 1):
        x = L.Dense(n, name=f"fc{i}")(x)
        x = L.Activation("relu", name=f"relu{i}")(x)
    z = L.Dense(13, name="z")(x)
    z2 = L.Multiply(name="z2")([z, z])
    score = L.Dense(1, use_bias=False, name="score", trainable=False)(z2)
    m = _randomize(keras.Model(inp, score, name="ad"), SEED + 4, scale=1.0)
    m.get_layer("score").set_weights([np.ones((13, 1), np.float32)])
    cfg = {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
           "LayerName": {
               "l1_objects": {"Precision": {"result": "fixed<14,7,RND,SAT>"}},
               "fc1": {"Precision": {"weight": "fixed<8,2,RND>", "bias": "fixed<8,2>", "accum": "auto",
                                     "result": "fixed<18,8>"}},
               "relu1": {"Precision": {"result": "ufixed<10,6,RND,SAT>"}},
               "fc2": {"Precision": {"weight": "fixed<8,2,RND>", "bias": "fixed<8,2>", "accum": "auto",
                                     "result": "fixed<18,8>"}},
               "relu2": {"Precision": {"result": "ufixed<10,6,RND,SAT>"}},
               "z": {"Precision": {"weight": "fixed<8,2,RND>", "bias": "fixed<8,2>", "accum": "auto",
                                   "result": "fixed<12,6,RND,SAT>"}},
               "z2": {"Precision": {"result": "ufixed<16,10,RND,SAT>"}},
               "score": {"Precision": {"weight": "ufixed<1,1>", "accum": "ufixed<20,14,TRN,SAT>",
                                       "result": "ufixed<16,12,RND,SAT>"}},
           }}
    return m, cfg


def mix():
    """Coverage beyond the four proof models: Conv1D, tanh and sigmoid
    tables, max and average pooling, LeakyReLU, BatchNormalization, Add,
    Concatenate and the latency softmax."""
    keras = _keras()
    L = keras.layers
    x = inp = keras.Input((16, 4), name="tracks")
    c = L.Conv1D(6, 3, name="conv")(x)
    c = L.Activation("tanh", name="tanh")(c)
    p = L.MaxPooling1D(2, name="maxpool")(c)
    g = L.GlobalAveragePooling1D(name="gap")(c)
    f = L.Flatten(name="flatten")(p)
    h = L.Dense(16, name="fc1")(f)
    h = L.LeakyReLU(negative_slope=0.125, name="lrelu")(h)
    h = L.BatchNormalization(name="bn")(h)
    a = L.Dense(8, name="a")(h)
    b = L.Dense(8, name="b")(h)
    s = L.Add(name="add")([a, b])
    s = L.Activation("sigmoid", name="sig")(s)
    cat = L.Concatenate(name="cat")([s, g])
    o = L.Dense(4, name="out")(cat)
    o = L.Activation("softmax", name="softmax")(o)
    m = _randomize(keras.Model(inp, o, name="mix"), SEED + 5, scale=1.5)
    bn = m.get_layer("bn")
    rng = np.random.default_rng(SEED + 6)
    bn.set_weights([rng.uniform(0.5, 2.0, 16).astype(np.float32), rng.uniform(-0.5, 0.5, 16).astype(np.float32),
                    rng.uniform(-0.5, 0.5, 16).astype(np.float32), rng.uniform(0.25, 2.0, 16).astype(np.float32)])
    cfg = {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
           "LayerName": {
               "tracks": {"Precision": {"result": "fixed<12,4,RND,SAT>"}},
               "conv": {"Precision": {"weight": "fixed<8,2,RND>", "bias": "fixed<8,2>", "accum": "auto",
                                      "result": "fixed<14,5,RND,SAT>"}},
               "tanh": {"Precision": {"result": "fixed<10,1,RND,SAT>"}, "TableSize": 512},
               "maxpool": {"Precision": {"result": "fixed<10,1,RND,SAT>"}},
               "gap": {"Precision": {"accum": "fixed<16,5>", "result": "fixed<10,1,RND,SAT>"}},
               "fc1": {"Precision": {"weight": "fixed<8,2,RND>", "bias": "fixed<8,2>", "accum": "auto",
                                     "result": "fixed<16,6,RND,SAT>"}},
               "lrelu": {"Precision": {"result": "fixed<12,5,RND,SAT>"}},
               "bn": {"Precision": {"scale": "fixed<12,3,RND>", "bias": "fixed<12,4,RND>",
                                    "result": "fixed<14,6,RND,SAT>"}},
               "a": {"Precision": {"weight": "fixed<8,2,RND>", "bias": "fixed<8,2>", "accum": "auto",
                                   "result": "fixed<14,6,RND,SAT>"}},
               "b": {"Precision": {"weight": "fixed<8,2,RND>", "bias": "fixed<8,2>", "accum": "auto",
                                   "result": "fixed<14,6,RND,SAT>"}},
               "add": {"Precision": {"result": "fixed<14,6,RND,SAT>"}},
               "sig": {"Precision": {"result": "ufixed<10,0,RND,SAT>"}, "TableSize": 1024},
               "cat": {"Precision": {"result": "fixed<12,2,RND,SAT>"}},
               "out": {"Precision": {"weight": "fixed<8,2,RND>", "bias": "fixed<8,2>", "accum": "auto",
                                     "result": "fixed<12,5,RND,SAT>"}},
               "softmax": {"Precision": {"result": "ufixed<12,0,RND,SAT>", "accum": "fixed<18,8,RND,SAT>"},
                           "TableSize": 1024, "Implementation": "latency"},
           }}
    return m, cfg


def mix2():
    """More coverage: two inputs, Conv2D with padding "same" and an inline
    relu, Max/AveragePooling2D, Subtract, Average, Maximum, Minimum, relu6,
    softplus, softsign, tanh (2048 entries) and the legacy softmax. (hard_sigmoid
    is refused: hls4ml's firmware uses Keras 2's slope 0.2 for a Keras 3 model.)"""
    keras = _keras()
    L = keras.layers
    img = keras.Input((8, 8, 2), name="image")
    vec = keras.Input((10,), name="vector")
    c = L.Conv2D(4, (3, 3), padding="same", activation="relu", name="conv")(img)
    p1 = L.Flatten(name="flat_max")(L.MaxPooling2D((2, 2), name="maxpool")(c))
    p2 = L.Flatten(name="flat_avg")(L.AveragePooling2D((2, 2), name="avgpool")(c))
    d1 = L.Dense(12, name="d1")(p1)
    d2 = L.Dense(12, name="d2")(p2)
    v = L.Dense(12, name="dv")(vec)
    sub = L.Subtract(name="sub")([d1, d2])
    avg = L.Average(name="avg")([sub, v])
    mx = L.Maximum(name="max")([d1, v])
    mn = L.Minimum(name="min")([d2, v])
    a1 = L.Activation("relu6", name="relu6")(avg)
    a2 = L.Activation("softplus", name="softplus")(mx)
    a3 = L.Activation("softsign", name="softsign")(mn)
    a4 = L.Activation("tanh", name="tanh")(avg)
    cat = L.Concatenate(name="cat1")([a1, a2])
    cat = L.Concatenate(name="cat2")([cat, a3])
    cat = L.Concatenate(name="cat3")([cat, a4])
    o = L.Dense(5, name="out")(cat)
    o = L.Activation("softmax", name="softmax")(o)
    m = _randomize(keras.Model([img, vec], o, name="mix2"), SEED + 7, scale=1.5)
    dense = {"weight": "fixed<8,2,RND>", "bias": "fixed<8,2>", "accum": "auto", "result": "fixed<14,6,RND,SAT>"}
    cfg = {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
           "LayerName": {
               "image": {"Precision": {"result": "fixed<10,3,RND,SAT>"}},
               "vector": {"Precision": {"result": "fixed<12,4,RND_CONV,SAT>"}},
               "conv": {"Precision": dict(dense, result="fixed<14,5,RND,SAT>")},
               "conv_relu": {"Precision": {"result": "ufixed<10,4,RND,SAT>"}},
               "maxpool": {"Precision": {"result": "ufixed<10,4,RND,SAT>"}},
               "avgpool": {"Precision": {"accum": "ufixed<14,6>", "result": "ufixed<10,4,RND,SAT>"}},
               "d1": {"Precision": dict(dense)}, "d2": {"Precision": dict(dense)}, "dv": {"Precision": dict(dense)},
               "sub": {"Precision": {"result": "fixed<14,6,RND,SAT>"}},
               "avg": {"Precision": {"result": "fixed<14,6,RND,SAT>"}},
               "max": {"Precision": {"result": "fixed<12,5,RND,SAT>"}},
               "min": {"Precision": {"result": "fixed<12,5,RND,SAT>"}},
               "relu6": {"Precision": {"result": "ufixed<10,3,RND,SAT>"}},
               "softplus": {"Precision": {"result": "ufixed<12,4,RND,SAT>"}, "TableSize": 1024},
               "softsign": {"Precision": {"result": "fixed<10,1,RND,SAT>"}, "TableSize": 512},
               "tanh": {"Precision": {"result": "fixed<10,1,RND,SAT>"}, "TableSize": 2048},
               "cat1": {"Precision": {"result": "fixed<14,5,RND,SAT>"}},
               "cat2": {"Precision": {"result": "fixed<14,5,RND,SAT>"}},
               "cat3": {"Precision": {"result": "fixed<14,5,RND,SAT>"}},
               "out": {"Precision": dict(dense, result="fixed<12,5,RND,SAT>")},
               "softmax": {"Precision": {"result": "ufixed<12,0,RND,SAT>"}, "TableSize": 1024,
                           "Implementation": "legacy"},
           }}
    return m, cfg


BUILDERS = {"jet6": jet6, "cicada": cicada, "tau": tau, "ad": ad, "mix": mix, "mix2": mix2}


def build(name):
    """(keras model, hls4ml config dict) of a proof model; a fresh copy each call."""
    m, cfg = BUILDERS[name]()
    return m, copy.deepcopy(cfg)


def input_type(cfg, model):
    """(width, integer, signed) of each model input's precision in the config."""
    from trignet_convert.precision import parse_type  # noqa: WPS433
    out = []
    for t in model.inputs:
        name = t.name.split(":")[0]
        lyr = cfg["LayerName"].get(name, {})
        out.append(parse_type(lyr.get("Precision", {}).get("result", cfg["Model"]["Precision"])))
    return out


def inputs(name, model, cfg, n, seed=0):
    """n float32 input samples per model input (list in input order), in four
    groups of n/4:

    - 'random': standard normal features (integers 0..63 for cicada's ET),
    - 'edge': values on, half a step beside and a quarter step beside the
      input type's grid near its extremes and near zero (exact ties for the
      rounding mode), the extremes themselves and one step beyond,
    - 'saturating inputs': values 2 to 1000 times the input type's range,
      both signs (every input cast saturates or wraps),
    - 'saturating intermediates': random inputs scaled so that the input
      still fits but accumulators and results of later layers exceed their
      types (scaled by up to the input type's maximum)."""
    rng = np.random.default_rng(seed)
    groups = []
    for t, ty in zip(model.inputs, input_type(cfg, model)):
        shape = tuple(int(d) for d in t.shape[1:])
        lsb = 2.0 ** -(ty.width - ty.integer)
        hi = 2.0 ** (ty.integer - (1 if ty.signed else 0)) - lsb
        lo = -2.0 ** (ty.integer - 1) if ty.signed else 0.0
        k = n // 4
        if name == "cicada":
            rnd = rng.integers(0, 64, (k, *shape)).astype(np.float64)
        else:
            rnd = rng.standard_normal((k, *shape))
        grid = np.concatenate([lo + lsb * np.arange(0, 8), hi - lsb * np.arange(0, 8), lsb * np.arange(-8, 9)])
        grid = np.concatenate([grid, grid + lsb / 2, grid - lsb / 4, grid + lsb / 4, [hi + lsb, lo - lsb, hi + 0.5 * lsb]])
        edge = rng.choice(grid, (k, *shape))
        mag = np.exp(rng.uniform(np.log(2.0), np.log(1000.0), (k, *shape))) * max(abs(hi), abs(lo), 1.0)
        sat = mag * rng.choice([-1.0, 1.0], (k, *shape))
        if not ty.signed:
            sat = np.where(rng.random((k, *shape)) < 0.8, np.abs(sat), sat)
        big = rng.standard_normal((n - 3 * k, *shape)) * rng.uniform(0.1, 1.0, (n - 3 * k,) + (1,) * len(shape)) * max(hi, 1.0)
        if not ty.signed:
            big = np.abs(big)
        x = np.concatenate([rnd, edge, sat, big]).astype(np.float32)
        groups.append(x)
    kinds = (["random"] * (n // 4) + ["edge"] * (n // 4) + ["saturating inputs"] * (n // 4)
             + ["saturating intermediates"] * (n - 3 * (n // 4)))
    return groups, np.array(kinds)

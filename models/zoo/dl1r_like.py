"""8. ATLAS DL1r-like flavour tagger: 44 -> 256-128-60-48-36-24-12-6, each
Dense -> BatchNormalization -> ReLU, then 3 softmax (pb, pc, pu), with input
standardisation (offset/scale, random here) in the file."""
import keras
import numpy as np
from keras import layers

NAME = "dl1r_like"
TITLE = "ATLAS DL1r-like: 44 -> 256-128-60-48-36-24-12-6 (Dense, BatchNorm, ReLU) -> 3 softmax"
NOTES = "random input standardisation; the published DL1r uses the same layer sequence"
CONVERT = dict(input_names=["jet_features"], output_names=["flavour"], labels=["pu", "pc", "pb"])


def preprocessing(rng):
    """A StandardScaler-like offset/scale (random but deterministic)."""
    return {"jet_features": {"offset": rng.normal(0.0, 2.0, 44).astype(np.float32),
                             "scale": rng.uniform(0.2, 2.0, 44).astype(np.float32)}}


def build():
    x = inp = keras.Input((44,), name="jet_features")
    for i, n in enumerate((256, 128, 60, 48, 36, 24, 12, 6)):
        x = layers.Dense(n, name=f"dense{i + 1}")(x)
        x = layers.BatchNormalization(name=f"bn{i + 1}")(x)
        x = layers.Activation("relu", name=f"relu{i + 1}")(x)
    out = layers.Dense(3, activation="softmax", name="output")(x)
    return keras.Model(inp, out, name=NAME)

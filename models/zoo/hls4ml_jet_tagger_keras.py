"""1. hls4ml jet tagger (Duarte et al., JINST 13 P07027): 16 -> 64 -> 32 -> 32 (ReLU) -> 5 softmax.

The same architecture as models/jet_tagger.json (written by a numpy generator
for the core tests); this one is built in Keras and converted."""
import keras
from keras import layers

NAME = "hls4ml_jet_tagger_keras"
TITLE = "hls4ml jet tagger: 16 -> 64-32-32 ReLU -> 5 softmax"
NOTES = "as published"
CONVERT = dict(labels=["g", "q", "W", "Z", "t"], input_names=["features"], output_names=["probabilities"])


def build():
    x = inp = keras.Input((16,), name="features")
    for i, n in enumerate((64, 32, 32)):
        x = layers.Dense(n, activation="relu", name=f"fc{i + 1}")(x)
    out = layers.Dense(5, activation="softmax", name="output")(x)
    return keras.Model(inp, out, name=NAME)

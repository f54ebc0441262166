"""5. CICADA-like calorimeter anomaly CNN: an 18 x 14 x 1 calorimeter-region
image -> Conv2D 3x3, stride 2, 3 filters (ReLU, valid: 8 x 6 x 3) -> Flatten
-> Dense 20 (ReLU) -> Dense 1 (anomaly score, linear)."""
import keras
from keras import layers

NAME = "cicada_cnn"
TITLE = "CICADA-like calorimeter CNN: 18x14x1 -> Conv2D 3x3/2, 3 filters -> Flatten -> 20 -> 1"
NOTES = ("float32 weights (CICADA is a quantised student network distilled from an autoencoder); "
         "valid padding, ReLU")
CONVERT = dict(input_names=["calo_regions"], output_names=["anomaly_score"])


def build():
    inp = keras.Input((18, 14, 1), name="calo_regions")
    x = layers.Conv2D(3, 3, strides=2, padding="valid", activation="relu", name="conv")(inp)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(20, activation="relu", name="fc1")(x)
    out = layers.Dense(1, activation="linear", name="output")(x)
    return keras.Model(inp, out, name=NAME)

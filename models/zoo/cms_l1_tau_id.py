"""2. CMS Level-1 tau identification MLP: 80 inputs -> 25-25-15-15-10 (ReLU),
two heads: identification score (1, sigmoid) and pT correction (1, linear)."""
import keras
from keras import layers

NAME = "cms_l1_tau_id"
TITLE = "CMS L1 tau ID: 80 -> 25-25-15-15-10 ReLU -> heads 1 sigmoid (ID) + 1 linear (pT)"
NOTES = "as published (the Phase-2 NN tau uses quantised weights; these are float32)"
CONVERT = dict(input_names=["candidates"], output_names=["tau_id", "pt_correction"])


def build():
    x = inp = keras.Input((80,), name="candidates")
    for i, n in enumerate((25, 25, 15, 15, 10)):
        x = layers.Dense(n, activation="relu", name=f"fc{i + 1}")(x)
    tau_id = layers.Dense(1, activation="sigmoid", name="id_head")(x)
    pt = layers.Dense(1, activation="linear", name="pt_head")(x)
    return keras.Model(inp, [tau_id, pt], name=NAME)

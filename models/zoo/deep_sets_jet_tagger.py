"""6. Deep Sets jet tagger (permutation-invariant): 16 constituents x 3
features -> per-constituent phi network 32-32-32 (ReLU; Dense on the last
axis) -> mean over constituents -> rho network 32 (ReLU) -> 5 softmax."""
import keras
from keras import layers

NAME = "deep_sets_jet_tagger"
TITLE = "Deep Sets jet tagger: 16x3 -> per-constituent 32-32-32 -> mean pooling -> 32 -> 5"
NOTES = "mean pooling includes every slot (no padding mask); float32 weights"
CONVERT = dict(input_names=["constituents"], output_names=["probabilities"], labels=["g", "q", "W", "Z", "t"],
               variables={"constituents": ["pt_rel", "deta", "dphi"]})


def build():
    x = inp = keras.Input((16, 3), name="constituents")
    for i in range(3):
        x = layers.Dense(32, activation="relu", name=f"phi{i + 1}")(x)
    x = layers.GlobalAveragePooling1D(name="mean_pool")(x)
    x = layers.Dense(32, activation="relu", name="rho1")(x)
    out = layers.Dense(5, activation="softmax", name="output")(x)
    return keras.Model(inp, out, name=NAME)

"""7. LHCb HLT1 two-track MVA: 4 -> 20-20 -> 1 sigmoid.

The published network uses GroupSort activations (Lipschitz-constrained,
monotonic); trignet has no GroupSort yet, so the hidden layers use ReLU."""
import keras
from keras import layers

NAME = "lhcb_two_track_mva"
TITLE = "LHCb HLT1 two-track MVA: 4 -> 20-20 -> 1 sigmoid"
NOTES = "ReLU instead of GroupSort (not supported by trignet yet); no Lipschitz constraint on the random weights"
CONVERT = dict(input_names=["two_track"], output_names=["response"],
               variables={"two_track": ["sum_pt", "vertex_chi2", "fd_chi2", "n_displaced_tracks"]})


def build():
    x = inp = keras.Input((4,), name="two_track")
    x = layers.Dense(20, activation="relu", name="fc1")(x)
    x = layers.Dense(20, activation="relu", name="fc2")(x)
    out = layers.Dense(1, activation="sigmoid", name="output")(x)
    return keras.Model(inp, out, name=NAME)

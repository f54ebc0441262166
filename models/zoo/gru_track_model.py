"""9. GRU track model: a sequence of 20 hits/tracks x 6 features -> GRU(32)
(last state; Keras defaults: tanh, sigmoid gates, reset_after) -> Dense 5 softmax."""
import keras
from keras import layers

NAME = "gru_track_model"
TITLE = "GRU track model: 20x6 -> GRU(32) -> Dense 5 softmax"
NOTES = "as specified in issue 5; float32 weights, no masking of padded steps"
CONVERT = dict(input_names=["tracks"], output_names=["probabilities"])


def build():
    inp = keras.Input((20, 6), name="tracks")
    x = layers.GRU(32, name="gru")(inp)
    out = layers.Dense(5, activation="softmax", name="output")(x)
    return keras.Model(inp, out, name=NAME)

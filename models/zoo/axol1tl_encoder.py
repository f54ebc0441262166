"""4. Anomaly-detection encoder (AXOL1TL-like): 57 -> 32-16 (ReLU) -> 13 latent,
anomaly score = sum of squares of the 13 latent values, computed inside the
graph: Multiply(z, z) then a Dense(1) whose kernel is fixed to ones and has no
bias (the zoo builder leaves that kernel at 1 when it randomises weights)."""
import keras
from keras import layers

NAME = "axol1tl_encoder"
TITLE = "AXOL1TL-like encoder: 57 -> 32-16 ReLU -> 13, score = sum(z^2) in the graph"
NOTES = ("score as Multiply(z, z) -> Dense(1, kernel = ones, no bias); the published model uses "
         "the VAE mean of a 3-layer encoder with quantised weights")
CONVERT = dict(input_names=["l1_objects"], output_names=["anomaly_score", "latent"])
FIXED_WEIGHTS = {"score_sum": 1.0}  # layer name -> constant value of every weight


def build():
    inp = keras.Input((57,), name="l1_objects")
    x = layers.Dense(32, activation="relu", name="enc1")(inp)
    x = layers.Dense(16, activation="relu", name="enc2")(x)
    z = layers.Dense(13, activation="linear", name="latent")(x)
    sq = layers.Multiply(name="latent_squared")([z, z])
    score = layers.Dense(1, use_bias=False, trainable=False, name="score_sum")(sq)
    return keras.Model(inp, [score, z], name=NAME)

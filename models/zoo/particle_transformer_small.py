"""10. Small particle transformer (GN2-like, scaled down): 40 tracks x 21
features -> Dense 128 (track embedding) -> 2 post-norm encoder blocks
(MultiHeadAttention 4 heads, key_dim 32, residual Add, LayerNormalization,
feed-forward Dense 256 ReLU -> Dense 128, residual Add, LayerNormalization) ->
mean pooling over tracks -> Dense 64 (ReLU) -> 32 (ReLU) -> 3 softmax."""
import keras
from keras import layers

NAME = "particle_transformer_small"
TITLE = "GN2-like transformer: 40x21 -> Dense 128 -> 2 encoder blocks (4 heads) -> pooling -> 64-32 -> 3"
NOTES = ("scaled down from GN2 (which has 4 blocks of 8 heads, attention pooling and auxiliary track and "
         "vertex heads); mean pooling, post-norm blocks, ReLU feed-forward, no track padding mask")
CONVERT = dict(input_names=["tracks"], output_names=["flavour"], labels=["pu", "pc", "pb"])


def build():
    inp = keras.Input((40, 21), name="tracks")
    x = layers.Dense(128, name="embed")(inp)
    for b in range(2):
        a = layers.MultiHeadAttention(num_heads=4, key_dim=32, name=f"block{b + 1}_mha")(x, x)
        x = layers.Add(name=f"block{b + 1}_add1")([x, a])
        x = layers.LayerNormalization(name=f"block{b + 1}_ln1")(x)
        f = layers.Dense(256, activation="relu", name=f"block{b + 1}_ff1")(x)
        f = layers.Dense(128, name=f"block{b + 1}_ff2")(f)
        x = layers.Add(name=f"block{b + 1}_add2")([x, f])
        x = layers.LayerNormalization(name=f"block{b + 1}_ln2")(x)
    x = layers.GlobalAveragePooling1D(name="mean_pool")(x)
    x = layers.Dense(64, activation="relu", name="fc1")(x)
    x = layers.Dense(32, activation="relu", name="fc2")(x)
    out = layers.Dense(3, activation="softmax", name="output")(x)
    return keras.Model(inp, out, name=NAME)

"""11. Wide MLP of issue 6 (a reference network of the fast CPU path): 64 -> 256-256-256 ReLU
-> 10 softmax. Its 150k float32 weights (~600 KB) do not fit in L1, so at batch 1
the call streams its weights from L2: the benchmark case for weight layout and
prefetching, next to the compute-bound jet tagger."""
import keras
from keras import layers

NAME = "mlp_64_256x3_10"
TITLE = "Wide MLP (issue 6 reference): 64 -> 256-256-256 ReLU -> 10 softmax"
NOTES = "not a published network: the issue-6 benchmark MLP (weights L2-resident at batch 1)"
CONVERT = dict(input_names=["features"], output_names=["probabilities"])


def build():
    x = inp = keras.Input((64,), name="features")
    for i in range(3):
        x = layers.Dense(256, activation="relu", name=f"fc{i + 1}")(x)
    out = layers.Dense(10, activation="softmax", name="output")(x)
    return keras.Model(inp, out, name=NAME)

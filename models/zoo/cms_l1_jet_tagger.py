"""3. CMS Level-1 jet tagger: 16 constituents x 20 features -> BatchNormalization
-> pointwise Conv1D 20->10 -> Conv1D 10->10 (kernel 1, ReLU) -> global average
pooling over the constituents -> two heads: classifier 32-16-8 softmax and
pT regression 10-1 (linear)."""
import keras
from keras import layers

NAME = "cms_l1_jet_tagger"
TITLE = ("CMS L1 jet tagger: 16x20 -> BatchNorm -> Conv1D 1x1 20->10->10 -> global avg pool "
         "-> heads 32-16-8 softmax + 10-1")
NOTES = ("ReLU after both pointwise Conv1D and every hidden Dense; the published tagger uses "
         "quantised weights (these are float32) and its class list differs (8 random-weight classes here)")
CONVERT = dict(input_names=["constituents"], output_names=["class_probabilities", "pt_regression"])


def build():
    inp = keras.Input((16, 20), name="constituents")
    x = layers.BatchNormalization(name="input_bn")(inp)
    x = layers.Conv1D(10, 1, activation="relu", name="conv1")(x)
    x = layers.Conv1D(10, 1, activation="relu", name="conv2")(x)
    x = layers.GlobalAveragePooling1D(name="avg_pool")(x)
    c = layers.Dense(32, activation="relu", name="cls_fc1")(x)
    c = layers.Dense(16, activation="relu", name="cls_fc2")(c)
    c = layers.Dense(8, activation="softmax", name="cls_out")(c)
    r = layers.Dense(10, activation="relu", name="reg_fc1")(x)
    r = layers.Dense(1, activation="linear", name="reg_out")(r)
    return keras.Model(inp, [c, r], name=NAME)

"""Keras 3 route, spatial/recurrent/embedding/attention layers (docs/format.md,
"Convolution, pooling and resampling layers" onwards): each converted, run by
the C++ engine on fresh inputs, compared with Keras itself (torch backend)."""

import pytest

from conftest import check_model

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from test_keras import keras_fn, randomize, single  # noqa: E402
from trignet_convert import convert_keras  # noqa: E402

L1, L2 = (9, 3), (6, 7, 3)      # a [L, C] sequence and an [H, W, C] image
CF1, CF2 = (3, 9), (3, 6, 7)    # channels_first


def mha_model(cross=False, key=False, mask=False, causal=False, **kw):
    q = keras.Input((5, 6), name="q")
    ins, args = [q], {}
    v = q
    if cross:
        v = keras.Input((4, 7), name="v")
        ins.append(v)
    if key:
        k = keras.Input((4, 5), name="k")
        ins.append(k)
        args["key"] = k
    if mask:
        m = keras.Input((5, 4 if cross else 5), name="mask", dtype="int32")
        ins.append(m)
        args["attention_mask"] = m
    if causal:
        args["use_causal_mask"] = True
    y = layers.MultiHeadAttention(num_heads=kw.pop("heads", 2), key_dim=3, **kw)(q, v, **args)
    return keras.Model(ins, y)


def bidir(cell, mode, seq):
    return single((5, 3), layers.Bidirectional(cell(4, return_sequences=seq), merge_mode=mode))


CASES = {
    # convolutions
    "conv1d_valid": lambda: (single(L1, layers.Conv1D(4, 3)), [L1]),
    "conv1d_same_stride2_relu": lambda: (single(L1, layers.Conv1D(4, 4, strides=2, padding="same", activation="relu")), [L1]),
    "conv1d_dilation_same": lambda: (single(L1, layers.Conv1D(4, 3, dilation_rate=2, padding="same")), [L1]),
    "conv1d_causal": lambda: (single(L1, layers.Conv1D(4, 3, dilation_rate=2, padding="causal")), [L1]),
    "conv1d_groups_no_bias": lambda: (single((9, 4), layers.Conv1D(6, 3, groups=2, use_bias=False)), [(9, 4)]),
    "conv2d_valid": lambda: (single(L2, layers.Conv2D(4, 3)), [L2]),
    "conv2d_same_stride2": lambda: (single(L2, layers.Conv2D(4, (3, 2), strides=2, padding="same")), [L2]),
    "conv2d_dilation": lambda: (single(L2, layers.Conv2D(4, 2, dilation_rate=(2, 1), activation="tanh")), [L2]),
    "conv2d_groups": lambda: (single((6, 7, 4), layers.Conv2D(4, 3, groups=2, padding="same")), [(6, 7, 4)]),
    "conv2d_channels_first": lambda: (single(CF2, layers.Conv2D(4, 3, padding="same", data_format="channels_first")), [CF2]),
    "depthwise1d": lambda: (single(L1, layers.DepthwiseConv1D(3, depth_multiplier=2, padding="same")), [L1]),
    "depthwise2d_stride2": lambda: (single(L2, layers.DepthwiseConv2D(3, strides=2, use_bias=False)), [L2]),
    "separable1d": lambda: (single(L1, layers.SeparableConv1D(4, 3, activation="relu")), [L1]),
    "separable2d_same_dm2": lambda: (single(L2, layers.SeparableConv2D(4, 3, padding="same", depth_multiplier=2)), [L2]),
    "conv1dtranspose_valid": lambda: (single((5, 3), layers.Conv1DTranspose(4, 3)), [(5, 3)]),
    "conv1dtranspose_stride2_same": lambda: (single((5, 3), layers.Conv1DTranspose(4, 3, strides=2, padding="same")), [(5, 3)]),
    "conv1dtranspose_stride2_same_even": lambda: (single((5, 3), layers.Conv1DTranspose(4, 4, strides=2, padding="same")), [(5, 3)]),
    "conv1dtranspose_k_lt_s_valid": lambda: (single((5, 3), layers.Conv1DTranspose(4, 2, strides=3)), [(5, 3)]),
    "conv1dtranspose_k_lt_s_same": lambda: (single((5, 3), layers.Conv1DTranspose(4, 2, strides=3, padding="same")), [(5, 3)]),
    "conv1dtranspose_same_output_padding": lambda: (single((5, 3), layers.Conv1DTranspose(
        4, 3, strides=2, padding="same", output_padding=1)), [(5, 3)]),
    "conv1dtranspose_valid_output_padding": lambda: (single((5, 3), layers.Conv1DTranspose(
        4, 3, strides=2, output_padding=1)), [(5, 3)]),
    "conv2dtranspose_same_stride2": lambda: (single((4, 3, 2), layers.Conv2DTranspose(3, 3, strides=2, padding="same")), [(4, 3, 2)]),
    "conv2dtranspose_dilation": lambda: (single((4, 3, 2), layers.Conv2DTranspose(3, 2, dilation_rate=2, use_bias=False)), [(4, 3, 2)]),
    # pooling
    "maxpool1d": lambda: (single(L1, layers.MaxPooling1D(2)), [L1]),
    "maxpool1d_same_stride": lambda: (single(L1, layers.MaxPooling1D(3, strides=2, padding="same")), [L1]),
    "avgpool1d_same": lambda: (single(L1, layers.AveragePooling1D(3, strides=1, padding="same")), [L1]),
    "maxpool2d": lambda: (single(L2, layers.MaxPooling2D(2)), [L2]),
    "avgpool2d_same_strides": lambda: (single((7, 5, 2), layers.AveragePooling2D(3, strides=2, padding="same")), [(7, 5, 2)]),
    "avgpool2d_channels_first": lambda: (single(CF2, layers.AveragePooling2D(2, data_format="channels_first")), [CF2]),
    "globalavg1d": lambda: (single(L1, layers.GlobalAveragePooling1D()), [L1]),
    "globalmax1d_keepdims": lambda: (single(L1, layers.GlobalMaxPooling1D(keepdims=True)), [L1]),
    "globalavg2d_keepdims": lambda: (single(L2, layers.GlobalAveragePooling2D(keepdims=True)), [L2]),
    "globalmax2d_channels_first": lambda: (single(CF2, layers.GlobalMaxPooling2D(data_format="channels_first")), [CF2]),
    # resampling
    "upsampling1d": lambda: (single(L1, layers.UpSampling1D(3)), [L1]),
    "upsampling2d": lambda: (single(L2, layers.UpSampling2D((2, 3))), [L2]),
    "zeropadding1d": lambda: (single(L1, layers.ZeroPadding1D((1, 2))), [L1]),
    "zeropadding2d": lambda: (single(L2, layers.ZeroPadding2D(((1, 0), (2, 1)))), [L2]),
    "cropping1d": lambda: (single(L1, layers.Cropping1D((2, 1))), [L1]),
    "cropping2d_channels_first": lambda: (single(CF2, layers.Cropping2D(((1, 1), (0, 2)), data_format="channels_first")), [CF2]),
    # recurrent
    "simplernn": lambda: (single((5, 3), layers.SimpleRNN(4)), [(5, 3)]),
    "simplernn_relu_sequences_backwards": lambda: (single((5, 3), layers.SimpleRNN(
        4, activation="relu", return_sequences=True, go_backwards=True)), [(5, 3)]),
    "gru": lambda: (single((5, 3), layers.GRU(4)), [(5, 3)]),
    "gru_reset_before_sequences": lambda: (single((5, 3), layers.GRU(4, reset_after=False, return_sequences=True)), [(5, 3)]),
    "gru_no_bias_backwards": lambda: (single((5, 3), layers.GRU(4, use_bias=False, go_backwards=True)), [(5, 3)]),
    "lstm": lambda: (single((5, 3), layers.LSTM(4)), [(5, 3)]),
    "lstm_sequences_hard_sigmoid": lambda: (single((5, 3), layers.LSTM(
        4, return_sequences=True, recurrent_activation="hard_sigmoid")), [(5, 3)]),
    "bidirectional_lstm_concat": lambda: (bidir(layers.LSTM, "concat", False), [(5, 3)]),
    "bidirectional_gru_sum_sequences": lambda: (bidir(layers.GRU, "sum", True), [(5, 3)]),
    "bidirectional_rnn_ave_sequences": lambda: (bidir(layers.SimpleRNN, "ave", True), [(5, 3)]),
    "bidirectional_lstm_mul_sequences": lambda: (bidir(layers.LSTM, "mul", True), [(5, 3)]),
    "stacked_gru": lambda: (single((5, 3), layers.GRU(4, return_sequences=True), layers.GRU(3)), [(5, 3)]),
    "timedistributed_dense": lambda: (single((5, 3), layers.TimeDistributed(layers.Dense(4, activation="relu"))), [(5, 3)]),
    # embedding, attention
    "embedding": lambda: (keras.Model(i := keras.Input((6,), dtype="int32", name="ids"),
                                      layers.Embedding(11, 4)(i)), [(6,)]),
    "mha_self": lambda: (mha_model(), [(5, 6)]),
    "mha_cross": lambda: (mha_model(cross=True), [(5, 6), (4, 7)]),
    "mha_cross_key_mask": lambda: (mha_model(cross=True, key=True, mask=True), [(5, 6), (4, 7), (4, 5), (5, 4)]),
    "mha_causal": lambda: (mha_model(causal=True), [(5, 6)]),
    "mha_causal_mask_value_dim_no_bias": lambda: (mha_model(mask=True, causal=True, value_dim=2, use_bias=False),
                                                  [(5, 6), (5, 5)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_keras_spatial_layer(case, cli, tmp_path):
    model, shapes = CASES[case]()
    randomize(model)
    path = tmp_path / "model.json"
    convert_keras(model, path)
    check_model(cli, "keras", case, path, keras_fn(model), shapes, tmp_path)

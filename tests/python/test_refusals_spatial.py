"""Refusals of the spatial / recurrent / attention mappings: each names the
layer or op, where it is, and why."""

import pytest

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
from keras import layers  # noqa: E402

from test_keras import single  # noqa: E402
from trignet_convert import ConversionError, UnsupportedError, convert_keras, convert_torch  # noqa: E402

nn = torch.nn


def test_keras_upsampling_bilinear():
    with pytest.raises(ConversionError, match=r"UpSampling2D.*interpolation='bilinear'.*only 'nearest'"):
        convert_keras(single((4, 4, 2), layers.UpSampling2D(interpolation="bilinear")))


def test_keras_average_pooling_uneven_same_on_torch_backend():
    if keras.backend.backend() != "torch":
        pytest.skip("torch-backend behaviour")
    with pytest.raises(ConversionError, match=r"AveragePooling1D.*repeating edge values"):
        convert_keras(single((9, 3), layers.AveragePooling1D(2, padding="same")))


def test_keras_embedding_mask_zero():
    m = keras.Model(i := keras.Input((5,), dtype="int32"), layers.Embedding(7, 3, mask_zero=True)(i))
    with pytest.raises(ConversionError, match="mask_zero"):
        convert_keras(m)


def test_keras_time_distributed_conv():
    with pytest.raises(ConversionError, match=r"TimeDistributed.*Conv1D"):
        convert_keras(single((4, 6, 2), layers.TimeDistributed(layers.Conv1D(2, 3))))


@pytest.mark.parametrize("mod,match", [
    (nn.MaxPool1d(2, ceil_mode=True), "ceil_mode"),
    (nn.MaxPool1d(2, dilation=2), "dilation"),
    (nn.AvgPool1d(3, ceil_mode=True), "ceil_mode"),
    (nn.Upsample(scale_factor=2, mode="linear"), "upsample_linear1d"),
])
def test_torch_pooling_options(mod, match):
    with pytest.raises(ConversionError, match=match):
        convert_torch(nn.Sequential(mod).eval(), (torch.randn(2, 3, 9),))


class Masked(nn.Module):
    def __init__(self, **kw):
        super().__init__()
        self.a = nn.MultiheadAttention(6, 2, **kw)

    def forward(self, x, pad):
        return self.a(x, x, x, key_padding_mask=pad > 0, need_weights=False)[0]


def test_torch_mha_key_padding_mask():
    with pytest.raises(ConversionError, match=r"key_padding_mask.*inverted"):
        convert_torch(Masked(batch_first=True).eval(), (torch.randn(2, 5, 6), torch.randn(2, 5)))


class Rnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(3, 4)

    def forward(self, x):
        return self.rnn(x)[0]


def test_torch_gru_not_batch_first():
    with pytest.raises(ConversionError, match="batch_first"):
        convert_torch(Rnn().eval(), (torch.randn(5, 2, 3),))


def test_torch_mha_in_exported_program_names_the_route():
    from trignet_convert.torch_route import convert_exported_program

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.MultiheadAttention(6, 2, batch_first=True)

        def forward(self, x):
            return self.a(x, x, x, need_weights=False)[0]

    ep = torch.export.export(M().eval(), (torch.randn(2, 5, 6),))
    with pytest.raises(UnsupportedError, match=r"scaled_dot_product_attention|MultiheadAttention"):
        convert_exported_program(ep)


class LstmCell(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(3, 4, batch_first=True)

    def forward(self, x):
        return self.rnn(x)[1][1][-1]


def test_torch_lstm_cell_state():
    with pytest.raises(ConversionError, match="cell state"):
        convert_torch(LstmCell().eval(), (torch.randn(2, 5, 3),))

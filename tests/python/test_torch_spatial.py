"""PyTorch route, spatial/recurrent/embedding/attention ops: each converted
from torch.export, run by the C++ engine on fresh inputs, compared with
PyTorch. Tensors stay channels-first ([C, L], [C, H, W]) in trignet."""

import pytest

from conftest import check_model

torch = pytest.importorskip("torch")
nn = torch.nn

from test_torch import randomize, seq, torch_fn  # noqa: E402
from trignet_convert import convert_torch  # noqa: E402

C1, C2 = (3, 9), (3, 6, 7)


class Lam(nn.Module):
    def __init__(self, f, *mods):
        super().__init__()
        self.mods = nn.ModuleList(mods)
        self.f = f

    def forward(self, x):
        return self.f(x, *self.mods)


class Rnn(nn.Module):
    """nn.GRU/LSTM/RNN (batch_first), output = sequence, last step, or h_n[-1]."""

    def __init__(self, cls, out="seq", **kw):
        super().__init__()
        self.rnn = cls(3, 4, batch_first=True, **kw)
        self.out = out

    def forward(self, x):
        y, h = self.rnn(x)
        if self.out == "last":
            return y[:, -1]
        if self.out == "h_n":
            return (h[0] if isinstance(h, tuple) else h)[-1]
        return y


class Mha(nn.Module):
    def __init__(self, cross=False, causal=False, **kw):
        super().__init__()
        self.a = nn.MultiheadAttention(6, 2, batch_first=True, **kw)
        self.cross, self.causal = cross, causal

    def forward(self, q, kv=None):
        kv = q if kv is None else kv
        if self.causal:
            mask = nn.Transformer.generate_square_subsequent_mask(q.shape[1])
            return self.a(q, kv, kv, attn_mask=mask, is_causal=True, need_weights=False)[0]
        return self.a(q, kv, kv, need_weights=False)[0]


CASES = {
    "conv1d": lambda: (seq(nn.Conv1d(3, 4, 3)), [C1]),
    "conv1d_padding_stride_dilation": lambda: (seq(nn.Conv1d(3, 4, 3, stride=2, padding=2, dilation=2)), [C1]),
    "conv1d_same_groups": lambda: (seq(nn.Conv1d(4, 6, 4, padding="same", groups=2)), [(4, 9)]),
    "conv2d": lambda: (seq(nn.Conv2d(3, 4, 3), nn.ReLU()), [C2]),
    "conv2d_padding_stride_no_bias": lambda: (seq(nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0), bias=False)), [C2]),
    "conv2d_same_dilation": lambda: (seq(nn.Conv2d(3, 4, 3, padding="same", dilation=2)), [C2]),
    "conv2d_depthwise_groups": lambda: (seq(nn.Conv2d(3, 6, 3, groups=3)), [C2]),
    "conv_transpose1d": lambda: (seq(nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, output_padding=1)), [(3, 5)]),
    "conv_transpose2d": lambda: (seq(nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)), [(3, 4, 3)]),
    "conv_transpose2d_dilation": lambda: (seq(nn.ConvTranspose2d(3, 2, 2, dilation=2, bias=False)), [(3, 4, 3)]),
    "maxpool1d": lambda: (seq(nn.MaxPool1d(2)), [C1]),
    "maxpool1d_padding_stride": lambda: (seq(nn.MaxPool1d(3, stride=2, padding=1)), [C1]),
    "maxpool2d": lambda: (seq(nn.MaxPool2d(2)), [C2]),
    "avgpool1d_pad_include": lambda: (seq(nn.AvgPool1d(3, stride=2, padding=1)), [C1]),
    "avgpool2d_pad_exclude": lambda: (seq(nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)), [C2]),
    "avgpool2d": lambda: (seq(nn.AvgPool2d(2)), [C2]),
    "adaptive_avgpool2d_1": lambda: (seq(nn.AdaptiveAvgPool2d(1), nn.Flatten()), [C2]),
    "adaptive_avgpool1d_1": lambda: (seq(nn.AdaptiveAvgPool1d(1)), [C1]),
    "upsample_nearest2d": lambda: (seq(nn.Upsample(scale_factor=2)), [(3, 4, 3)]),
    "upsample_nearest1d": lambda: (seq(nn.Upsample(scale_factor=3)), [(3, 4)]),
    "zeropad2d": lambda: (seq(nn.ZeroPad2d((1, 2, 0, 1))), [C2]),
    "constantpad1d": lambda: (seq(nn.ConstantPad1d((2, 1), 0.0)), [C1]),
    "crop_slices2d": lambda: (Lam(lambda x: x[:, :, 1:-1, 2:]), [C2]),
    "crop_slice1d": lambda: (Lam(lambda x: x[:, :, 2:7]), [C1]),
    "gru": lambda: (Rnn(nn.GRU), [(5, 3)]),
    "gru_last_step": lambda: (Rnn(nn.GRU, "last"), [(5, 3)]),
    "gru_h_n_no_bias": lambda: (Rnn(nn.GRU, "h_n", bias=False), [(5, 3)]),
    "gru_bidirectional_two_layers": lambda: (Rnn(nn.GRU, bidirectional=True, num_layers=2), [(5, 3)]),
    "lstm": lambda: (Rnn(nn.LSTM), [(5, 3)]),
    "lstm_h_n_bidirectional": lambda: (Rnn(nn.LSTM, "h_n", bidirectional=True), [(5, 3)]),
    "lstm_two_layers_last": lambda: (Rnn(nn.LSTM, "last", num_layers=2), [(5, 3)]),
    "rnn_tanh": lambda: (Rnn(nn.RNN), [(5, 3)]),
    "rnn_relu_bidirectional": lambda: (Rnn(nn.RNN, nonlinearity="relu", bidirectional=True), [(5, 3)]),
    "mha_self": lambda: (Mha(), [(5, 6)]),
    "mha_cross_no_bias": lambda: (Mha(cross=True, bias=False), [(5, 6), (4, 6)]),
    "mha_kdim_vdim": lambda: (Mha(cross=True, kdim=5, vdim=5), [(5, 6), (4, 5)]),
    "mha_causal": lambda: (Mha(causal=True), [(5, 6)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_torch_spatial_op(case, cli, tmp_path):
    module, shapes = CASES[case]()
    randomize(module)
    example = tuple(torch.randn(3, *s) for s in shapes)
    path = tmp_path / "model.json"
    convert_torch(module, example, path)
    check_model(cli, "pytorch", case, path, torch_fn(module), shapes, tmp_path)


def test_torch_embedding(cli, tmp_path):
    m = randomize(nn.Sequential(nn.Embedding(11, 4), nn.Flatten(), nn.Linear(24, 3)))
    path = tmp_path / "model.json"
    model = convert_torch(m, (torch.randint(0, 11, (3, 6)),), path)
    assert model["inputs"][0]["dtype"] == "int32"
    assert all(float(v).is_integer() for b in model["test_vectors"] for row in b["inputs"].values() for v in
               torch.tensor(row).flatten().tolist())
    check_model(cli, "pytorch", "embedding_flatten_linear", path,
                lambda xs: [m(torch.from_numpy(xs[0]).long()).detach().numpy()], [(6,)], tmp_path)

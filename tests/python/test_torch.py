"""PyTorch route (torch.export in memory, .pt2 files, TorchScript .pt files):
every supported op, converted, run by the C++ engine, compared with PyTorch."""

import numpy as np
import pytest

from conftest import check_model

torch = pytest.importorskip("torch")
nn = torch.nn
F = nn.functional

from trignet_convert import convert_torch  # noqa: E402


def randomize(module, seed=7):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(module.named_parameters()) + list(module.named_buffers()):
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) * 1.5 + 0.5)
            else:
                t.copy_(torch.randn(t.shape, generator=g) * 0.4)
    return module.eval()


def torch_fn(module):
    def run(xs):
        with torch.no_grad():
            ys = module(*[torch.from_numpy(x) for x in xs])
        ys = ys if isinstance(ys, (tuple, list)) else [ys]
        return [y.numpy() for y in ys]
    return run


class Fn(nn.Module):
    """Linear(in, out) then a function (the op under test)."""

    def __init__(self, f, n_in=8, n_out=6):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)
        self.f = f

    def forward(self, x):
        return self.f(self.lin(x))


class Two(nn.Module):
    def __init__(self, f, n=6):
        super().__init__()
        self.lin = nn.Linear(n, n)
        self.f = f

    def forward(self, a, b):
        return self.f(self.lin(a), b)


def seq(*mods):
    return nn.Sequential(*mods)


CASES = {
    "linear": lambda: (seq(nn.Linear(8, 6)), [(8,)]),
    "linear_no_bias": lambda: (seq(nn.Linear(8, 6, bias=False)), [(8,)]),
    "linear_on_sequence": lambda: (seq(nn.Linear(4, 3)), [(5, 4)]),
    "relu": lambda: (seq(nn.Linear(8, 6), nn.ReLU()), [(8,)]),
    "relu6": lambda: (seq(nn.Linear(8, 6), nn.ReLU6()), [(8,)]),
    "leaky_relu": lambda: (seq(nn.Linear(8, 6), nn.LeakyReLU(0.15)), [(8,)]),
    "elu": lambda: (seq(nn.Linear(8, 6), nn.ELU(0.8)), [(8,)]),
    "selu": lambda: (seq(nn.Linear(8, 6), nn.SELU()), [(8,)]),
    "gelu": lambda: (seq(nn.Linear(8, 6), nn.GELU()), [(8,)]),
    "gelu_tanh": lambda: (seq(nn.Linear(8, 6), nn.GELU(approximate="tanh")), [(8,)]),
    "sigmoid": lambda: (seq(nn.Linear(8, 6), nn.Sigmoid()), [(8,)]),
    "hardsigmoid": lambda: (Fn(lambda x: F.hardsigmoid(x * 1.0 if False else x)), [(8,)]),
    "tanh": lambda: (seq(nn.Linear(8, 6), nn.Tanh()), [(8,)]),
    "softmax": lambda: (seq(nn.Linear(8, 6), nn.Softmax(dim=-1)), [(8,)]),
    "softmax_dim1_rank2": lambda: (seq(nn.Softmax(dim=1)), [(3, 4)]),
    "softplus": lambda: (seq(nn.Linear(8, 6), nn.Softplus()), [(8,)]),
    "softsign": lambda: (seq(nn.Linear(8, 6), nn.Softsign()), [(8,)]),
    "silu": lambda: (seq(nn.Linear(8, 6), nn.SiLU()), [(8,)]),
    "exp": lambda: (Fn(torch.exp), [(8,)]),
    "hardtanh_0_6": lambda: (seq(nn.Linear(8, 6), nn.Hardtanh(0.0, 6.0)), [(8,)]),
    "batchnorm1d": lambda: (seq(nn.Linear(8, 6), nn.BatchNorm1d(6)), [(8,)]),
    "batchnorm1d_ncl": lambda: (seq(nn.BatchNorm1d(4)), [(4, 5)]),
    "batchnorm1d_no_affine": lambda: (seq(nn.BatchNorm1d(6, affine=False)), [(6,)]),
    "layernorm": lambda: (seq(nn.Linear(8, 6), nn.LayerNorm(6)), [(8,)]),
    "layernorm_two_axes": lambda: (seq(nn.LayerNorm([3, 4])), [(3, 4)]),
    "layernorm_no_affine": lambda: (seq(nn.LayerNorm(6, elementwise_affine=False)), [(6,)]),
    "flatten": lambda: (seq(nn.Flatten(), nn.Linear(12, 3)), [(3, 4)]),
    "flatten_partial": lambda: (seq(nn.Flatten(2)), [(2, 3, 4)]),
    "view": lambda: (Fn(lambda x: x.view(-1, 2, 3), 8, 6), [(8,)]),
    "reshape_unsqueeze": lambda: (Fn(lambda x: x.reshape(x.shape[0], 3, 2).unsqueeze(1), 8, 6), [(8,)]),
    "permute": lambda: (Fn(lambda x: x.permute(0, 2, 1), 4, 3), [(5, 4)]),
    "transpose": lambda: (Fn(lambda x: x.transpose(1, 2), 4, 3), [(5, 4)]),
    "cat": lambda: (Two(lambda a, b: torch.cat([a, b], dim=1)), [(6,), (6,)]),
    "cat_dim1_rank2": lambda: (Two(lambda a, b: torch.cat([a, b], dim=1), 4), [(2, 4), (3, 4)]),
    "add": lambda: (Two(lambda a, b: a + b), [(6,), (6,)]),
    "sub": lambda: (Two(lambda a, b: a - b), [(6,), (6,)]),
    "mul": lambda: (Two(lambda a, b: a * b), [(6,), (6,)]),
    "maximum": lambda: (Two(torch.maximum), [(6,), (6,)]),
    "minimum": lambda: (Two(torch.minimum), [(6,), (6,)]),
    "dropout": lambda: (seq(nn.Linear(8, 6), nn.Dropout(0.4), nn.Linear(6, 3)), [(8,)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_torch_op(case, cli, tmp_path):
    module, shapes = CASES[case]()
    randomize(module)
    example = tuple(torch.randn(3, *s) for s in shapes)
    path = tmp_path / "model.json"
    convert_torch(module, example, path)
    check_model(cli, "pytorch", case, path, torch_fn(module), shapes, tmp_path)


class Mixed(nn.Module):
    """Most ops in one model, for the file routes."""

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(8, 12)
        self.bn = nn.BatchNorm1d(12)
        self.ln = nn.LayerNorm(4)
        self.l2 = nn.Linear(4, 4)
        self.out = nn.Linear(12, 3)

    def forward(self, x):
        h = F.gelu(self.bn(self.l1(x)))
        h = self.ln(h.view(-1, 3, 4))
        h = F.silu(self.l2(h)).transpose(1, 2).flatten(1)
        return torch.softmax(self.out(h), -1)


def _cli(*args):
    """tools/trignet-convert, in this process (a new process would import torch again: seconds)."""
    from conftest import run_converter_cli
    return run_converter_cli(*args)


def test_pt2_file(cli, tmp_path):
    m = randomize(Mixed())
    ep = torch.export.export(m, (torch.randn(2, 8),))
    torch.export.save(ep, tmp_path / "mixed.pt2")
    r = _cli(tmp_path / "mixed.pt2", "-o", tmp_path / "m.json")
    assert r.returncode == 0, r.stderr
    check_model(cli, "pytorch", "file_pt2_mixed", tmp_path / "m.json", torch_fn(m), [(8,)], tmp_path)


@pytest.mark.parametrize("how", ["script", "trace"])
def test_torchscript_file(how, cli, tmp_path):
    m = randomize(Mixed())
    ts = torch.jit.script(m) if how == "script" else torch.jit.trace(m, torch.randn(2, 8))
    ts.save(str(tmp_path / "mixed.pt"))
    r = _cli(tmp_path / "mixed.pt", "-o", tmp_path / "m.json")
    assert r.returncode == 1 and "--input-shape" in r.stderr
    r = _cli(tmp_path / "mixed.pt", "-o", tmp_path / "m.json", "--input-shape", "8")
    assert r.returncode == 0, r.stderr
    check_model(cli, "pytorch", f"file_torchscript_{how}_mixed", tmp_path / "m.json", torch_fn(m), [(8,)], tmp_path)

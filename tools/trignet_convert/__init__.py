"""trignet-convert: Keras, PyTorch and ONNX models to trignet JSON (format v1).

Python API::

    from trignet_convert import convert_keras, convert_torch, convert_onnx, convert_file
    convert_keras(model, "model.json", labels=["g", "q", "W", "Z", "t"])
    convert_torch(module, (torch.randn(1, 16),), "model.json")
    convert_onnx("model.onnx", "model.json")

Every function returns the written model as a dict. Options: see
``trignet_convert.writer.Options`` and docs/converter.md.
"""

__version__ = "0.1.0"

from .errors import ConversionError, UnsupportedError  # noqa: E402
from .writer import Options, validate  # noqa: E402


def convert_keras(model, path=None, **kwargs):
    from .keras_route import convert_keras as f
    return f(model, path, **kwargs)


def convert_torch(module, example_inputs, path=None, **kwargs):
    from .torch_route import convert_torch as f
    return f(module, example_inputs, path, **kwargs)


def convert_onnx(model_or_path, path=None, **kwargs):
    from .onnx_route import convert_onnx as f
    return f(model_or_path, path, **kwargs)


def convert_file(model_path, path=None, **kwargs):
    """Chooses the route from the file name: .keras, .h5/.hdf5, .pt2, .pt/.pth (TorchScript), .onnx."""
    p = str(model_path).lower()
    if p.endswith((".keras", ".h5", ".hdf5")):
        from .keras_route import convert_keras_file as f
    elif p.endswith(".pt2"):
        from .torch_route import convert_exported_file as f
    elif p.endswith((".pt", ".pth", ".torchscript")):
        from .torch_route import convert_torchscript_file as f
    elif p.endswith(".onnx"):
        from .onnx_route import convert_onnx as f
    else:
        raise ConversionError(f"{model_path}: unknown model file type (expected .keras, .h5, .pt2, .pt or .onnx)")
    return f(model_path, path, **kwargs)


__all__ = ["convert_keras", "convert_torch", "convert_onnx", "convert_file", "Options", "validate",
           "ConversionError", "UnsupportedError", "__version__"]

"""trignet activations (docs/format.md, "Activations") and helpers shared by
the routes to build them."""

TRIGNET_ACTIVATIONS = (
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "sigmoid",
    "hard_sigmoid", "tanh", "softmax", "softplus", "softsign", "silu", "exponential",
)


def act(name, **params):
    """An activation value for a node config: a string, or an object with parameters."""
    if name not in TRIGNET_ACTIVATIONS:
        raise ValueError(f"not a trignet activation: {name}")
    params = {k: v for k, v in params.items() if v is not None}
    if not params:
        return name
    out = {"name": name}
    out.update({k: (float(v) if not isinstance(v, bool) else v) for k, v in params.items()})
    return out

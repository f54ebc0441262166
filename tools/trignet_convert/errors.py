"""Errors raised by the converter. Every refusal is a ConversionError whose
message names the layer or op, where it is in the model and what is supported."""


class ConversionError(Exception):
    """The model cannot be converted (bad option, unsupported layer, ...)."""


class UnsupportedError(ConversionError):
    """A layer, op or configuration that trignet does not (yet) support."""

    def __init__(self, what, where, supported, detail=None):
        self.what = what
        self.where = where
        self.supported = sorted(supported)
        msg = f"unsupported {what} at {where}"
        if detail:
            msg += f": {detail}"
        msg += "\n  supported: " + ", ".join(self.supported)
        super().__init__(msg)


def unsupported_config(what, where, detail):
    """A supported layer type used with a setting trignet cannot represent."""
    err = ConversionError(f"unsupported configuration of {what} at {where}: {detail}")
    return err

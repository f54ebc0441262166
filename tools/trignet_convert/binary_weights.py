"""The optional binary weight file of format v1 (docs/format.md, "Binary
weight file"): every weight's values move from its "data" array into one
little-endian float32 file next to the JSON, referenced by element offset and
pinned by SHA-256 and size. Large models then load in milliseconds instead of
seconds of JSON number parsing (docs/benchmarks.md, "Loading large models")."""

import copy
import hashlib
import json
from pathlib import Path

import numpy as np

from .errors import ConversionError


def weights_file_name(json_path):
    """model.json -> model.weights.bin (same directory)."""
    p = Path(json_path)
    return p.with_name(p.stem + ".weights.bin").name


def split_weights(model, json_path):
    """Returns a copy of the model dict whose weights reference a binary file,
    and the file's bytes. Values are float32 exactly as in the JSON."""
    model = copy.deepcopy(model)
    chunks, offset = [], 0
    for node in model["nodes"]:
        for name, w in node.get("weights", {}).items():
            if "data" not in w:
                raise ConversionError(f"node '{node['name']}' weight '{name}' has no \"data\" "
                                      "(already in a binary weight file?)")
            values = np.asarray(w["data"], dtype=np.float64).astype(np.float32)
            if not np.all(np.isfinite(values)):
                raise ConversionError(f"node '{node['name']}' weight '{name}': non-finite values")
            chunks.append(values.astype("<f4").tobytes())
            node["weights"][name] = {"shape": w["shape"], "offset": offset}
            offset += values.size
    blob = b"".join(chunks)
    model["weights_file"] = {"path": weights_file_name(json_path),
                             "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob)}
    return model, blob


def write_split(model, json_path, dumps):
    """Writes json_path and its weight file; returns the written model dict."""
    split, blob = split_weights(model, json_path)
    bin_path = Path(json_path).with_name(split["weights_file"]["path"])
    bin_path.write_bytes(blob)
    Path(json_path).write_text(dumps(split))
    return split


def join_weights(model, json_path):
    """The inverse: reads the weight file of a model dict loaded from json_path
    and returns a copy with "data" arrays (checks size and SHA-256 like the loader)."""
    model = copy.deepcopy(model)
    wf = model.pop("weights_file", None)
    if wf is None:
        return model
    blob = (Path(json_path).parent / wf["path"]).read_bytes()
    if len(blob) != wf["bytes"] or hashlib.sha256(blob).hexdigest() != wf["sha256"]:
        raise ConversionError(f"{wf['path']}: size or SHA-256 differs from what {json_path} declares")
    values = np.frombuffer(blob, dtype="<f4")
    for node in model["nodes"]:
        for name, w in node.get("weights", {}).items():
            if "offset" in w:
                n = int(np.prod(w["shape"], dtype=np.int64))
                data = values[w["offset"]:w["offset"] + n]
                node["weights"][name] = {"shape": w["shape"], "data": [float(v) for v in data]}
    return model


def repack(json_in, json_out, dumps):
    """An existing trignet JSON file -> the same model with a binary weight file."""
    with open(json_in) as f:
        model = json.load(f)
    if model.get("format") != "trignet":
        raise ConversionError(f"{json_in}: not a trignet model file")
    model = join_weights(model, json_in)
    return write_split(model, json_out, dumps)

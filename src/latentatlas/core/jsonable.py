"""Turn analysis results into plain JSON-serialisable python objects."""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

import numpy as np


def jsonable(obj: Any) -> Any:
    """Recursively convert numpy scalars/arrays, tuples, dataclasses and paths to python types.

    Dicts keep their structure (keys become strings, as JSON requires); arrays become (nested)
    lists; objects with a ``to_dict`` method are converted through it. Non-finite floats become
    ``None`` so the output is strict JSON (``json.dumps(..., allow_nan=False)`` accepts it).
    """
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return jsonable(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})
    if isinstance(obj, dict):
        return {_key(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj


def _key(k: Any) -> str:
    if isinstance(k, float | np.floating):
        return repr(float(k))
    if isinstance(k, np.generic):
        return str(k.item())
    return str(k)

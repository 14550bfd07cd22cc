"""Conditions on a store's attributes (``--where "Smiling=1,Eyeglasses=0"``) and class labels
(``--where label=3``): which z-points a conditional generator is fitted on and judged against.
numpy only.

A class label is kept as one +1/-1 attribute per class, ``label=<class>`` (``data.sources``);
``label=3`` selects the points whose ``label=3`` attribute is +1."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import numpy as np

from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.store import ZStore

__all__ = ["describe", "parse_where", "select", "where_mask"]

# Accepted spellings of an attribute's value; CelebA stores +1 (has it) / -1 (lacks it).
VALUES = {"1": 1, "+1": 1, "yes": 1, "true": 1, "0": -1, "-1": -1, "no": -1, "false": -1}

Condition = Mapping[str, int]


def parse_where(text: str) -> dict[str, int]:
    """``"Smiling=1,Eyeglasses=0"`` -> ``{"Smiling": 1, "Eyeglasses": -1}``.

    Values: 1 / +1 / yes / true (has the attribute) and 0 / -1 / no / false (lacks it). Any
    other value names a class: ``label=cat`` -> ``{"label=cat": 1}`` (the class attribute).
    """
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not name or not value:
            raise LatentAtlasError(f"--where: {part!r} is not NAME=VALUE (e.g. Smiling=1)")
        if value.lower() in VALUES:
            out[name] = VALUES[value.lower()]
        else:
            out[f"{name}={value}"] = 1
    if not out:
        raise LatentAtlasError("--where: no condition given (e.g. Smiling=1,Eyeglasses=0)")
    return out


def where_mask(store: ZStore, condition: Condition) -> np.ndarray:
    """``(n,)`` bool: the z-points whose attributes match every entry of ``condition``.

    Names match case-insensitively; points whose attribute is unknown (0) never match.
    """
    if store.attributes is None or not store.attribute_names:
        raise LatentAtlasError("--where needs a store with attributes; this one has none")
    index = {name.lower(): j for j, name in enumerate(store.attribute_names)}
    mask = np.ones(store.n, dtype=bool)
    for name, value in condition.items():
        j = index.get(name.lower())
        if j is None and value in (1, -1):
            # A class named 1 or 0 (label=1 with digit classes): parse_where read it as yes/no.
            j = index.get(f"{name}={1 if value == 1 else 0}".lower())
            value = 1
        head, sep, wanted = name.partition("=")
        if j is None and sep and head.lower() in index:
            raise LatentAtlasError(
                f"--where: {head}={wanted!r}: the value must be 1 (has it) or 0 (lacks it)"
            )
        classes = [
            n.partition("=")[2]
            for n in store.attribute_names
            if n.lower().startswith(f"{head.lower()}=")
        ]
        if j is None and sep and classes:
            raise LatentAtlasError(
                f"--where: the store has no class {name!r} ({head} is one of {', '.join(classes)})"
            )
        if j is None:
            close = difflib.get_close_matches(name, store.attribute_names, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise LatentAtlasError(f"--where: the store has no attribute {name!r}{hint}")
        mask &= np.asarray(store.attributes[:, j]) == value
    return mask


def select(store: ZStore, condition: Condition | str | None) -> ZStore:
    """The store restricted to the z-points that match (all splits), or the store itself."""
    if condition is None:
        return store
    if isinstance(condition, str):
        condition = parse_where(condition)
    keep = where_mask(store, condition)
    meta = {**store.meta, "where": describe(condition)}
    return ZStore(
        np.asarray(store.z[keep]),
        store.ids[keep],
        store.split[keep],
        None if store.attributes is None else np.asarray(store.attributes[keep]),
        list(store.attribute_names),
        meta,
    )


def describe(condition: Condition) -> str:
    """``{"Smiling": 1, "Eyeglasses": -1, "label=cat": 1}`` ->
    ``"Smiling=1,Eyeglasses=0,label=cat"``."""
    return ",".join(k if "=" in k else f"{k}={1 if v == 1 else 0}" for k, v in condition.items())

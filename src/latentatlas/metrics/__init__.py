"""Metrics comparing artificial z-points with real ones."""

from latentatlas.metrics.manifold import prdc

__all__ = ["prdc"]

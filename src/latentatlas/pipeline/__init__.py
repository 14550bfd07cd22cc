"""Training, encoding and decoding around the models of :mod:`latentatlas.models` (torch)."""

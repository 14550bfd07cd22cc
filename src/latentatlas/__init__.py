"""latentatlas: map where an autoencoder's data lives in its latent space, and generate from it.

Layers, from the bottom up:

- ``data``      images → a memory-mappable image cache (``latentatlas prepare``)
- ``model``     the plain convolutional autoencoder; ``train`` its training loop; ``encode``
- ``store``     z-point stores: ``(n, N)`` float arrays with ids/split/attributes (numpy only)
- ``cli``       a thin argparse layer over the above, one module per verb
"""

__version__ = "0.1.0"

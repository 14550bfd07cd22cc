"""latentatlas: map where an autoencoder's data lives in its latent space, and generate from it.

Layers, from the bottom up (the array layers never import torch):

- ``data/``        images → a memory-mappable image cache (``latentatlas prepare``)
- ``model``, ``train``, ``checkpoint``, ``encode``, ``decode``  the plain convolutional AE (torch)
- ``store``        z-point stores: ``(n, N)`` float arrays with ids/split/attributes (numpy)
- ``analysis/``    the atlas's analyses over ``(n, N)`` arrays; ``metrics/`` verdict metrics;
  ``generators/``  scikit-learn-style generators, paths, save/load
- ``faces``        the offline face detector; ``compare`` the verdict; ``sampling`` sample/path
- ``atlas/``, ``report/``  the HTML reports; ``pretrained/`` the bundled ``celeba64`` assets
- ``cli/``         a thin argparse layer over the above, one module per verb
"""

__version__ = "0.1.0"

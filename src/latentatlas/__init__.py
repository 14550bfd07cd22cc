"""latentatlas: map where an autoencoder's data lives in its latent space, and generate from it.

One package per concept, from the bottom up (docs/architecture.md draws the data's way through
them and says where to add what):

- ``core/``        errors, atomic outputs, checksums, validation, random streams, the HTML page
- ``data/``        images -> image cache; z-point stores; attribute conditions (numpy)
- ``models/``      the model interface, loaders, the own AE, training, encode/decode, the bundled
                   ``celeba64`` assets (torch)
- ``analysis/``    what a z-point distribution looks like: shape, radii, slices, voids, fragments
- ``metrics/``     pure metrics between generated and real points: Fréchet, MMD, PRDC, two-sample
- ``generators/``  scikit-learn-style generators, their registry, paths, sample/path runs;
                   ``learned/`` the torch priors
- ``verdict/``     ``compare``: judge every generator, rank them, the ladder, the verdict page;
                   ``judges/`` the image-space judges
- ``atlas/``       ``analyze``: the atlas report, one module a section; the demo
- ``explore/``     ``explore``: the browser explorer (HTTP in ``app``, geometry in ``space``)
- ``cli/``         one thin module a verb

``core``, ``data``, ``analysis``, ``metrics``, ``generators`` (outside ``learned/``), the
verdict's ranking and the atlas import no torch.
"""

__version__ = "0.1.0"

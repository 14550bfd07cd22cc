"""What goes in and comes out as data: images, image caches, z-point stores (numpy, no torch).

Modules:

    sources     where the images are: the CelebA layout or any folder, partitions, attributes
    prepare     decode, crop and resize images in parallel into an image cache
    cache       the image cache format (images.npy, ids, split, attributes)
    store       the z-point store format (z.npy, ids, split, attributes, checksums)
    conditions  --where conditions on a store's attributes
    synthetic   generated image sets (cartoon faces) for tests, benchmarks and the demo
"""

__all__ = ["cache", "conditions", "prepare", "sources", "store", "synthetic"]

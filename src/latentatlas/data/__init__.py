"""What goes in and comes out as data: images, image caches, z-point stores (numpy, no torch).

Modules:

    sources     where the images are: the CelebA layout or any folder, partitions, attributes
    prepare     decode, crop and resize images in parallel into an image cache
    cache       the image cache format (images.npy, ids, split, attributes)
    store       the z-point store format (z.npy or chunk files, ids, split, attributes,
                checksums)
    rows        big arrays a block of rows at a time: file reads, chunk files (ChunkedZ),
                the z writer of encode
    dask_arrays a store's z as a dask.array, one task per chunk (dask imported on first use)
    conditions  --where conditions on a store's attributes
    synthetic   generated image sets (cartoon faces) for tests, benchmarks and the demo
"""

__all__ = [
    "cache",
    "conditions",
    "dask_arrays",
    "prepare",
    "rows",
    "sources",
    "store",
    "synthetic",
]

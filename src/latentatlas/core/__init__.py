"""What every layer shares; imports nothing else of latentatlas, and no torch.

Modules:

    errors      LatentAtlasError: the one exception users see, as a one-line error (exit 2)
    atomic      atomic outputs (temp file + rename), locks, leftovers of killed runs
    files       sha256 checksums and their verification, safe .npy reading, memory maps
    validation  input checks for (n, N) arrays and parameters, as one-line ValueErrors
    rng         random states and per-purpose streams: same seed, same numbers
    jsonable    numpy values -> plain JSON data
    numbers     how a number is shown on every page and printout
    imaging     image grids and strips as PNG files
    html        the self-contained HTML page (sections, tables, embedded figures)
    open_hint   the command that opens a written report
    bundled     bundled names (celeba64) -> the files they stand for
"""

__all__ = [
    "atomic",
    "bundled",
    "errors",
    "files",
    "html",
    "imaging",
    "jsonable",
    "numbers",
    "open_hint",
    "rng",
    "validation",
]

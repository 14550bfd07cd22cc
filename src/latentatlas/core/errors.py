"""The one exception type users see as a clean, one-line error (exit code 2 from the CLI)."""


class LatentAtlasError(Exception):
    """Bad input or an unusable file: the message is shown to the user as is."""


class OutputExists(LatentAtlasError, FileExistsError):
    """An output is already there and may not be replaced (no ``--overwrite``).

    Also a ``FileExistsError``, which library callers have always caught."""

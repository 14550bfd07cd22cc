"""Decode, crop and resize images in parallel into an image cache (``latentatlas prepare``)."""

from __future__ import annotations

import io
import math
import os
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from latentatlas.core import atomic, files
from latentatlas.core.errors import LatentAtlasError
from latentatlas.data import cache as cache_format
from latentatlas.data.sources import Source, assign_split, find_source

# CelebA's usual face crop: the centred 140x140 box of a 178x218 aligned image.
CELEBA_FULL = (178, 218)
CELEBA_BOX = 140
MIN_SIDE = 8
MAX_PIXELS = 64_000_000

CROPS = ("auto", "celeba", "center", "none")


def crop_box(width: int, height: int, mode: str) -> tuple[float, float, float, float]:
    """The (left, top, right, bottom) box to keep, in pixels of a ``width`` x ``height`` image.

    ``celeba`` scales CelebA's 140x140 face box to the actual resolution, so the half-size
    subset (89x109) and the full set (178x218) give the same face framing.
    """
    if mode == "celeba":
        w = CELEBA_BOX * width / CELEBA_FULL[0]
        h = CELEBA_BOX * height / CELEBA_FULL[1]
    elif mode == "center":
        w = h = min(width, height)
    elif mode == "none":
        w, h = width, height
    else:
        raise ValueError(f"unknown crop mode {mode!r}")
    left, top = (width - w) / 2, (height - h) / 2
    return (left, top, left + w, top + h)


def image_crop(width: int, height: int) -> str:
    """The crop ``auto`` means for one image on its own: CelebA's face box for an image shaped
    like an aligned CelebA image (178x218 or a multiple within 2 %), else the centred square."""
    celeba = abs(width * CELEBA_FULL[1] - height * CELEBA_FULL[0]) <= 0.02 * height * CELEBA_FULL[0]
    return "celeba" if celeba else "center"


def load_image(
    path: Path | io.BytesIO, size: int, crop: str, max_pixels: int = MAX_PIXELS
) -> tuple[np.ndarray | None, str]:
    """One image (a file, or its bytes in memory) as a uint8 (size, size, 3) array, or None
    and the reason it was skipped; ``crop="auto"`` chooses per image (:func:`image_crop`)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size
                if width * height > max_pixels:
                    return None, f"decompression bomb? {width}x{height} pixels > {max_pixels}"
                if min(width, height) < MIN_SIDE:
                    return None, f"too small: {width}x{height} (sides must be >= {MIN_SIDE} px)"
                box = crop_box(width, height, image_crop(width, height) if crop == "auto" else crop)
                if im.format == "JPEG":
                    # Let libjpeg decode at a reduced scale when the box stays >= size pixels.
                    scale_w = size / (box[2] - box[0])
                    scale_h = size / (box[3] - box[1])
                    im.draft("RGB", (math.ceil(width * scale_w), math.ceil(height * scale_h)))
                    f = im.size[0] / width, im.size[1] / height
                    box = (box[0] * f[0], box[1] * f[1], box[2] * f[0], box[3] * f[1])
                im.load()
                im = _to_rgb(im)
                out = im.resize((size, size), Image.Resampling.LANCZOS, box=box)
                return np.asarray(out, dtype=np.uint8), ""
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        return None, f"decompression bomb: {e}"
    except Image.UnidentifiedImageError:
        if (path.stat().st_size if isinstance(path, Path) else path.getbuffer().nbytes) == 0:
            return None, "empty file (0 bytes)"
        return None, "not an image (unidentified format)"
    except (OSError, SyntaxError, ValueError) as e:
        return (
            None,
            f"corrupt or truncated: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
        )


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode == "RGB":
        return im
    if im.mode.startswith("I"):
        # 16-bit (I;16*, or I as Pillow opens 16-bit PNGs): convert("RGB") would clip every
        # value above 255 to white; scale 0-65535 down to 0-255 instead.
        wide = np.asarray(im, dtype=np.float64)
        grey = np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        # Composite on white: transparent pixels often hold arbitrary colours.
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return im.convert("RGB")


# The cache's images.npy, opened once per decoding process: workers write their rows straight
# into it, so no pixels are pickled between processes (that cost ~15 % of throughput).
_TARGET: np.ndarray | None = None


def _open_target(path: str | None) -> None:
    global _TARGET
    _TARGET = None if path is None else np.load(path, mmap_mode="r+")


# How often a decoding worker checks that the process that started it still runs.
PARENT_POLL_SECONDS = 0.25


def _start_worker(path: str, parent: int) -> None:
    """A decoding worker's start: open the cache, and end with the parent. A worker whose
    parent was killed (SIGKILL: no cleanup runs) would otherwise wait forever on its pipe,
    holding the deleted temporary images.npy mapped, so its disk space is never freed."""
    _open_target(path)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)  # reparented: the parent is gone


def _decode_into(job: tuple[int, Path, int, str]) -> str:
    """Decode file ``job[1]`` into row ``job[0]`` of the cache; '' or the reason it was skipped."""
    row, path, size, crop = job
    arr, reason = load_image(path, size, crop)
    if arr is not None:
        _TARGET[row] = arr
    return reason


def prepare(
    src: str | os.PathLike,
    out: str | os.PathLike,
    size: int = 64,
    crop: str = "auto",
    val_fraction: float = 0.1,
    workers: int | None = None,
    limit: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Build an image cache at ``out`` from the images under ``src``; returns its manifest.

    The cache appears at ``out`` only once complete. Unusable files are skipped and listed with
    their reason in the manifest; a source with no usable image is an error.
    """
    if size < MIN_SIDE:
        raise LatentAtlasError(f"--size must be at least {MIN_SIDE}, got {size}")
    if crop not in CROPS:
        raise LatentAtlasError(f"--crop must be one of {', '.join(CROPS)}, got {crop!r}")
    out = Path(out)
    atomic.check_new(out, overwrite, inputs=(src,))
    source = find_source(src)
    if limit is not None:
        source.files, source.ids = source.files[:limit], source.ids[:limit]
    n = len(source.files)
    atomic.check_space(out, n * size * size * 3, f"{n} images of {size}x{size} pixels")
    if crop == "auto":
        crop = "celeba" if source.layout == "celeba" else "center"
    workers = max(1, workers or os.cpu_count() or 1)

    with atomic.atomic_dir(out, overwrite=overwrite) as tmp:
        kept, skipped = _decode_all(source, tmp, size, crop, workers, progress)
        if not kept:
            reasons = "; ".join(f"{s['file']}: {s['reason']}" for s in skipped[:3])
            raise LatentAtlasError(f"{source.root}: no usable image ({reasons})")
        manifest = _write_metadata(tmp, source, kept, skipped, size, crop, val_fraction)
    return manifest


def _decode_all(
    source: Source, tmp: Path, size: int, crop: str, workers: int, progress: bool
) -> tuple[list[int], list[dict[str, str]]]:
    """Decode every file into ``tmp/images.npy`` in order, compacting out the skipped ones."""
    n = len(source.files)
    target = tmp / cache_format.IMAGES
    files.allocate_npy(target, np.uint8, (n, size, size, 3))
    jobs = [(i, p, size, crop) for i, p in enumerate(source.files)]
    kept: list[int] = []
    skipped: list[dict[str, str]] = []
    bar = tqdm(total=n, desc="prepare", unit="img", disable=not progress, smoothing=0.1)
    with _pool(workers, target) as pool:
        results = (
            pool.map(_decode_into, jobs, chunksize=_chunksize(n, workers))
            if pool
            else map(_decode_into, jobs)
        )
        try:
            for i, reason in enumerate(results):
                if reason:
                    skipped.append({"file": source.ids[i], "reason": reason})
                else:
                    kept.append(i)
                bar.update()
        except BrokenProcessPool:
            # multiprocessing.Pool would wait forever for the dead worker's results.
            raise LatentAtlasError(
                "a decoding worker died (killed, out of memory or a bus error); nothing was written"
            ) from None
        finally:
            bar.close()
    if skipped:
        images = np.load(target, mmap_mode="r+")
        for row, i in enumerate(kept):  # row <= i: moving rows up never overwrites unread ones
            if row != i:
                images[row] = images[i]
        images.flush()
        del images
        cache_format.truncate_npy(target, len(kept))
    return kept, skipped


def _chunksize(n: int, workers: int) -> int:
    # Large chunks amortise inter-process overhead (it halves throughput at 32 on 64px crops);
    # at least ~8 chunks per worker keep the progress bar moving and the load balanced.
    return max(16, min(256, n // (8 * workers)))


class _pool:
    """A process pool with the cache open in every worker, or None (decode inline, cache open
    here) for one worker; its workers are killed and the cache closed on any exit.

    ``ProcessPoolExecutor`` rather than ``multiprocessing.Pool``: when a worker dies, the first
    raises ``BrokenProcessPool`` where the second hangs.
    """

    def __init__(self, workers: int, target: Path) -> None:
        self.workers = workers
        self.target = str(target)
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessPoolExecutor | None:
        if self.workers > 1:
            context = get_context("fork" if os.name == "posix" else "spawn")
            self.pool = ProcessPoolExecutor(
                self.workers,
                context,
                initializer=_start_worker,
                initargs=(self.target, os.getpid()),
            )
        else:
            _open_target(self.target)
        return self.pool

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            # No terminate() before Python 3.14: stop the workers so none outlives an error.
            processes = list((getattr(self.pool, "_processes", None) or {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join()
        _open_target(None)


def _write_metadata(
    tmp: Path,
    source: Source,
    kept: list[int],
    skipped: list[dict[str, str]],
    size: int,
    crop: str,
    val_fraction: float,
) -> dict[str, Any]:
    ids = [source.ids[i] for i in kept]
    split, split_info = assign_split(ids, source.partition, val_fraction)
    np.save(tmp / cache_format.IDS, np.array(ids, dtype=str))
    np.save(tmp / cache_format.SPLIT, split)
    missing_attributes = 0
    if source.attribute_names:
        width = len(source.attribute_names)
        attrs = np.zeros((len(ids), width), dtype=np.int8)
        for row, image_id in enumerate(ids):
            values = source.attributes.get(image_id)
            if values is None:
                missing_attributes += 1
            else:
                attrs[row] = values
        np.save(tmp / cache_format.ATTRIBUTES, attrs)
    manifest = {
        "format": cache_format.FORMAT,
        "source": str(source.root.resolve()),
        "layout": source.layout,
        "crop": crop,
        "size": size,
        "n": len(ids),
        "n_files": len(source.files),
        "split": split_info,
        "attribute_names": source.attribute_names,
        "attributes_missing": missing_attributes,
        "skipped": skipped,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    manifest["sha256"] = files.checksums(tmp, cache_format.PAYLOAD)
    atomic.write_json(tmp / cache_format.MANIFEST, manifest)
    return manifest

"""Re-save checkpoints written before checkpoints recorded the sha256 of all they hold.

    python tools/resave_checkpoint.py PATH [PATH ...]

Each file (a checkpoint, a run folder, or an attribute-judge file) is loaded without the new
check, its old tensor checksum checked when it has one, and written back in place with a
``sha256`` over its config, metadata and tensors: the values are unchanged, so every number a
model gives stays as it was. A file of a bundle (``src/latentatlas/models/pretrained/NAME/``)
also gets its new sha256 into the bundle's ``MANIFEST.json``, and a bundled ``store.json`` that
recorded the old file's sha256 as its ``model_sha256`` records the new one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from latentatlas.core import atomic
from latentatlas.core.bundled import ROOT
from latentatlas.core.files import file_sha256
from latentatlas.models.checkpoint import checkpoint_path, resave_checkpoint


def _update_bundle(path: Path, old: str, new: str) -> None:
    """Put ``path``'s new sha256 into its bundle's manifest and stores."""
    bundle = ROOT / path.relative_to(ROOT).parts[0]
    manifest_file = bundle / "MANIFEST.json"
    manifest = json.loads(manifest_file.read_text())
    for sidecar in sorted(bundle.rglob("store.json")):
        meta = json.loads(sidecar.read_text())
        if meta.get("model_sha256") == old:
            meta["model_sha256"] = new
            atomic.write_json(sidecar, meta)
            manifest[sidecar.relative_to(bundle).as_posix()] = file_sha256(sidecar)
            print(f"  {sidecar}: model_sha256 updated")
    manifest[path.relative_to(bundle).as_posix()] = new
    atomic.write_json(manifest_file, manifest)
    print(f"  {manifest_file} updated")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="PATH")
    for given in parser.parse_args().paths:
        path = checkpoint_path(given).resolve()
        old = file_sha256(path)
        resave_checkpoint(path)
        new = file_sha256(path)
        print(f"{path}: re-saved (sha256 {old[:12]}… -> {new[:12]}…)")
        if ROOT in path.parents:
            _update_bundle(path, old, new)


if __name__ == "__main__":
    main()

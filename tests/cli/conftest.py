"""Fixtures of the fault tests: a small real file system and a folder of images."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults import mount_tmpfs, unmount

from latentatlas.data.synthetic import make_image_folder


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB file system (tmpfs); skipped, with the reason shown, where mounting is not
    allowed: every test that uses it has an injected-ENOSPC twin that always runs."""
    mnt = tmp_path / f"fs-{uuid.uuid4().hex[:6]}"
    if not mount_tmpfs(mnt, "2m"):
        pytest.skip("cannot mount a tmpfs here (not root, or not allowed); see the injected twin")
    try:
        yield mnt
    finally:
        unmount(mnt)


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("imgs") / "faces"
    make_image_folder(root, 24, size=(40, 48), seed=3)
    return root

"""The signing key's file: written whole or not at all, mode 0600 from its first byte, and never
written over another file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sandbox import transparency
from sandbox.config import Refused
from sandbox.transparency import write_key

KEY = "PRIVATE+KEY+example+01020304+AQID\n"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_key_is_written_whole_with_mode_0600_even_under_a_permissive_umask(tmp_path: Path) -> None:
    path = tmp_path / "registry.db.signing-key"
    old = os.umask(0)
    try:
        assert write_key(path, KEY)
    finally:
        os.umask(old)
    assert path.read_text() == KEY
    assert _mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left


def test_no_moment_exists_when_the_key_is_readable_by_others_or_partly_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the moment the name appears, the file behind it is complete and 0600; before, no file
    of that name exists and the temporary one is 0600 too."""
    path = tmp_path / "k.signing-key"
    seen: list[tuple[bool, int, str]] = []
    link = os.link

    def watching_link(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append((Path(dst).exists(), _mode(Path(src)), Path(src).read_text()))
        link(src, dst)
        seen.append((Path(dst).exists(), _mode(Path(dst)), Path(dst).read_text()))

    monkeypatch.setattr(transparency.os, "link", watching_link)
    old = os.umask(0)
    try:
        assert write_key(path, KEY)
    finally:
        os.umask(old)
    assert seen == [(False, 0o600, KEY), (True, 0o600, KEY)]


def test_an_existing_file_is_never_written_over(tmp_path: Path) -> None:
    path = tmp_path / "k.signing-key"
    path.write_text("the key in use\n")
    assert not write_key(path, KEY)
    assert path.read_text() == "the key in use\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_write_that_fails_leaves_no_key_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "k.signing-key"

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(transparency.os, "fsync", full_disk)
    with pytest.raises(Refused, match=r"cannot create the signing key .*No space left on device"):
        write_key(path, KEY)
    assert list(tmp_path.iterdir()) == []


def test_a_directory_that_cannot_be_written_is_a_clear_refusal(tmp_path: Path) -> None:
    with pytest.raises(Refused, match="cannot create the signing key") as refused:
        write_key(tmp_path / "missing" / "k.signing-key", KEY)
    assert "无法创建签名密钥" in refused.value.message_zh

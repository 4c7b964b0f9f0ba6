"""``manifest_digest``: what a source's manifest says, for keying journals (the CLI's)."""

from __future__ import annotations

import json
from pathlib import Path

from exportjob.stores import DirectoryStore, FsspecStore


def test_the_digest_follows_what_the_manifest_says_not_its_file(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    assert DirectoryStore(src, tmp_path / "out").manifest_digest == ""
    said = {"assets": {"a.pdf": {"company": "acme", "type": "Pdf"}}}
    (src / "exportjob.json").write_text(json.dumps(said))
    first = DirectoryStore(src, tmp_path / "out").manifest_digest
    assert len(first) == 16
    (src / "exportjob.json").write_text(json.dumps(said, indent=4))  # the same, spelled otherwise
    assert DirectoryStore(src, tmp_path / "out").manifest_digest == first
    assert DirectoryStore(src, tmp_path / "out", manifest=said).manifest_digest == first
    assert FsspecStore(src.as_uri(), "memory://digest/out").manifest_digest == first
    said["assets"]["a.pdf"]["company"] = "rival"
    assert DirectoryStore(src, tmp_path / "out", manifest=said).manifest_digest != first
    assert DirectoryStore(src, tmp_path / "out", manifest={"assets": {}}).manifest_digest == ""

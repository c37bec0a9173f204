"""Documents stored, not only hashed: upload, download re-checked against the hash, the limits,
who may fetch them, and the export that copies them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from click.testing import CliRunner

from sandbox.cli import main
from sandbox.documents import MAX_BYTES, DocumentStore
from tests.fixtures.api import Api
from tests.fixtures.api_world import World

PDF = b"%PDF-1.7\n" + "福州农商银行营业执照".encode() + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(api: Api, pid: str, who: str, content: bytes, name: str = "licence.pdf", **fields: str):
    data = {"kind": "business_licence", "title": "营业执照", **fields}
    return api.client.post(
        f"/api/v1/projects/{pid}/documents",
        headers=api.auth(who),
        data=data,
        files={"file": (name, content, "application/octet-stream")},
    )


def test_an_upload_is_stored_by_its_hash_and_recorded_with_size_and_type(world_api: Api, world: World) -> None:
    pid = world["draft"]
    r = upload(world_api, pid, "alice", PDF)
    assert r.status_code == 201, r.text
    sha = hashlib.sha256(PDF).hexdigest()
    assert r.headers["location"] == f"/api/v1/projects/{pid}/documents/{sha}"
    attached = [e for e in world_api.events(pid) if e["type"] == "DocumentAttached"][-1]["data"]
    assert attached["sha256"] == sha and attached["size"] == len(PDF) and attached["media_type"] == "application/pdf"
    got = world_api.get(f"/api/v1/projects/{pid}/documents/{sha}", "carol")
    assert got.status_code == 200 and got.content == PDF and got.headers["content-type"] == "application/pdf"


def test_a_download_is_refused_when_the_stored_file_changed(world_api: Api, world: World) -> None:
    pid = world["draft"]
    sha = hashlib.sha256(PNG).hexdigest()
    assert upload(world_api, pid, "alice", PNG, "scan.png").status_code == 201
    store: DocumentStore = world_api.app.state.documents
    store.path(sha).write_bytes(PNG + b"tampered")
    r = world_api.get(f"/api/v1/projects/{pid}/documents/{sha}", "carol")
    assert r.status_code == 409 and r.json()["code"] == "document_altered"


def test_what_is_not_a_pdf_or_an_image_or_is_too_large_is_refused_and_nothing_recorded(
    world_api: Api, world: World
) -> None:
    pid = world["draft"]
    head = world_api.head()
    for content in (b"MZ\x90\x00 an executable", b"", b"%PDF-" + b"0" * MAX_BYTES):
        r = upload(world_api, pid, "alice", content)
        assert r.status_code in (413, 422), r.text
        if r.status_code == 422:
            assert r.json()["errors"][0]["field"] == "file" and r.json()["errors"][0]["rule_zh"]
    assert world_api.head() == head


def test_another_organisation_never_learns_of_a_document(world_api: Api, world: World) -> None:
    pid = world["draft"]
    sha = hashlib.sha256(PDF).hexdigest()
    upload(world_api, pid, "alice", PDF)
    assert world_api.get(f"/api/v1/projects/{pid}/documents/{sha}", "olga").status_code == 404
    assert world_api.get(f"/api/v1/projects/{pid}/documents/{sha}", "pat").status_code == 403
    assert world_api.get(f"/api/v1/projects/{world.other_project}/documents/{sha}", "carol").status_code == 404


def test_a_document_a_project_does_not_hold_is_named_in_both_languages(world_api: Api, world: World) -> None:
    pid, sha = world["draft"], "0" * 64
    r = world_api.get(f"/api/v1/projects/{pid}/documents/{sha}", "alice")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert pid in r.json()["message_zh"] and sha in r.json()["message_zh"]
    assert pid in r.json()["message_en"] and sha in r.json()["message_en"]


def test_the_export_copies_every_attached_document_named_by_its_hash(
    world_api: Api, world: World, tmp_path: Path
) -> None:
    pid = world["draft"]
    upload(world_api, pid, "alice", PDF)
    db = Path(world_api.app.state.store.path)
    out = tmp_path / "docs"
    result = CliRunner().invoke(
        main, ["export", "--db", str(db), "--out", str(tmp_path / "x.jsonl"), "--documents", str(out)]
    )
    assert result.exit_code == 0, result.output
    sha = hashlib.sha256(PDF).hexdigest()
    assert (out / sha).read_bytes() == PDF
    assert sha in (tmp_path / "x.jsonl").read_text()


def _exported(world_api: Api, pid: str, tmp_path: Path) -> tuple[Path, Path, str]:
    """An export of the world with a PDF attached to ``pid``, and its documents directory."""
    upload(world_api, pid, "alice", PDF)
    db = Path(world_api.app.state.store.path)
    log, docs = tmp_path / "x.jsonl", tmp_path / "docs"
    result = CliRunner().invoke(main, ["export", "--db", str(db), "--out", str(log), "--documents", str(docs)])
    assert result.exit_code == 0, result.output
    return log, docs, hashlib.sha256(PDF).hexdigest()


def test_import_with_documents_copies_them_in_and_they_download(
    world_api: Api, world: World, tmp_path: Path
) -> None:
    log, docs, sha = _exported(world_api, world["draft"], tmp_path)
    restored = tmp_path / "restored.db"
    result = CliRunner().invoke(main, ["import", str(log), "--db", str(restored), "--documents", str(docs)])
    assert result.exit_code == 0, result.output
    assert "copied 1 document from" in result.output
    assert DocumentStore.beside(restored).read(sha) == PDF  # (read hashes it again)


def test_import_refuses_a_document_whose_bytes_do_not_match_its_name_and_keeps_nothing(
    world_api: Api, world: World, tmp_path: Path
) -> None:
    log, docs, sha = _exported(world_api, world["draft"], tmp_path)
    (docs / sha).write_bytes(PDF + b"altered")
    restored = tmp_path / "restored.db"
    result = CliRunner().invoke(main, ["import", str(log), "--db", str(restored), "--documents", str(docs)])
    assert result.exit_code == 1
    assert str(docs / sha) in result.output and "refused" in result.output and "拒绝导入" in result.output
    assert "Traceback" not in result.output
    assert not restored.exists() and not DocumentStore.beside(restored).root.exists()


def test_import_lists_a_document_with_no_file_in_the_directory(
    world_api: Api, world: World, tmp_path: Path
) -> None:
    log, docs, sha = _exported(world_api, world["draft"], tmp_path)
    (docs / sha).unlink()
    restored = tmp_path / "restored.db"
    result = CliRunner().invoke(main, ["import", str(log), "--db", str(restored), "--documents", str(docs)])
    assert result.exit_code == 0, result.output
    assert f"with no file in {docs}: " in result.output and sha in result.output
    assert DocumentStore.beside(restored).read(sha) is None

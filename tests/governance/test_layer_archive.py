"""Layer archives: deterministic zips, prebuilt zips and Lambda's size limits."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest

from governance import aws_formats, config, layer_archive
from governance.layer_archive import ContentError
from governance.problems import ConfigError, Problem
from tests.conftest import PROD_SECRET_KEYS, PROJECT_DIR


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project directory holding a copy of the monitoring layer's files."""
    shutil.copytree(
        PROJECT_DIR / "layers" / "monitoring",
        tmp_path / "layers" / "monitoring",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (tmp_path / "layers" / "monitoring" / "python" / "extra.py").write_text("X = 1\n")
    return tmp_path


def build(project: Path) -> layer_archive.LayerArchive:
    return layer_archive.from_directory(
        "org-monitoring", "1.0.0", project, "layers/monitoring"
    )


def test_same_files_same_zip(project: Path) -> None:
    first = build(project)
    second = build(project)
    assert first.data == second.data
    assert first.code_sha256 == second.code_sha256


def test_file_times_do_not_matter(project: Path) -> None:
    before = build(project)
    for path in (project / "layers").rglob("*"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
    after = build(project)
    assert after.code_sha256 == before.code_sha256
    assert after.data == before.data


def test_creation_order_does_not_matter(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    files = sorted((project / "layers").rglob("*.py"), reverse=True)
    for path in files:
        target = other / path.relative_to(project)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    assert build(other).code_sha256 == build(project).code_sha256


def test_read_bits_do_not_matter(project: Path) -> None:
    before = build(project)
    module = project / "layers/monitoring/python/extra.py"
    module.chmod(0o600)
    assert build(project).code_sha256 == before.code_sha256


def test_executable_bit_kept(project: Path) -> None:
    before = build(project)
    script = project / "layers/monitoring/python/extra.py"
    script.chmod(0o755)
    after = build(project)
    assert after.code_sha256 != before.code_sha256
    assert after.files_sha256 != before.files_sha256
    with zipfile.ZipFile(io.BytesIO(after.data or b"")) as archive:
        info = archive.getinfo("python/extra.py")
    assert stat.S_IMODE(info.external_attr >> 16) == 0o755


def test_content_change_changes_hash(project: Path) -> None:
    before = build(project)
    (project / "layers/monitoring/python/extra.py").write_text("X = 2\n")
    after = build(project)
    assert after.code_sha256 != before.code_sha256
    assert after.files_sha256 != before.files_sha256


def test_zip_entries_fixed(project: Path) -> None:
    data = build(project).data
    with zipfile.ZipFile(io.BytesIO(data or b"")) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert names == ["python/extra.py", "python/org_monitoring/__init__.py"]
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.create_system == 3
        assert stat.S_IMODE(info.external_attr >> 16) == 0o644
        assert info.compress_type == zipfile.ZIP_DEFLATED


def test_bytecode_left_out(project: Path) -> None:
    before = build(project)
    cache = project / "layers/monitoring/python/org_monitoring/__pycache__"
    cache.mkdir()
    (cache / "__init__.cpython-311.pyc").write_bytes(b"\x00bytecode")
    (project / "layers/monitoring/python/stale.pyc").write_bytes(b"\x00")
    assert build(project).code_sha256 == before.code_sha256


def test_code_hash_is_lambda_code_sha256(project: Path) -> None:
    archive = build(project)
    digest = hashlib.sha256(archive.data or b"").digest()
    assert archive.code_sha256 == base64.b64encode(digest).decode()
    assert archive.zip_size == len(archive.data or b"")


def test_symlink_rejected(project: Path) -> None:
    (project / "layers/monitoring/python/credentials").symlink_to("/etc/hostname")
    with pytest.raises(ContentError) as raised:
        build(project)
    assert raised.value.message == "layer content contains a symbolic link"
    assert raised.value.found == '"python/credentials"'


def test_prebuilt_zip_matches_directory(project: Path) -> None:
    built = build(project)
    (project / "dist").mkdir()
    (project / "dist/monitoring.zip").write_bytes(built.data or b"")
    prebuilt = layer_archive.from_zip_file(
        "org-monitoring", project, "dist/monitoring.zip"
    )
    assert prebuilt.code_sha256 == built.code_sha256
    assert prebuilt.files_sha256 == built.files_sha256
    assert prebuilt.unzipped_size == built.unzipped_size
    assert prebuilt.path == "dist/monitoring.zip"
    assert prebuilt.data is None


def test_recompressed_zip_keeps_files_hash(project: Path) -> None:
    built = build(project)
    stored = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(built.data or b"")) as source,
        zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as target,
    ):
        for info in source.infolist():
            target.writestr(info, source.read(info), compress_type=zipfile.ZIP_STORED)
    (project / "stored.zip").write_bytes(stored.getvalue())
    prebuilt = layer_archive.from_zip_file("org-monitoring", project, "stored.zip")
    assert prebuilt.code_sha256 != built.code_sha256
    assert prebuilt.files_sha256 == built.files_sha256


def test_write_archive_once(project: Path) -> None:
    archive = build(project)
    assert layer_archive.write_archive(archive, project) is True
    target = project / archive.path
    assert target.read_bytes() == archive.data
    os.utime(target, (1_000_000_000, 1_000_000_000))
    assert layer_archive.write_archive(archive, project) is False
    assert target.stat().st_mtime == 1_000_000_000


def layer_values(prod_values: dict[str, Any], content: dict[str, str]) -> None:
    prod_values["layers"][0]["content"] = content


def test_zip_over_direct_upload_limit(
    prod_values: dict[str, Any], tmp_path: Path
) -> None:
    # A sparse file: the size is checked before a byte is read.
    big = tmp_path / "big.zip"
    with big.open("wb") as handle:
        handle.truncate(aws_formats.LAYER_ZIP_MAX_BYTES + 1)
    shutil.copytree(PROJECT_DIR / "layers", tmp_path / "layers")
    layer_values(prod_values, {"zipFile": "big.zip"})
    with pytest.raises(ConfigError) as raised:
        config.load(prod_values, PROD_SECRET_KEYS, project_dir=tmp_path)
    assert raised.value.problems == [
        Problem(
            "layers[0].content.zipFile",
            "layer org-monitoring: zip is larger than Lambda's direct upload limit",
            "52,428,801 bytes (50.0 MiB)",
            "a zip of at most 52,428,800 bytes (50.0 MiB)",
            "remove files from the layer or split it into several layers",
        )
    ]


def test_directory_over_unzipped_limit(
    prod_values: dict[str, Any], tmp_path: Path
) -> None:
    shutil.copytree(PROJECT_DIR / "layers", tmp_path / "layers")
    with (tmp_path / "layers/monitoring/python/model.bin").open("wb") as handle:
        handle.truncate(aws_formats.LAYER_UNZIPPED_MAX_BYTES)
    layer_values(prod_values, {"directory": "layers/monitoring"})
    with pytest.raises(ConfigError) as raised:
        config.load(prod_values, PROD_SECRET_KEYS, project_dir=tmp_path)
    problem = raised.value.problems[0]
    assert problem.path == "layers[0].content.directory"
    assert problem.message == (
        "layer org-monitoring: content is larger than Lambda's unzipped limit"
    )
    assert problem.found.endswith(" bytes (250.0 MiB) unzipped")
    assert problem.allowed == (
        "at most 262,144,000 bytes (250.0 MiB) unzipped, a limit a function shares "
        "with its own code and its other layers"
    )


def test_built_zip_over_limit(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Building a real 50 MiB zip would be slow; the limit is lowered instead.
    monkeypatch.setattr(aws_formats, "LAYER_ZIP_MAX_BYTES", 100)
    with pytest.raises(ContentError) as raised:
        build(project)
    assert raised.value.message == (
        "layer org-monitoring: zip is larger than Lambda's direct upload limit"
    )
    assert raised.value.allowed == "a zip of at most 100 bytes (0.0 MiB)"


def test_prebuilt_zip_over_unzipped_limit(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = build(project).data or b""
    (project / "layer.zip").write_bytes(data)
    monkeypatch.setattr(aws_formats, "LAYER_UNZIPPED_MAX_BYTES", 10)
    with pytest.raises(ContentError) as raised:
        layer_archive.from_zip_file("org-monitoring", project, "layer.zip")
    assert raised.value.message == (
        "layer org-monitoring: content is larger than Lambda's unzipped limit"
    )


def test_not_a_zip(project: Path) -> None:
    (project / "layer.zip").write_text("not a zip")
    with pytest.raises(ContentError) as raised:
        layer_archive.from_zip_file("org-monitoring", project, "layer.zip")
    assert raised.value.message == "layer org-monitoring: the file is not a valid zip"
    assert raised.value.found == "File is not a zip file"


def test_empty_directory(project: Path) -> None:
    (project / "layers/empty").mkdir()
    with pytest.raises(ContentError) as raised:
        layer_archive.from_directory("empty", "1.0.0", project, "layers/empty")
    assert raised.value.message == "layer empty: the directory contains no files"

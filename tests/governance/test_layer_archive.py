"""Layer archives: deterministic zips, prebuilt zips and Lambda's size limits."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from governance import aws_formats, config, layer_archive, layers
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


# Content must come from inside the project, and be safe to extract.

DIRECTORY_ALLOWED = "a directory inside the project, relative to the project directory"
ZIP_ALLOWED = "a .zip file inside the project, relative to the project directory"
OUTSIDE_FIX = "move the content into the project and point the path at it"
LINK_FIX = (
    "replace the link with the directory or file it points to, or point the path "
    "at the real location inside the project"
)
REBUILD_FIX = "rebuild the zip, or use content.directory to let the program zip it"


@pytest.fixture
def stack_project(tmp_path: Path) -> Path:
    """A project directory with both sample layers, beside an `outside` directory.

    `outside/secretdir/token.txt` and `outside/secret.zip` stand for files
    elsewhere on the machine that must never be published.
    """
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR / "layers",
        project / "layers",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    outside = tmp_path / "outside"
    (outside / "secretdir").mkdir(parents=True)
    (outside / "secretdir" / "token.txt").write_text("secret\n")
    shutil.copy(PROJECT_DIR / "layers.lock.json", project / "layers.lock.json")
    return project


def load_problems(
    prod_values: dict[str, Any], project: Path, content: dict[str, str]
) -> list[Problem]:
    """Load the prod values with layers[0]'s content replaced; return the problems."""
    layer_values(prod_values, content)
    with pytest.raises(ConfigError) as raised:
        config.load(prod_values, PROD_SECRET_KEYS, project_dir=project)
    return raised.value.problems


def outside(project: Path, *parts: str) -> Path:
    return project.parent.joinpath("outside", *parts).resolve()


def test_directory_link_to_outside(
    prod_values: dict[str, Any], stack_project: Path
) -> None:
    (stack_project / "layers/evil").symlink_to(outside(stack_project, "secretdir"))
    problems = load_problems(prod_values, stack_project, {"directory": "layers/evil"})
    resolved = outside(stack_project, "secretdir")
    assert problems == [
        Problem(
            "layers[0].content.directory",
            "path resolves outside the project directory",
            f'"layers/evil", which resolves to "{resolved}"',
            DIRECTORY_ALLOWED,
            OUTSIDE_FIX,
        )
    ]


def test_link_partway_to_outside(
    prod_values: dict[str, Any], stack_project: Path
) -> None:
    (stack_project / "layers/mid").mkdir()
    (stack_project / "layers/mid/up").symlink_to(outside(stack_project))
    directory = "layers/mid/up/secretdir"
    problems = load_problems(prod_values, stack_project, {"directory": directory})
    resolved = outside(stack_project, "secretdir")
    assert problems == [
        Problem(
            "layers[0].content.directory",
            "path resolves outside the project directory",
            f'"{directory}", which resolves to "{resolved}"',
            DIRECTORY_ALLOWED,
            OUTSIDE_FIX,
        )
    ]


def test_dangling_link_to_outside(
    prod_values: dict[str, Any], stack_project: Path
) -> None:
    (stack_project / "layers/gone").symlink_to(outside(stack_project, "missing"))
    problems = load_problems(prod_values, stack_project, {"directory": "layers/gone"})
    assert [problem.message for problem in problems] == [
        "path resolves outside the project directory"
    ]


def test_directory_link_inside_project(
    prod_values: dict[str, Any], stack_project: Path
) -> None:
    # Even a link to a directory of the project is rejected, as documented.
    (stack_project / "layers/alias").symlink_to("monitoring")
    problems = load_problems(prod_values, stack_project, {"directory": "layers/alias"})
    assert problems == [
        Problem(
            "layers[0].content.directory",
            "path contains a symbolic link: layers/alias",
            '"layers/alias"',
            DIRECTORY_ALLOWED,
            LINK_FIX,
        )
    ]


def test_link_partway_inside_project(
    prod_values: dict[str, Any], stack_project: Path
) -> None:
    (stack_project / "lib").symlink_to("layers")
    problems = load_problems(
        prod_values, stack_project, {"directory": "lib/monitoring"}
    )
    assert problems == [
        Problem(
            "layers[0].content.directory",
            "path contains a symbolic link: lib",
            '"lib/monitoring"',
            DIRECTORY_ALLOWED,
            LINK_FIX,
        )
    ]


def test_zip_file_link_to_outside(
    prod_values: dict[str, Any], stack_project: Path
) -> None:
    secret_zip = outside(stack_project, "secret.zip")
    secret_zip.write_bytes(build(stack_project).data or b"")
    (stack_project / "dist").mkdir()
    (stack_project / "dist/layer.zip").symlink_to(secret_zip)
    problems = load_problems(prod_values, stack_project, {"zipFile": "dist/layer.zip"})
    assert problems == [
        Problem(
            "layers[0].content.zipFile",
            "path resolves outside the project directory",
            f'"dist/layer.zip", which resolves to "{secret_zip}"',
            ZIP_ALLOWED,
            OUTSIDE_FIX,
        )
    ]


def test_zip_file_link_inside_project(
    prod_values: dict[str, Any], stack_project: Path
) -> None:
    (stack_project / "real.zip").write_bytes(build(stack_project).data or b"")
    (stack_project / "link.zip").symlink_to("real.zip")
    problems = load_problems(prod_values, stack_project, {"zipFile": "link.zip"})
    assert problems == [
        Problem(
            "layers[0].content.zipFile",
            "path contains a symbolic link: link.zip",
            '"link.zip"',
            ZIP_ALLOWED,
            LINK_FIX,
        )
    ]


HIDDEN_CASES = [
    ("dotenv file", ".env", False, '".env"'),
    ("git directory", ".git", True, '".git"'),
    (
        "nested hidden file",
        "python/org_monitoring/.secrets",
        False,
        '"python/org_monitoring/.secrets"',
    ),
]


@pytest.mark.parametrize(
    ("relative", "is_directory", "found"),
    [pytest.param(*case[1:], id=case[0]) for case in HIDDEN_CASES],
)
def test_hidden_content_rejected(
    prod_values: dict[str, Any],
    stack_project: Path,
    relative: str,
    is_directory: bool,
    found: str,
) -> None:
    path = stack_project / "layers/monitoring" / relative
    if is_directory:
        path.mkdir()
        (path / "config").write_text("[core]\n")
    else:
        path.write_text("AWS_SECRET_ACCESS_KEY=x\n")
    problems = load_problems(
        prod_values, stack_project, {"directory": "layers/monitoring"}
    )
    assert problems == [
        Problem(
            "layers[0].content.directory",
            "layer content contains a hidden file or directory",
            found,
            "files and directories whose names do not start with a dot",
            "remove it from the layer directory; if the layer needs it, build the "
            "zip yourself and set content.zipFile",
        )
    ]


def zip_of(*entries: tuple[str | zipfile.ZipInfo, bytes]) -> bytearray:
    """Return a deflate zip of (name or ZipInfo, bytes) entries, to be patched."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name)
            archive.writestr(info, data, compress_type=info.compress_type or 8)
    return bytearray(buffer.getvalue())


MODULE = ("python/a.py", b"x = 1\n" * 50)


def with_header(offset_local: int, offset_central: int, value: int) -> bytes:
    """Return a one-entry zip with a 2-byte header field set in both headers.

    The local file header keeps flags at byte 6 and the method at byte 8; the
    central directory header keeps them at bytes 8 and 10 (APPNOTE 4.3.7, 4.3.12).
    """
    data = zip_of(MODULE)
    central = data.find(b"PK\x01\x02")
    data[offset_local : offset_local + 2] = value.to_bytes(2, "little")
    data[central + offset_central : central + offset_central + 2] = value.to_bytes(
        2, "little"
    )
    return bytes(data)


def corrupt_stream() -> bytes:
    data = zip_of(MODULE)
    start = 30 + len(MODULE[0])  # fixed local header, then the name, no extra
    data[start : start + 4] = b"\xff\xff\xff\xff"
    return bytes(data)


def symlink_entry() -> bytes:
    info = zipfile.ZipInfo("python/credentials")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return bytes(zip_of(MODULE, (info, b"/home/user/.aws/credentials")))


def bzip2_zip() -> bytes:
    info = zipfile.ZipInfo(MODULE[0])
    info.compress_type = zipfile.ZIP_BZIP2
    return bytes(zip_of((info, MODULE[1])))


def unsafe_name(name: str) -> tuple[Callable[[], bytes], str, str]:
    return (
        lambda: bytes(zip_of(MODULE, (name, b"x"))),
        "layer org-monitoring: zip entry name is not a relative path inside the zip",
        json.dumps(name),
    )


ZIP_CASES: list[tuple[str, Callable[[], bytes], str, str, str, str]] = [
    (
        "corrupt deflate stream",
        corrupt_stream,
        "layer org-monitoring: the file is not a valid zip",
        "Error -3 while decompressing data: invalid block type",
        "a zip archive",
        REBUILD_FIX,
    ),
    (
        "encrypted flag",
        lambda: with_header(6, 8, 0x1),
        "layer org-monitoring: zip entry is encrypted",
        '"python/a.py"',
        "unencrypted entries, since Lambda has no password to extract them",
        "rebuild the zip without a password",
    ),
    (
        "unknown compression method",
        lambda: with_header(8, 10, 99),
        "layer org-monitoring: zip entry uses an unsupported compression method",
        '"python/a.py", compression method 99',
        "entries stored or compressed with deflate (methods 0 and 8)",
        "rebuild the zip with deflate, or use content.directory",
    ),
    (
        "bzip2 compression",
        bzip2_zip,
        "layer org-monitoring: zip entry uses an unsupported compression method",
        '"python/a.py", compression method 12',
        "entries stored or compressed with deflate (methods 0 and 8)",
        "rebuild the zip with deflate, or use content.directory",
    ),
    (
        "patched data flag",
        lambda: with_header(6, 8, 0x20),
        "layer org-monitoring: the zip uses a feature that cannot be read",
        "compressed patched data (flag bit 5)",
        "a zip whose entries are stored or compressed with deflate, unencrypted",
        REBUILD_FIX,
    ),
    (
        "empty zip",
        lambda: bytes(zip_of()),
        "layer org-monitoring: the zip contains no files",
        '"layer.zip"',
        "a zip with at least one file, for example python/<module>.py",
        "rebuild the zip with the layer's files",
    ),
    (
        "directories only",
        lambda: bytes(zip_of(("python/", b""))),
        "layer org-monitoring: the zip contains no files",
        '"layer.zip"',
        "a zip with at least one file, for example python/<module>.py",
        "rebuild the zip with the layer's files",
    ),
    (
        "symbolic link entry",
        symlink_entry,
        "layer org-monitoring: zip entry is a symbolic link",
        '"python/credentials"',
        "regular files and directories",
        "rebuild the zip with the file the link points to, or use content.directory",
    ),
    *(
        (
            f"entry name {label}",
            *unsafe_name(name),
            "entry names relative to the zip root, with / separators and no .. part",
            REBUILD_FIX,
        )
        for label, name in [
            ("climbing with ..", "../../etc/cron.d/job"),
            ("climbing inside", "python/../../x.py"),
            ("absolute", "/etc/profile.d/x.sh"),
            ("with backslashes", "python\\..\\..\\x.py"),
            ("with a drive", "C:/x.py"),
            ("empty", ""),
        ]
    ),
]


@pytest.mark.parametrize(
    ("make", "message", "found", "allowed", "fix"),
    [pytest.param(*case[1:], id=case[0]) for case in ZIP_CASES],
)
def test_invalid_prebuilt_zip(
    prod_values: dict[str, Any],
    stack_project: Path,
    make: Callable[[], bytes],
    message: str,
    found: str,
    allowed: str,
    fix: str,
) -> None:
    (stack_project / "layer.zip").write_bytes(make())
    problems = load_problems(prod_values, stack_project, {"zipFile": "layer.zip"})
    assert problems == [
        Problem("layers[0].content.zipFile", message, found, allowed, fix)
    ]


def test_valid_prebuilt_zip_accepted(
    prod_values: dict[str, Any], stack_project: Path
) -> None:
    # The crafted zips differ from this one only in the field each case changes.
    (stack_project / "layer.zip").write_bytes(bytes(zip_of(MODULE)))
    layer_values(prod_values, {"zipFile": "layer.zip"})
    organization = config.load(prod_values, PROD_SECRET_KEYS, project_dir=stack_project)
    assert organization.layers[0].archive.path == "layer.zip"


# The build path: the program writes zips there, and must write nowhere else.


def snapshot(root: Path, skip: str | None = None) -> dict[str, tuple[str, Any]]:
    """Map every path under root, except `skip` and below, to its kind and content."""
    entries: dict[str, tuple[str, Any]] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if skip is not None and (relative == skip or relative.startswith(f"{skip}/")):
            continue
        if path.is_symlink():
            entries[relative] = ("link", os.readlink(path))
        elif path.is_file():
            entries[relative] = ("file", (path.read_bytes(), path.stat().st_mtime_ns))
        else:
            entries[relative] = ("directory", None)
    return entries


@pytest.fixture
def planted_build(stack_project: Path) -> Path:
    """A project with a committed `build -> evil` link and a planted partial file.

    `evil/layers/.org-monitoring-1.0.0.zip.partial` links to `victim.txt`, which
    lies outside the project: writing through it would overwrite the victim.
    """
    victim = stack_project.parent / "victim.txt"
    victim.write_text("important\n")
    (stack_project / "evil/layers").mkdir(parents=True)
    partial = stack_project / "evil/layers/.org-monitoring-1.0.0.zip.partial"
    partial.symlink_to(victim)
    (stack_project / "build").symlink_to("evil")
    return stack_project


BUILD_ALLOWED = (
    "a path inside the project without symbolic links; the program creates "
    "build/layers itself"
)


def test_build_link_rejected_on_load(
    prod_values: dict[str, Any], planted_build: Path
) -> None:
    with pytest.raises(ConfigError) as raised:
        config.load(prod_values, PROD_SECRET_KEYS, project_dir=planted_build)
    assert raised.value.problems == [
        Problem(
            f"build/layers/{name}-1.0.0.zip",
            "cannot write the layer zip: build is a symbolic link",
            '"build", a link to "evil"',
            BUILD_ALLOWED,
            "delete the link build and run again",
        )
        for name in ("org-monitoring", "workload-retry")
    ]


def test_build_link_never_written(planted_build: Path) -> None:
    before = snapshot(planted_build.parent)
    archive = build(planted_build)
    with pytest.raises(ContentError) as raised:
        layer_archive.write_archive(archive, planted_build)
    assert (
        raised.value.message == "cannot write the layer zip: build is a symbolic link"
    )
    assert (planted_build.parent / "victim.txt").read_text() == "important\n"
    assert snapshot(planted_build.parent) == before


def test_planted_partial_link_not_followed(stack_project: Path) -> None:
    # A real build directory, but a link planted at the temporary file's name.
    victim = stack_project.parent / "victim.txt"
    victim.write_text("important\n")
    (stack_project / "build/layers").mkdir(parents=True)
    partial = stack_project / "build/layers/.org-monitoring-1.0.0.zip.partial"
    partial.symlink_to(victim)
    before = snapshot(stack_project.parent, skip="project/build")
    archive = build(stack_project)
    assert layer_archive.write_archive(archive, stack_project) is True
    assert snapshot(stack_project.parent, skip="project/build") == before
    assert victim.read_text() == "important\n"
    assert (stack_project / archive.path).read_bytes() == archive.data
    assert not (stack_project / archive.path).is_symlink()
    assert not os.path.lexists(partial)


BUILD_PATH_CASES = [
    (
        "layers directory is a link",
        "build/layers",
        "link",
        "build/layers",
        "is a symbolic link",
    ),
    (
        "zip is a link",
        "build/layers/org-monitoring-1.0.0.zip",
        "link",
        "build/layers/org-monitoring-1.0.0.zip",
        "is a symbolic link",
    ),
    ("build is a file", "build", "file", "build", "is not a directory"),
    (
        "zip is a directory",
        "build/layers/org-monitoring-1.0.0.zip",
        "directory",
        "build/layers/org-monitoring-1.0.0.zip",
        "is not a regular file",
    ),
]


@pytest.mark.parametrize(
    ("relative", "kind", "shown", "problem"),
    [pytest.param(*case[1:], id=case[0]) for case in BUILD_PATH_CASES],
)
def test_unsafe_build_path(
    stack_project: Path, relative: str, kind: str, shown: str, problem: str
) -> None:
    victim = stack_project.parent / "victim"
    victim.mkdir()
    (victim / "org-monitoring-1.0.0.zip").write_text("important\n")
    path = stack_project / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "link":
        target = victim if relative.endswith("layers") else victim / path.name
        path.symlink_to(target)
    elif kind == "file":
        path.write_text("not a directory\n")
    else:
        path.mkdir()
    before = snapshot(stack_project.parent, skip="project/build")
    with pytest.raises(ContentError) as raised:
        layer_archive.write_archive(build(stack_project), stack_project)
    assert raised.value.message == f"cannot write the layer zip: {shown} {problem}"
    assert raised.value.allowed == BUILD_ALLOWED
    assert snapshot(stack_project.parent, skip="project/build") == before
    assert (victim / "org-monitoring-1.0.0.zip").read_text() == "important\n"


def test_write_archives_reports_problems(
    prod_values: dict[str, Any], stack_project: Path
) -> None:
    # A link created after validation is still caught when the program writes.
    organization = config.load(prod_values, PROD_SECRET_KEYS, project_dir=stack_project)
    victim = stack_project.parent / "victim"
    victim.mkdir()
    (stack_project / "build").symlink_to(victim)
    with pytest.raises(ConfigError) as raised:
        layers.write_archives(organization.layers, stack_project)
    assert [problem.path for problem in raised.value.problems] == [
        "build/layers/org-monitoring-1.0.0.zip",
        "build/layers/workload-retry-1.0.0.zip",
    ]
    assert list(victim.iterdir()) == []

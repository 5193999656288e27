"""Layer content: deterministic zips of project directories, and prebuilt zips.

A layer's content is a directory in the project, which is zipped here, or a zip file
in the project, which is uploaded as it is. Either way the result is a
`LayerArchive`: the path of the zip that `pulumi up` uploads, relative to the project
directory, and two hashes.

- `code_sha256` is the base64 SHA-256 of the zip bytes, the value Lambda reports as
  CodeSha256 and the value the program passes as `source_code_hash`.
- `files_sha256` hashes the files inside the zip (name, executable bit, bytes), so
  it does not change when the same files are compressed differently.

The zip built from a directory is deterministic. Entries are sorted by path, and
every timestamp is 1980-01-01 00:00, the earliest a zip can store. Permissions are
0644, or 0755 for a file its owner may execute (the only mode bit git records).
Compression is deflate at level 9. `__pycache__` directories and `*.pyc` files
are left out because their bytes depend on the machine and on when Python last ran.

NOTE: deflate output depends on the zlib library Python was built with: zlib and
zlib-ng give different bytes for the same files. `files_sha256` lets the lock file
tell that case apart from a change of content (see `layer_lock`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from governance import aws_formats
from governance.problems import show

# Directory of the zips the program builds, relative to the project directory.
BUILD_DIR = PurePosixPath("build/layers")

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
EXECUTABLE_MODE = 0o755
UNIX_SYSTEM = 3
COMPRESS_LEVEL = 9

EXCLUDED_DIRECTORIES = frozenset({"__pycache__"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")


class ContentError(Exception):
    """Layer content that cannot be published, with what is allowed and the fix."""

    def __init__(self, message: str, found: str, allowed: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.found = found
        self.allowed = allowed
        self.fix = fix


@dataclass(frozen=True)
class LayerArchive:
    """The zip a layer version is published from.

    `path` is relative to the project directory, in POSIX form. `data` contains the
    bytes of a zip built from a directory until `write_archive` writes them at
    `path`; it is None for a prebuilt zip, which is already there.
    """

    path: str
    code_sha256: str
    files_sha256: str
    zip_size: int
    unzipped_size: int
    data: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class _Entry:
    name: str
    mode: int
    data: bytes


def _b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def files_digest(entries: Iterable[tuple[str, bool, bytes]]) -> str:
    """Hash files by name, executable bit and bytes, whatever their order or zip.

    Returns base64 SHA-256 over one line per file, sorted by name.
    """
    lines = sorted(
        f"{name}\0{int(executable)}\0{hashlib.sha256(data).hexdigest()}\n"
        for name, executable, data in entries
    )
    return _b64_sha256("".join(lines).encode("utf-8"))


def _mib(size: int) -> str:
    return f"{size:,} bytes ({size / 1024 / 1024:.1f} MiB)"


def _check_unzipped(layer: str, size: int) -> None:
    limit = aws_formats.LAYER_UNZIPPED_MAX_BYTES
    if size > limit:
        raise ContentError(
            f"layer {layer}: content is larger than Lambda's unzipped limit",
            f"{_mib(size)} unzipped",
            f"at most {_mib(limit)} unzipped, a limit a function shares with its "
            "own code and its other layers",
            "remove files from the layer or split it into several layers",
        )


def _check_zipped(layer: str, size: int) -> None:
    limit = aws_formats.LAYER_ZIP_MAX_BYTES
    if size > limit:
        raise ContentError(
            f"layer {layer}: zip is larger than Lambda's direct upload limit",
            _mib(size),
            f"a zip of at most {_mib(limit)}",
            "remove files from the layer or split it into several layers",
        )


def _collect(directory: Path) -> list[tuple[str, Path]]:
    """List the files to zip as (name in the zip, path), sorted by name."""
    files: list[tuple[str, Path]] = []
    for root, directories, names in os.walk(directory):
        root_path = Path(root)
        for name in list(directories):
            path = root_path / name
            if path.is_symlink():
                raise _symlink_error(directory, path)
            if name in EXCLUDED_DIRECTORIES:
                directories.remove(name)
        for name in names:
            path = root_path / name
            if path.is_symlink():
                raise _symlink_error(directory, path)
            if name.endswith(EXCLUDED_SUFFIXES) or not path.is_file():
                continue
            files.append((path.relative_to(directory).as_posix(), path))
    return sorted(files)


def _symlink_error(directory: Path, path: Path) -> ContentError:
    # A link could pull files from outside the project into a layer shared with
    # the whole organization, so only regular files are zipped.
    return ContentError(
        "layer content contains a symbolic link",
        show(path.relative_to(directory).as_posix()),
        "regular files and directories",
        "replace the link with the file it points to, or remove it",
    )


def build_zip(layer: str, directory: Path) -> tuple[bytes, str, int]:
    """Zip a directory deterministically.

    Returns the zip bytes, the files digest and the unzipped size. Raises
    ContentError for a symbolic link, an empty directory or content over Lambda's
    size limits.
    """
    files = _collect(directory)
    if not files:
        raise ContentError(
            f"layer {layer}: the directory contains no files",
            show(directory.name),
            "a directory with at least one file, for example python/<module>.py",
            "add the layer's files, or point content.directory at them",
        )
    _check_unzipped(layer, sum(path.stat().st_size for _, path in files))
    entries = []
    for name, path in files:
        executable = bool(path.stat().st_mode & stat.S_IXUSR)
        entries.append(
            _Entry(
                name=name,
                mode=EXECUTABLE_MODE if executable else FILE_MODE,
                data=path.read_bytes(),
            )
        )
    unzipped = sum(len(entry.data) for entry in entries)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.name, date_time=FIXED_DATE_TIME)
            info.create_system = UNIX_SYSTEM
            info.external_attr = (stat.S_IFREG | entry.mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entry.data, compresslevel=COMPRESS_LEVEL)
    data = buffer.getvalue()
    _check_zipped(layer, len(data))
    digest = files_digest(
        (entry.name, entry.mode == EXECUTABLE_MODE, entry.data) for entry in entries
    )
    return data, digest, unzipped


def inspect_zip(layer: str, path: Path) -> tuple[str, str, int, int]:
    """Check a prebuilt zip and hash it.

    Returns the code hash, the files digest, the zip size and the unzipped size.
    Raises ContentError for a file that is not a zip or is over Lambda's limits.
    The zip size is checked before the file is read.
    """
    size = path.stat().st_size
    _check_zipped(layer, size)
    data = path.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            _check_unzipped(layer, sum(info.file_size for info in members))
            entries = [
                (
                    info.filename,
                    bool((info.external_attr >> 16) & stat.S_IXUSR),
                    archive.read(info),
                )
                for info in members
            ]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
        raise ContentError(
            f"layer {layer}: the file is not a valid zip",
            str(error),
            "a zip archive",
            "rebuild the zip, or use content.directory to let the program zip it",
        ) from None
    unzipped = sum(len(data) for _, _, data in entries)
    return _b64_sha256(data), files_digest(entries), size, unzipped


def archive_path(layer: str, version: str) -> str:
    """Return where the zip built for a layer version goes, relative to the project."""
    return str(BUILD_DIR / f"{layer}-{version}.zip")


def from_directory(
    layer: str, version: str, project_dir: Path, directory: str
) -> LayerArchive:
    """Build the archive of a layer whose content is a project directory.

    Raises ContentError when the directory is missing or its content is invalid.
    """
    source = project_dir / directory
    if not source.is_dir():
        raise ContentError(
            "directory not found" if not source.exists() else "not a directory",
            show(directory),
            "a directory inside the project, relative to the project directory",
            "create the directory or correct the path",
        )
    data, digest, unzipped = build_zip(layer, source)
    return LayerArchive(
        path=archive_path(layer, version),
        code_sha256=_b64_sha256(data),
        files_sha256=digest,
        zip_size=len(data),
        unzipped_size=unzipped,
        data=data,
    )


def from_zip_file(layer: str, project_dir: Path, zip_file: str) -> LayerArchive:
    """Describe the archive of a layer whose content is a prebuilt zip file.

    Raises ContentError when the file is missing, not a zip or too large.
    """
    source = project_dir / zip_file
    if not source.is_file():
        raise ContentError(
            "zip file not found" if not source.exists() else "not a file",
            show(zip_file),
            "a .zip file inside the project, relative to the project directory",
            "build the zip first or correct the path",
        )
    code_sha256, digest, size, unzipped = inspect_zip(layer, source)
    return LayerArchive(
        path=PurePosixPath(zip_file).as_posix(),
        code_sha256=code_sha256,
        files_sha256=digest,
        zip_size=size,
        unzipped_size=unzipped,
    )


def write_archive(archive: LayerArchive, project_dir: Path) -> bool:
    """Write a built zip at its path in the project; return whether a file changed.

    A zip whose bytes are already there is left alone, so its modification time
    does not change. A prebuilt zip (no data) is never written. The file is
    replaced atomically, so a reader sees the old zip or the new one.
    """
    if archive.data is None:
        return False
    target = project_dir / archive.path
    if target.is_file() and target.read_bytes() == archive.data:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(archive.data)
    os.replace(partial, target)
    return True

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

Content must come from inside the project. A configured path that resolves outside
the project directory, or passes through a symbolic link, is rejected, and so is a
symbolic link inside a layer directory. A layer directory may not be the project
directory itself or lie inside `.git`. It may not contain hidden files or
directories (names starting with a dot, such as `.env`), because secrets are kept
in such files and a layer is readable by every account it is shared with.

NOTE: deflate output depends on the zlib library Python was built with: zlib and
zlib-ng give different bytes for the same files. `files_sha256` lets the lock file
tell that case apart from a change of content (see `layer_lock`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import stat
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

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

# Compression methods accepted in a prebuilt zip: the two this program writes.
# Lambda's documentation does not say which other methods it can extract.
ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
# General purpose bit 0 of a zip entry: the entry is encrypted (APPNOTE 4.4.4).
ZIP_ENCRYPTED_FLAG = 0x1


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
    """List the files to zip as (name in the zip, path), sorted by name.

    The walk is sorted, so the first link or hidden name reported is the same on
    every machine.
    """
    files: list[tuple[str, Path]] = []
    for root, directories, names in os.walk(directory):
        root_path = Path(root)
        directories.sort()
        for name in list(directories):
            path = root_path / name
            if path.is_symlink():
                raise _symlink_error(directory, path)
            if name.startswith("."):
                raise _hidden_error(directory, path)
            if name in EXCLUDED_DIRECTORIES:
                directories.remove(name)
        for name in sorted(names):
            path = root_path / name
            if path.is_symlink():
                raise _symlink_error(directory, path)
            if name.startswith("."):
                raise _hidden_error(directory, path)
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


def _hidden_error(directory: Path, path: Path) -> ContentError:
    # Hidden files are where secrets and tool state live (.env, .git, .aws), and a
    # layer is readable by every account it is shared with.
    return ContentError(
        "layer content contains a hidden file or directory",
        show(path.relative_to(directory).as_posix()),
        "files and directories whose names do not start with a dot",
        "remove it from the layer directory; if the layer needs it, build the zip "
        "yourself and set content.zipFile",
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
    Raises ContentError for a file that is not a readable zip, a zip with no file
    or with an entry that is unsafe to extract, and a zip over Lambda's limits.
    The zip size is checked before the file is read.
    """
    size = path.stat().st_size
    _check_zipped(layer, size)
    data = path.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            _check_entries(layer, path, infos)
            members = [info for info in infos if not info.is_dir()]
            _check_unzipped(layer, sum(info.file_size for info in members))
            entries = [
                (
                    info.filename,
                    bool((info.external_attr >> 16) & stat.S_IXUSR),
                    archive.read(info),
                )
                for info in members
            ]
    except NotImplementedError as error:
        # zipfile raises this for flags it cannot read, such as patched data.
        raise ContentError(
            f"layer {layer}: the zip uses a feature that cannot be read",
            str(error),
            "a zip whose entries are stored or compressed with deflate, unencrypted",
            "rebuild the zip, or use content.directory to let the program zip it",
        ) from None
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        zlib.error,
        ValueError,
    ) as error:
        # zlib.error is a corrupt deflate stream and a wrong CRC is a BadZipFile.
        # zipfile raises ValueError for a header offset before the file start,
        # and UnicodeDecodeError (a ValueError) for a name flagged UTF-8 that is not.
        raise ContentError(
            f"layer {layer}: the file is not a valid zip",
            str(error),
            "a zip archive",
            "rebuild the zip, or use content.directory to let the program zip it",
        ) from None
    unzipped = sum(len(data) for _, _, data in entries)
    return _b64_sha256(data), files_digest(entries), size, unzipped


def _check_entries(layer: str, path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Reject a zip with an entry Lambda should not extract, or without files."""
    rebuild = "rebuild the zip, or use content.directory to let the program zip it"
    for info in infos:
        name = info.filename
        # Lambda extracts a layer into /opt; a name that is absolute or climbs with
        # ".." would write elsewhere with an unzip tool that trusts it.
        parts = name.replace("\\", "/").split("/")
        unsafe = not name or name.startswith("/") or "\\" in name or ".." in parts
        if unsafe or PureWindowsPath(name).drive:
            raise ContentError(
                f"layer {layer}: zip entry name is not a relative path inside the zip",
                show(name),
                "entry names relative to the zip root, with / separators and no .. "
                "part",
                rebuild,
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ContentError(
                f"layer {layer}: zip entry is a symbolic link",
                show(name),
                "regular files and directories",
                "rebuild the zip with the file the link points to, or use "
                "content.directory",
            )
        if info.flag_bits & ZIP_ENCRYPTED_FLAG:
            raise ContentError(
                f"layer {layer}: zip entry is encrypted",
                show(name),
                "unencrypted entries, since Lambda has no password to extract them",
                "rebuild the zip without a password",
            )
        if info.compress_type not in ZIP_METHODS:
            raise ContentError(
                f"layer {layer}: zip entry uses an unsupported compression method",
                f"{show(name)}, compression method {info.compress_type}",
                "entries stored or compressed with deflate (methods 0 and 8)",
                "rebuild the zip with deflate, or use content.directory",
            )
    if not any(not info.is_dir() for info in infos):
        raise ContentError(
            f"layer {layer}: the zip contains no files",
            show(path.name),
            "a zip with at least one file, for example python/<module>.py",
            "rebuild the zip with the layer's files",
        )


def archive_path(layer: str, version: str) -> str:
    """Return where the zip built for a layer version goes, relative to the project."""
    return str(BUILD_DIR / f"{layer}-{version}.zip")


def _resolve_source(project_dir: Path, relative: str, allowed: str) -> Path:
    """Return the path of configured content, checked to stay inside the project.

    Raises ContentError when the path resolves outside the project directory or
    passes through a symbolic link, since either could publish files from
    elsewhere on this machine to every account the layer is shared with.
    """
    root = project_dir.resolve()
    source = root / relative
    resolved = source.resolve()
    if not resolved.is_relative_to(root):
        raise ContentError(
            "path resolves outside the project directory",
            f"{show(relative)}, which resolves to {show(str(resolved))}",
            allowed,
            "move the content into the project and point the path at it",
        )
    current = root
    for part in PurePosixPath(relative).parts:
        current = current / part
        if current.is_symlink():
            link = current.relative_to(root).as_posix()
            raise ContentError(
                f"path contains a symbolic link: {link}",
                show(relative),
                allowed,
                "replace the link with the directory or file it points to, or point "
                "the path at the real location inside the project",
            )
    return source


def from_directory(
    layer: str, version: str, project_dir: Path, directory: str
) -> LayerArchive:
    """Build the archive of a layer whose content is a project directory.

    Raises ContentError when the directory is missing, outside the project, the
    project directory itself, inside `.git`, or its content is invalid.
    """
    allowed = "a directory inside the project, relative to the project directory"
    source = _resolve_source(project_dir, directory, allowed)
    parts = PurePosixPath(directory).parts
    if not parts:
        raise ContentError(
            "the project directory itself cannot be a layer, because it contains "
            ".git, the stack files and the rest of the project",
            show(directory),
            "a directory inside the project that contains only the layer's files",
            "move the layer's files into their own directory, for example "
            "layers/monitoring",
        )
    if any(part.casefold() == ".git" for part in parts):
        raise ContentError(
            "directory is inside the project's .git directory",
            show(directory),
            "a directory inside the project that contains only the layer's files",
            "point content.directory at the layer's files",
        )
    if not source.is_dir():
        raise ContentError(
            "directory not found" if not source.exists() else "not a directory",
            show(directory),
            allowed,
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

    Raises ContentError when the file is missing, outside the project, reached
    through a symbolic link, not a valid zip, unsafe to extract or too large.
    """
    allowed = "a .zip file inside the project, relative to the project directory"
    source = _resolve_source(project_dir, zip_file, allowed)
    if not source.is_file():
        raise ContentError(
            "zip file not found" if not source.exists() else "not a file",
            show(zip_file),
            allowed,
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


def check_build_path(archive: LayerArchive, project_dir: Path) -> None:
    """Check that the zip built for a layer can be written at its path safely.

    Raises ContentError when an existing part of `archive.path` is a symbolic
    link, a parent along it is not a directory, or the zip's own path is not a
    regular file. Writing through a link could overwrite any file this user can
    write, for example through a committed `build` link to another directory.
    """
    parts = PurePosixPath(archive.path).parts
    current = project_dir
    for position, part in enumerate(parts):
        current = current / part
        relative = PurePosixPath(*parts[: position + 1]).as_posix()
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return
        if stat.S_ISLNK(mode):
            raise _build_path_error(
                f"{relative} is a symbolic link",
                f"{show(relative)}, a link to {show(os.readlink(current))}",
                f"delete the link {relative} and run again",
            )
        last = position == len(parts) - 1
        if not last and not stat.S_ISDIR(mode):
            raise _build_path_error(
                f"{relative} is not a directory",
                show(relative),
                f"delete or move {relative} and run again",
            )
        if last and not stat.S_ISREG(mode):
            raise _build_path_error(
                f"{relative} is not a regular file",
                show(relative),
                f"delete or move {relative} and run again",
            )


def _build_path_error(problem: str, found: str, fix: str) -> ContentError:
    return ContentError(
        f"cannot write the layer zip: {problem}",
        found,
        f"a path inside the project without symbolic links; the program creates "
        f"{BUILD_DIR} itself",
        fix,
    )


def write_archive(archive: LayerArchive, project_dir: Path) -> bool:
    """Write a built zip at its path in the project; return whether a file changed.

    A zip whose bytes are already there is left alone, so its modification time
    does not change. A prebuilt zip (no data) is never written. The file is
    replaced atomically, so a reader sees the old zip or the new one. Raises
    ContentError, before writing anything, when `check_build_path` rejects the path.
    """
    if archive.data is None:
        return False
    check_build_path(archive, project_dir)
    target = project_dir / archive.path
    if target.exists() and target.read_bytes() == archive.data:
        return False
    current = project_dir
    for part in PurePosixPath(archive.path).parent.parts:
        current = current / part
        with contextlib.suppress(FileExistsError):
            os.mkdir(current)
    # Check again: a directory created by someone else in between could be a link.
    check_build_path(archive, project_dir)
    write_file_atomically(target, archive.data)
    return True


def write_file_atomically(target: Path, data: bytes) -> None:
    """Write a file through a temporary file beside it, following no link.

    Whatever is at the temporary name `.<name>.partial` (a leftover file, or a
    planted link) is unlinked first, which removes a link and not its target. The
    file is then created exclusively, with O_NOFOLLOW where the system has it.
    `os.replace` renames it over `target`, replacing a link there rather than
    writing to where it points. The caller checks the directory of `target`.
    """
    partial = target.with_name(f".{target.name}.partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(partial, flags, 0o644)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise

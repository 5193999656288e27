"""The layer lock file: the content hash of every layer version published.

`layers.lock.json`, committed in the project, maps each layer name and semantic
version to the hashes of the zip published for it:

    {"layers": {"org-monitoring": {"1.0.0": {"codeSha256": "...",
                                              "filesSha256": "..."}}}}

Validation compares each configured layer with the lock. It warns, and never
fails, in four cases: the content changed but the version did not, the version
changed but the content did not, only the zip bytes changed, or a version is not
locked yet. `update` records the current versions, and the `lock-layers` command
calls it. Old versions stay in the file because their layer versions stay published.
"""

from __future__ import annotations

import json
import os
import re
import stat
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.layer_archive import LayerArchive, write_file_atomically
from governance.problems import Problem, show

LOCK_FILE = "layers.lock.json"
LOCK_COMMAND = "python -m governance lock-layers --stack <stack>"
LOCK_FORMAT = '{"layers": {NAME: {VERSION: {"codeSha256": ..., "filesSha256": ...}}}}'
LOCK_FIX = (
    f"restore the file from version control, or delete it and run `{LOCK_COMMAND}`"
)

# Semantic version as semver.org defines its core: three whole numbers without
# leading zeros. Pre-release and build suffixes are not accepted, because the
# version must map to one layer name and one description.
SEMANTIC_VERSION = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z")


@dataclass(frozen=True)
class LockedVersion:
    """The hashes recorded for one published layer version."""

    code_sha256: str
    files_sha256: str

    @classmethod
    def of(cls, archive: LayerArchive) -> LockedVersion:
        """Return the entry that records an archive."""
        return cls(code_sha256=archive.code_sha256, files_sha256=archive.files_sha256)


# Layer name -> semantic version -> hashes.
Lock = dict[str, dict[str, LockedVersion]]


@dataclass(frozen=True)
class LockChange:
    """Outcome of `update` for one configured layer version.

    `action` is "added", "unchanged", "replaced", or "conflict" when the version is
    locked with other hashes and replacing was not requested.
    """

    layer: str
    version: str
    action: str


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def read(project_dir: Path) -> tuple[Lock, list[Problem]]:
    """Read the lock file; a missing file is an empty lock.

    Returns the lock and, when the file is not a valid lock, one problem and an
    empty lock. A link, directory or pipe at the file's name is a problem too, so
    reading neither leaves the project, raises, nor blocks on a pipe.
    """
    path = project_dir / LOCK_FILE
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return {}, []
    if not stat.S_ISREG(mode):
        if stat.S_ISLNK(mode):
            kind = "a symbolic link"
        elif stat.S_ISDIR(mode):
            kind = "a directory"
        else:
            kind = "not a regular file"
        return {}, [
            Problem(
                LOCK_FILE,
                f"the lock file is {kind}",
                show(LOCK_FILE),
                "a regular file in the project directory: " + LOCK_FORMAT,
                LOCK_FIX,
            )
        ]
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return _parse(document), []
    except RecursionError:
        reason = "JSON nested too deeply to read"
    except ValueError as error:
        # JSONDecodeError and UnicodeDecodeError are ValueErrors too.
        reason = str(error)
    except OSError as error:
        return {}, [
            Problem(
                LOCK_FILE,
                "cannot read the lock file",
                str(error),
                "a lock file this user can read",
                "fix the file's permissions, or " + LOCK_FIX,
            )
        ]
    return {}, [Problem(LOCK_FILE, "invalid lock file", reason, LOCK_FORMAT, LOCK_FIX)]


def _parse(document: Any) -> Lock:
    if not isinstance(document, dict) or set(document) != {"layers"}:
        raise ValueError('expected an object with the single key "layers"')
    layers = document["layers"]
    if not isinstance(layers, dict):
        raise ValueError('"layers" is not an object')
    lock: Lock = {}
    for name, versions in layers.items():
        if not isinstance(versions, dict):
            raise ValueError(f"layer {name!r} is not an object")
        lock[name] = {}
        for version, entry in versions.items():
            # Versions are sorted and compared as numbers, so each key must be one.
            if not SEMANTIC_VERSION.match(version):
                raise ValueError(
                    f"layer {name!r}: version {version!r} is not MAJOR.MINOR.PATCH"
                )
            if not isinstance(entry, dict) or set(entry) != {
                "codeSha256",
                "filesSha256",
            }:
                raise ValueError(
                    f"{name} {version}: expected codeSha256 and filesSha256"
                )
            if not all(isinstance(value, str) for value in entry.values()):
                raise ValueError(f"{name} {version}: hashes must be strings")
            lock[name][version] = LockedVersion(
                code_sha256=entry["codeSha256"],
                files_sha256=entry["filesSha256"],
            )
    return lock


def to_json(lock: Mapping[str, Mapping[str, LockedVersion]]) -> str:
    """Write the lock as indented JSON: layers by name, versions in semantic order."""
    document = {
        "layers": {
            name: {
                version: {
                    "codeSha256": lock[name][version].code_sha256,
                    "filesSha256": lock[name][version].files_sha256,
                }
                for version in sorted(lock[name], key=_version_key)
            }
            for name in sorted(lock)
        }
    }
    return json.dumps(document, indent=2) + "\n"


def write(project_dir: Path, lock: Mapping[str, Mapping[str, LockedVersion]]) -> None:
    """Write the lock file in the project directory, atomically, following no link."""
    write_file_atomically(project_dir / LOCK_FILE, to_json(lock).encode("utf-8"))


def _next_patch(version: str) -> str:
    major, minor, patch = _version_key(version)
    return f"{major}.{minor}.{patch + 1}"


def check(
    index: int, layer: str, version: str, archive: LayerArchive, lock: Lock
) -> list[Problem]:
    """Compare one configured layer version with the lock; return warnings."""
    locked = lock.get(layer, {})
    path = f"layers[{index}]"
    entry = locked.get(version)
    if entry is not None:
        if entry.files_sha256 != archive.files_sha256:
            return [
                Problem(
                    f"{path}.version",
                    f"content changed but the version did not: {LOCK_FILE} holds "
                    f"other files for {layer} {version}",
                    show(version),
                    "a new version for new content, so what a version number "
                    "names never changes",
                    f"raise the version, for example to {_next_patch(version)}, "
                    f"then run `{LOCK_COMMAND}`",
                )
            ]
        if entry.code_sha256 != archive.code_sha256:
            return [
                Problem(
                    f"{path}.content",
                    "same files as the locked version, but other zip bytes, so "
                    "`pulumi up` would publish a new layer version",
                    f"codeSha256 {archive.code_sha256}, locked {entry.code_sha256}",
                    f"the zip bytes recorded in {LOCK_FILE}",
                    "build the zip where the locked one was built (this Python uses "
                    f"zlib {zlib.ZLIB_RUNTIME_VERSION}), or accept the new bytes "
                    f"with `{LOCK_COMMAND} --replace`",
                )
            ]
        return []
    same_files = sorted(
        (
            other
            for other, other_entry in locked.items()
            if other_entry.files_sha256 == archive.files_sha256
        ),
        key=_version_key,
    )
    if same_files:
        return [
            Problem(
                f"{path}.version",
                "version changed but the content did not: the files are those of "
                f"locked version {same_files[-1]}",
                show(version),
                "a new version only for new content",
                f"keep version {same_files[-1]}, or change the content",
            )
        ]
    return [
        Problem(
            f"{path}.version",
            f"version is not in {LOCK_FILE}",
            show(version),
            f"a version recorded in {LOCK_FILE}",
            f"run `{LOCK_COMMAND}` and commit {LOCK_FILE}",
        )
    ]


def update(
    lock: Lock,
    layers: Iterable[tuple[str, str, LayerArchive]],
    replace: bool = False,
) -> tuple[Lock, list[LockChange]]:
    """Record each (layer, version, archive) in a copy of the lock.

    An entry locked with other hashes is replaced only when `replace` is true;
    otherwise it is kept and reported as a conflict. Entries of versions no longer
    configured are kept, because those layer versions stay published.
    """
    updated: Lock = {name: dict(versions) for name, versions in lock.items()}
    changes = []
    for layer, version, archive in sorted(layers, key=lambda item: item[:2]):
        entry = LockedVersion.of(archive)
        current = updated.setdefault(layer, {}).get(version)
        if current is None:
            action = "added"
        elif current == entry:
            action = "unchanged"
        elif replace:
            action = "replaced"
        else:
            changes.append(LockChange(layer, version, "conflict"))
            continue
        updated[layer][version] = entry
        changes.append(LockChange(layer, version, action))
    return updated, changes

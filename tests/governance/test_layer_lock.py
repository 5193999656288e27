"""The layer lock file: warnings on version and content drift, and lock-layers."""

from __future__ import annotations

import json
import os
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from governance import config, layer_lock
from governance.cli import main
from governance.layer_archive import LayerArchive
from governance.layer_lock import LockChange, LockedVersion
from governance.problems import ConfigError, Problem
from tests.conftest import PROD_SECRET_KEYS, PROJECT_DIR

ARCHIVE = LayerArchive(
    path="build/layers/x-1.0.0.zip",
    code_sha256="code-new",
    files_sha256="files-new",
    zip_size=10,
    unzipped_size=20,
)
LOCK_FIX = "run `python -m governance lock-layers --stack <stack>`"


def locked(**versions: tuple[str, str]) -> layer_lock.Lock:
    return {
        "x": {
            version.replace("_", "."): LockedVersion(code, files)
            for version, (code, files) in versions.items()
        }
    }


CHECK_CASES: list[tuple[str, str, layer_lock.Lock, list[Problem]]] = [
    (
        "locked and unchanged",
        "1.0.0",
        locked(**{"1_0_0": ("code-new", "files-new")}),
        [],
    ),
    (
        "content changed, version not",
        "1.0.0",
        locked(**{"1_0_0": ("code-old", "files-old")}),
        [
            Problem(
                "layers[3].version",
                "content changed but the version did not: layers.lock.json holds "
                "other files for x 1.0.0",
                '"1.0.0"',
                "a new version for new content, so what a version number names never "
                "changes",
                f"raise the version, for example to 1.0.1, then {LOCK_FIX}",
            )
        ],
    ),
    (
        "only the zip bytes changed",
        "1.0.0",
        locked(**{"1_0_0": ("code-old", "files-new")}),
        [
            Problem(
                "layers[3].content",
                "same files as the locked version, but other zip bytes, so `pulumi up` "
                "would publish a new layer version",
                "codeSha256 code-new, locked code-old",
                "the zip bytes recorded in layers.lock.json",
                "build the zip where the locked one was built (this Python uses zlib "
                f"{zlib.ZLIB_RUNTIME_VERSION}), or accept the new bytes with "
                "`python -m governance lock-layers --stack <stack> --replace`",
            )
        ],
    ),
    (
        "version changed, content not",
        "1.1.0",
        locked(
            **{"0_9_0": ("code-new", "files-new"), "1_0_0": ("code-new", "files-new")}
        ),
        [
            Problem(
                "layers[3].version",
                "version changed but the content did not: the files are those of "
                "locked version 1.0.0",
                '"1.1.0"',
                "a new version only for new content",
                "keep version 1.0.0, or change the content",
            )
        ],
    ),
    (
        "new version not locked",
        "1.1.0",
        locked(**{"1_0_0": ("code-old", "files-old")}),
        [
            Problem(
                "layers[3].version",
                "version is not in layers.lock.json",
                '"1.1.0"',
                "a version recorded in layers.lock.json",
                f"{LOCK_FIX} and commit layers.lock.json",
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("version", "lock", "expected"),
    [
        pytest.param(version, lock, expected, id=name)
        for name, version, lock, expected in CHECK_CASES
    ],
)
def test_check_against_lock(
    version: str, lock: layer_lock.Lock, expected: list[Problem]
) -> None:
    assert layer_lock.check(3, "x", version, ARCHIVE, lock) == expected


def test_prod_lock_is_current(prod_values: dict[str, Any]) -> None:
    # The committed layers.lock.json records every layer version of the prod stack.
    assert config.load(prod_values, PROD_SECRET_KEYS).warnings == ()


def test_update_actions() -> None:
    lock = locked(**{"1_0_0": ("code-old", "files-old")})
    new = LockedVersion("code-new", "files-new")
    updated, changes = layer_lock.update(
        lock, [("x", "1.0.0", ARCHIVE), ("x", "1.1.0", ARCHIVE)]
    )
    assert changes == [
        LockChange("x", "1.0.0", "conflict"),
        LockChange("x", "1.1.0", "added"),
    ]
    assert updated["x"] == {
        "1.0.0": LockedVersion("code-old", "files-old"),
        "1.1.0": new,
    }
    replaced, changes = layer_lock.update(updated, [("x", "1.0.0", ARCHIVE)], True)
    assert changes == [LockChange("x", "1.0.0", "replaced")]
    assert replaced["x"]["1.0.0"] == new
    _, changes = layer_lock.update(replaced, [("x", "1.0.0", ARCHIVE)])
    assert changes == [LockChange("x", "1.0.0", "unchanged")]


def test_lock_json_order() -> None:
    lock = {
        "b": {"1.10.0": LockedVersion("c", "f"), "1.9.0": LockedVersion("c", "f")},
        "a": {"2.0.0": LockedVersion("c", "f")},
    }
    document = json.loads(layer_lock.to_json(lock))
    assert list(document["layers"]) == ["a", "b"]
    assert list(document["layers"]["b"]) == ["1.9.0", "1.10.0"]


def test_invalid_lock_file(prod_values: dict[str, Any], tmp_path: Path) -> None:
    shutil.copytree(PROJECT_DIR / "layers", tmp_path / "layers")
    (tmp_path / "layers.lock.json").write_text('{"layers": {"x": []}}')
    with pytest.raises(ConfigError) as raised:
        config.load(prod_values, PROD_SECRET_KEYS, project_dir=tmp_path)
    assert raised.value.problems == [
        Problem(
            "layers.lock.json",
            "invalid lock file",
            "layer 'x' is not an object",
            '{"layers": {NAME: {VERSION: {"codeSha256": ..., "filesSha256": ...}}}}',
            "restore the file from version control, or delete it and run "
            "`python -m governance lock-layers --stack <stack>`",
        )
    ]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's stack files, layers and lock file.

    The copy is a subdirectory of tmp_path, so a test may put files beside it.
    """
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR / "layers",
        project / "layers",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "layers.lock.json"):
        shutil.copy(PROJECT_DIR / name, project / name)
    return project


def run(project: Path, *arguments: str) -> int:
    return main([*arguments, "--stack", "prod", "--project-dir", str(project)])


def test_validate_lists_warnings(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = project / "layers/monitoring/python/org_monitoring/__init__.py"
    module.write_text(module.read_text() + "\n# changed\n")
    assert run(project, "validate") == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "stack prod: configuration valid, 10 accounts\n1 warning\n"
        "layers[0].version: content changed but the version did not"
    )


def test_validate_json_warnings(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "layers.lock.json").unlink()
    assert run(project, "validate", "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert [warning["path"] for warning in document["warnings"]] == [
        "layers[0].version",
        "layers[1].version",
    ]


def test_lock_layers_adds_and_refuses(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock_file = project / "layers.lock.json"
    lock_file.unlink()
    assert run(project, "lock-layers") == 0
    assert capsys.readouterr().out == (
        "org-monitoring 1.0.0: added\nworkload-retry 1.0.0: added\n"
    )
    assert lock_file.read_text() == (PROJECT_DIR / "layers.lock.json").read_text()

    module = project / "layers/workload-retry/python/org_retry/__init__.py"
    module.write_text(module.read_text() + "\n# changed\n")
    assert run(project, "lock-layers") == 1
    captured = capsys.readouterr()
    assert "workload-retry 1.0.0: conflict\n" in captured.out
    assert captured.err == (
        "1 version is locked with other hashes and kept: raise the version, or run "
        "again with --replace\n"
    )
    assert lock_file.read_text() == (PROJECT_DIR / "layers.lock.json").read_text()

    assert run(project, "lock-layers", "--replace") == 0
    assert "workload-retry 1.0.0: replaced\n" in capsys.readouterr().out
    assert run(project, "validate") == 0
    assert "warning" not in capsys.readouterr().out


LOCK_FORMAT = '{"layers": {NAME: {VERSION: {"codeSha256": ..., "filesSha256": ...}}}}'
RESTORE_FIX = (
    "restore the file from version control, or delete it and run "
    "`python -m governance lock-layers --stack <stack>`"
)


def write_json(text: str) -> Callable[[Path], None]:
    def setup(path: Path) -> None:
        path.write_text(text)

    return setup


def link_lock(path: Path) -> None:
    victim = path.parent.parent / "victim.json"
    victim.write_text((PROJECT_DIR / "layers.lock.json").read_text())
    path.symlink_to(victim)


def invalid(found: str) -> Problem:
    return Problem(
        "layers.lock.json", "invalid lock file", found, LOCK_FORMAT, RESTORE_FIX
    )


def not_regular(kind: str) -> Problem:
    return Problem(
        "layers.lock.json",
        f"the lock file is {kind}",
        '"layers.lock.json"',
        "a regular file in the project directory: " + LOCK_FORMAT,
        RESTORE_FIX,
    )


ENTRY = '{"codeSha256": "c", "filesSha256": "f"}'
LOCK_CASES: list[tuple[str, Callable[[Path], None], Problem]] = [
    (
        "version key not a number",
        write_json('{"layers": {"org-monitoring": {"latest": ' + ENTRY + "}}}"),
        invalid("layer 'org-monitoring': version 'latest' is not MAJOR.MINOR.PATCH"),
    ),
    (
        "version key with two numbers",
        write_json('{"layers": {"org-monitoring": {"1.0": ' + ENTRY + "}}}"),
        invalid("layer 'org-monitoring': version '1.0' is not MAJOR.MINOR.PATCH"),
    ),
    (
        "hash not a string",
        write_json(
            '{"layers": {"x": {"1.0.0": {"codeSha256": 1, "filesSha256": "f"}}}}'
        ),
        invalid("x 1.0.0: hashes must be strings"),
    ),
    (
        "deeply nested JSON",
        write_json("[" * 100_000 + "]" * 100_000),
        invalid("JSON nested too deeply to read"),
    ),
    (
        "not UTF-8",
        lambda path: path.write_bytes(b"\xff\xfe{}"),
        invalid(
            "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"
        ),
    ),
    ("directory", lambda path: path.mkdir(), not_regular("a directory")),
    ("symbolic link", link_lock, not_regular("a symbolic link")),
    ("named pipe", lambda path: os.mkfifo(path), not_regular("not a regular file")),
]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [pytest.param(setup, expected, id=name) for name, setup, expected in LOCK_CASES],
)
def test_unusable_lock_file(
    prod_values: dict[str, Any],
    project: Path,
    setup: Callable[[Path], None],
    expected: Problem,
) -> None:
    lock_file = project / "layers.lock.json"
    lock_file.unlink()
    setup(lock_file)
    with pytest.raises(ConfigError) as raised:
        config.load(prod_values, PROD_SECRET_KEYS, project_dir=project)
    assert raised.value.problems == [expected]


def test_unreadable_lock_file(
    prod_values: dict[str, Any], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests may run as root, which reads any file, so the error is raised directly.
    def denied(self: Path, *arguments: Any, **keywords: Any) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(ConfigError) as raised:
        config.load(prod_values, PROD_SECRET_KEYS, project_dir=project)
    assert raised.value.problems == [
        Problem(
            "layers.lock.json",
            "cannot read the lock file",
            "[Errno 13] Permission denied",
            "a lock file this user can read",
            "fix the file's permissions, or " + RESTORE_FIX,
        )
    ]


def state(path: Path) -> tuple[str, Any]:
    """Describe what is at a path without following a link: kind and content."""
    if path.is_symlink():
        return ("link", os.readlink(path))
    if path.is_dir():
        return ("directory", None)
    return ("file", path.read_bytes() if path.exists() else None)


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(LOCK_CASES[0][1], id="version key not a number"),
        pytest.param(LOCK_CASES[3][1], id="deeply nested JSON"),
        pytest.param(lambda path: path.mkdir(), id="directory"),
        pytest.param(link_lock, id="symbolic link"),
    ],
)
def test_commands_reject_lock_file(
    project: Path, setup: Callable[[Path], None], capsys: pytest.CaptureFixture[str]
) -> None:
    lock_file = project / "layers.lock.json"
    victim = project.parent / "victim.json"
    lock_file.unlink()
    setup(lock_file)
    before = (state(lock_file), state(victim))
    assert run(project, "validate") == 2
    assert "layers.lock.json: " in capsys.readouterr().err
    assert run(project, "lock-layers") == 2
    assert "layers.lock.json: " in capsys.readouterr().err
    assert (state(lock_file), state(victim)) == before


def test_write_replaces_link(project: Path) -> None:
    # A link at the lock file's name is replaced by the file, not written through.
    lock_file = project / "layers.lock.json"
    lock_file.unlink()
    link_lock(lock_file)
    victim = project.parent / "victim.json"
    before = victim.read_text()
    layer_lock.write(project, {"x": {"1.0.0": LockedVersion("c", "f")}})
    assert victim.read_text() == before
    assert not lock_file.is_symlink()
    assert json.loads(lock_file.read_text()) == {
        "layers": {"x": {"1.0.0": {"codeSha256": "c", "filesSha256": "f"}}}
    }

"""Output names: safe (never escape the export folder) and distinct within a job.

Names are made by the planner (``plan_exports``) from the asset's file name, its name as the
fallback, and the output format's extension; stores refuse any name ``check_name`` refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from exportjob import Asset, ExportJob, ExportPlan, plan_exports
from exportjob.exceptions import UnsafeNameError
from exportjob.stores import MAX_NAME_BYTES, DirectoryStore, MemoryStore, check_name, check_path

#: The ``fmt`` keyword that gives each output extension used below (None: ``fmt=orig``, which keeps
#: the file's own extension).
FMT_OF = {None: None, ".tiff": "tif", ".png": "png", ".jpg": "jpeg"}


def job_for(fmt: str | None, count: int = 1) -> ExportJob:
    handles = [f"h{i}" for i in range(count)]
    if fmt is None:
        return ExportJob(asset_handles=handles, fmt="orig")
    return ExportJob(asset_handles=handles, fmt="convert", is_modifier=f"fmt={fmt}")


def plans_for(
    file_names: list[str], fmt: str | None = None, *, name: str = "asset"
) -> list[ExportPlan]:
    assets = [
        Asset(handle=f"h{i}", type="Image", name=name, file_name=file_name, company="acme")
        for i, file_name in enumerate(file_names)
    ]
    return list(plan_exports(assets, job_for(fmt, len(assets))))


def output_name(file_name: str, fmt: str | None = None, *, name: str = "asset") -> str:
    [plan] = plans_for([file_name], fmt, name=name)
    assert plan.accepted
    return plan.output_name


def assert_writable(name: str) -> None:
    """The name passes ``check_name`` and a store writes it under exactly that name."""
    assert check_name(name) == name
    assert "/" not in name
    assert "\\" not in name
    assert name not in {".", ".."}
    store = MemoryStore()
    assert store.write_export(name, [b"x"]).location == f"memory://{name}"
    assert store.exports == {name: b"x"}


@pytest.mark.parametrize(
    ("file_name", "extension", "expected"),
    [
        pytest.param("fileToExport.jpg", ".tiff", "fileToExport.tiff", id="seed"),
        pytest.param("photo.JPG", None, "photo.JPG", id="orig-keeps-name"),
        pytest.param("../../etc/passwd", None, "passwd", id="dotdot"),
        pytest.param("/abs/path/x.png", ".jpg", "x.jpg", id="absolute"),
        pytest.param("C:\\Users\\x\\y.tif", ".png", "y.png", id="windows-path"),
        pytest.param("a\x00b.jpg", None, "a_b.jpg", id="nul"),
        pytest.param('we<i>rd:"na|me?*.jpg', None, "we_i_rd__na_me__.jpg", id="reserved-chars"),
        pytest.param("CON.jpg", None, "_CON.jpg", id="reserved-device"),
        pytest.param("nul", ".png", "_nul.png", id="reserved-device-no-ext"),
        pytest.param("..", ".png", "asset.png", id="dotdot-only"),
        # An asset's file name is never empty; one that is only a folder leaves nothing of it.
        pytest.param("photos/", ".png", "asset.png", id="empty"),
        pytest.param("noext", ".png", "noext.png", id="no-extension"),
        pytest.param(".hidden", None, ".hidden", id="dotfile"),
        pytest.param("trailing. ", ".png", "trailing.png", id="trailing-dot-space"),
        pytest.param("archive.tar.gz", ".png", "archive.tar.png", id="double-ext"),
        pytest.param("Ünïcødé 写真.jpg", ".png", "Ünïcødé 写真.png", id="unicode"),
    ],
)
def test_the_output_name_is_the_file_name_made_safe(
    file_name: str, extension: str | None, expected: str
) -> None:
    out = output_name(file_name, FMT_OF[extension])
    assert out == expected
    assert_writable(out)


def test_long_names_are_truncated_to_the_byte_limit_keeping_the_extension() -> None:
    out = output_name("é" * 300 + ".jpg", "tif")
    assert out.endswith(".tiff")
    assert out.startswith("é")
    assert len(out.encode()) <= MAX_NAME_BYTES
    assert_writable(out)


non_blank = st.text(max_size=300).filter(str.strip)


@given(non_blank, st.sampled_from(list(FMT_OF.values())))
def test_any_file_name_gives_a_checked_plain_name(file_name: str, fmt: str | None) -> None:
    assert_writable(output_name(file_name, fmt))


UNSAFE = [
    "",
    "/a",
    "a/",
    "a//b",
    "a/./b",
    "a/../b",
    "../b",
    "a/CON/b",
    "a\\b",
    "..",
    ".",
    "CON",
    "lpt1.txt",
    "x.",
    "x ",
    "a\x00",
    "a" * (MAX_NAME_BYTES + 1),
]


def _check(name: str, _tmp_path: Path) -> None:
    check_name(name)


def test_check_name_refuses_a_folder_that_stores_keeping_folders_accept() -> None:
    with pytest.raises(UnsafeNameError, match="path separators"):
        check_name("a/b")
    assert MemoryStore().write_export("a/b", [b"x"]).name == "a/b"


def _memory(name: str, _tmp_path: Path) -> None:
    store = MemoryStore()
    try:
        store.write_export(name, [b"x"])
    finally:
        assert store.exports == {}


def _directory(name: str, tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path, tmp_path / "out")
    try:
        store.write_export(name, [b"x"])
    finally:
        assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


REFUSERS: dict[str, Callable[[str, Path], None]] = {
    "check_name": _check,
    "MemoryStore": _memory,
    "DirectoryStore": _directory,
}


@pytest.mark.parametrize("name", UNSAFE)
@pytest.mark.parametrize("refuser", sorted(REFUSERS))
def test_unsafe_names_are_refused_and_nothing_is_written(
    name: str, refuser: str, tmp_path: Path
) -> None:
    with pytest.raises(UnsafeNameError) as info:
        REFUSERS[refuser](name, tmp_path)
    assert info.value.name == name


@pytest.mark.parametrize(
    ("check", "name", "says"),
    [
        pytest.param(check_path, "../w.bin", "must not have a '..' part", id="climbing"),
        pytest.param(check_path, "a/../w.bin", "must not have a '..' part", id="climbing-inside"),
        pytest.param(check_path, "./w.bin", "must not have a '.' part", id="dot-part"),
        pytest.param(check_path, "/srv/w.bin", "must be relative, not absolute", id="absolute"),
        pytest.param(check_path, "a//w.bin", "must not have an empty part", id="doubled-slash"),
        pytest.param(check_path, "a/", "must not have an empty part", id="trailing-slash"),
        pytest.param(check_path, "", "must be a non-empty string", id="empty"),
        pytest.param(check_path, "a/CON/w.bin", "a reserved device name", id="device-folder"),
        pytest.param(check_name, "..", "must not be '..', which names a folder", id="dot-dot"),
        pytest.param(check_name, "con.jpg", "a reserved device name (CON, PRN,", id="device"),
        pytest.param(check_name, "x.", "must not end in a dot or a space", id="trailing-dot"),
        pytest.param(check_name, "x ", "must not end in a dot or a space", id="trailing-space"),
    ],
)
def test_a_refused_name_says_what_is_wrong_with_it(
    check: Callable[[str], str], name: str, says: str
) -> None:
    """``check_path("../w.bin")`` said it must "not be a reserved device name or end in a dot or
    space", ``check_path("/tmp/w.bin")`` that it must be "a non-empty string"."""
    with pytest.raises(UnsafeNameError) as info:
        check(name)
    assert says in info.value.message
    assert info.value.name == name
    wrong = ("non-empty string", "reserved device name", "end in a dot")
    assert [w for w in wrong if w in info.value.message and w not in says] == []


@pytest.mark.parametrize("refuser", sorted(REFUSERS))
def test_names_that_are_not_valid_unicode_are_refused(refuser: str, tmp_path: Path) -> None:
    with pytest.raises(UnsafeNameError, match="valid Unicode"):
        REFUSERS[refuser]("caf\udce9.png", tmp_path)


def test_a_name_of_exactly_the_byte_limit_is_accepted() -> None:
    assert_writable("é" * (MAX_NAME_BYTES // 2))
    assert_writable("a" * (MAX_NAME_BYTES - 4) + ".jpg")


@pytest.mark.parametrize(
    ("file_names", "fmt", "expected"),
    [
        (["a.jpg", "b.jpg"], None, ["a.jpg", "b.jpg"]),
        (["a.jpg", "a.jpg", "a.jpg"], None, ["a.jpg", "a-2.jpg", "a-3.jpg"]),
        (["a.jpg", "A.JPG"], None, ["a.jpg", "A-2.JPG"]),
        pytest.param(
            ["a.jpg", "a.jpg", "a-2.jpg"],
            None,
            ["a.jpg", "a-3.jpg", "a-2.jpg"],
            id="a-later-own-name-is-kept-for-it",
        ),
        (["noext", "noext"], None, ["noext", "noext-2"]),
        pytest.param(
            ["a.jpg", "a.png", "a"],
            "png",
            ["a-2.png", "a.png", "a-3.png"],
            id="same-once-converted",
        ),
    ],
)
def test_names_are_made_distinct_within_a_job(
    file_names: list[str], fmt: str | None, expected: list[str]
) -> None:
    plans = plans_for(file_names, fmt)
    assert [p.output_name for p in plans] == expected
    renamed = [any("is taken by another asset" in w for w in p.warnings) for p in plans]
    alone = [output_name(f, fmt) for f in file_names]
    assert renamed == [out != own for out, own in zip(expected, alone, strict=True)]


@given(
    st.lists(st.sampled_from(["a.jpg", "A.jpg", "a-2.jpg", "b.png", "a"]), min_size=1, max_size=30)
)
def test_distinct_names_are_distinct_deterministic_and_keep_firsts(file_names: list[str]) -> None:
    out = [p.output_name for p in plans_for(file_names)]
    assert len({n.casefold() for n in out}) == len(out)
    assert out == [p.output_name for p in plans_for(file_names)]
    assert out[0] == file_names[0]
    for name in out:
        assert_writable(name)


@pytest.mark.parametrize(
    ("file_name", "parts"),
    [("a.jpg", ("a", ".jpg")), ("a", ("a", "")), (".rc", (".rc", "")), ("a.b.c", ("a.b", ".c"))],
)
def test_the_extension_is_what_follows_the_last_dot(file_name: str, parts: tuple[str, str]) -> None:
    [plan] = plans_for([file_name])
    stem = plan.output_name.removesuffix(plan.extension) if plan.extension else plan.output_name
    assert (stem, plan.extension) == parts


@pytest.mark.parametrize(
    ("file_name", "fmt", "name", "expected"),
    [
        pytest.param("...", None, "Q1/Q2 report", "Q1_Q2 report", id="unsafe-fallback"),
        pytest.param("...", "png", "a\x00b", "a_b.png", id="control-in-fallback"),
        pytest.param("...", "png", " . ", "asset.png", id="blank-fallback"),
        pytest.param("caf\udce9.jpg", None, "x", "caf_.jpg", id="surrogate"),
        pytest.param("x.t\udce9f", None, "x", "x.t_f", id="surrogate-extension"),
    ],
)
def test_the_asset_name_is_the_fallback_and_naming_never_fails(
    file_name: str, fmt: str | None, name: str, expected: str
) -> None:
    out = output_name(file_name, fmt, name=name)
    assert out == expected
    assert_writable(out)


def test_an_overlong_extension_is_cut_too() -> None:
    out = output_name("photo." + "x" * 210)
    assert out.startswith("photo.xxx")
    assert len(out.encode()) <= MAX_NAME_BYTES
    assert_writable(out)


_ANY_CHAR = st.characters(exclude_categories=())  # surrogates included: undecodable file names


@given(
    st.text(_ANY_CHAR, max_size=50),
    st.text(_ANY_CHAR, max_size=300),
    st.text(_ANY_CHAR, min_size=1, max_size=30).filter(str.strip),
    st.sampled_from(list(FMT_OF.values())),
)
def test_naming_never_raises(stem: str, extension: str, name: str, fmt: str | None) -> None:
    out = output_name(f"{stem}.{extension}", fmt, name=name)
    assert_writable(out)


# -- the fast path for plain names agrees with the full rules (white-box: both are private)

_NAME_PARTS = st.sampled_from(
    [
        "a",
        "Z9",
        "_",
        "-",
        "(1)",
        "[x]",
        "&",
        "con",
        "LPT1",
        "nul",
        ".",
        " ",
        "..",
        "é",
        "\u202e",
        "/",
        "\\",
        ":",
        "*",
        "\x00",
        "\udce9",
        "x" * 120,
        "x" * 49,
        ".jpg",
        ".tar.gz",
        "com1",
        "ß",
    ]
)


@example(name="\xa0.\xa0", extension=None, fallback="Leaves")  # its own name as the fallback
@given(
    name=st.lists(
        st.one_of(_NAME_PARTS, st.sampled_from(["\xa0", "\u3000", "\u2003", "\t"])), max_size=6
    ).map("".join),
    extension=st.sampled_from([None, "", ".jpg", ".png", ". x"]),
    fallback=st.sampled_from(["asset", "x y", "", " .", "a/b", "\u200b", "Leaves"]),
)
def test_a_name_that_is_its_own_safe_name_without_a_fallback_is_so_with_any(
    name: str, extension: str | None, fallback: str
) -> None:
    """The planner reuses a reserved name as the plan's: ``Planner.reserve`` keeps a name that is
    its own safe name with an empty fallback, so it must be that with any fallback. With the name
    itself as the fallback it was not: blanks around a dot (``"\xa0.\xa0"``) came back unchanged."""
    from exportjob import _names  # noqa: PLC0415 - white-box

    if _names.safe_name(name, extension=extension, fallback="") == name:
        assert _names.safe_name(name, extension=extension, fallback=fallback) == name


@example(name="com1.tar.gz", extension="x")  # raised UnsafeNameError before the fix
@example(name="LPT1.tar.gzcon", extension="")
@example(name="com1." + "t" * 194 + ".gz", extension="x")  # 200 bytes, then "_": 201
@given(
    name=st.lists(_NAME_PARTS, max_size=6).map("".join),
    extension=st.sampled_from(
        [None, "", ".jpg", ".tiff", ".JPG", ". x", "x", ".ß", "." + "e" * 49, "." + "e" * 60]
    ),
)
def test_the_fast_path_for_plain_names_gives_what_the_full_rules_give(
    name: str, extension: str | None
) -> None:
    """Also: an extension without a dot never makes a reserved name ("com1.tar" + "x")."""
    from exportjob import _names  # noqa: PLC0415 - white-box: the private full rules

    assert _names.safe_name(name, extension=extension) == _names._safe_name_in_full(
        name, extension, "asset"
    )
    try:
        full: str | None = _names._check_name_in_full(name)
    except UnsafeNameError:
        full = None
    try:
        fast: str | None = check_name(name)
    except UnsafeNameError:
        fast = None
    assert fast == full


def test_an_export_is_never_named_like_a_temporary_file_a_later_run_would_remove(
    tmp_path: Path,
) -> None:
    """A file name like ``.exportjob-<host>-<dead pid>-<n>.part`` was exported as it was, and the
    next job's clean-up of dead runs' temporary files removed it."""
    import json  # noqa: PLC0415
    import socket  # noqa: PLC0415

    from exportjob import ExportEngine, JobContext  # noqa: PLC0415
    from exportjob.converters import CopyConverter  # noqa: PLC0415

    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:32] or "host"
    lookalike = f".exportjob-{host}-99999999-000000000001.part"
    with pytest.raises(UnsafeNameError, match="temporary files"):
        check_name(lookalike)
    assert check_name(output_name(lookalike)) == output_name(lookalike) != lookalike
    source, out = tmp_path / "src", tmp_path / "out"
    source.mkdir()
    (source / "a.pdf").write_bytes(b"%PDF-1.4 a")
    (source / "b.pdf").write_bytes(b"%PDF-1.4 b")
    (source / "exportjob.json").write_text(
        json.dumps({"assets": {"a.pdf": {"file_name": lookalike}}})
    )
    context = JobContext(company="default")
    with ExportEngine(DirectoryStore(source, out), CopyConverter()) as engine:
        first = engine.run(ExportJob(asset_handles=["a.pdf"], fmt="orig"), context)
    with ExportEngine(DirectoryStore(source, out), CopyConverter()) as engine:
        engine.run(ExportJob(asset_handles=["b.pdf"], fmt="orig"), context)
    written = out / str(first.outcome("a.pdf").output_name)
    assert written.read_bytes() == b"%PDF-1.4 a"  # still there after the second run

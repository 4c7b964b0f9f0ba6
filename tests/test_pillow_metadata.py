"""Metadata: ``xmpEmbed``, the ``keep_metadata`` groups, GPS dropped, and what the job log records."""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET

import pytest
from PIL import Image, PngImagePlugin

from exportjob.converters import PillowConverter
from exportjob.options import MetadataKeep
from exportjob.testing import images

XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
    b'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" tiff:Orientation="6" '
    b'exif:GPSLatitude="48,51.4N" exif:GPSLongitude="2,21.1E">'
    b"<dc:creator><rdf:Seq><rdf:li>Ann Example</rdf:li></rdf:Seq></dc:creator>"
    b'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">(c) Ann</rdf:li></rdf:Alt></dc:rights>'
    b"<dc:description>private notes</dc:description>"
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)
# What xmpEmbed=1 writes: the packet, orientation reset, GPS removed.
UPRIGHT = XMP.replace(b'tiff:Orientation="6"', b'tiff:Orientation="1"').replace(
    b' exif:GPSLatitude="48,51.4N" exif:GPSLongitude="2,21.1E"', b""
)


def source_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x013B] = "Ann Example"
    exif[0x8298] = "(c) Ann"
    exif[0xA431] = "SERIAL-12345"  # BodySerialNumber, personal
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 24.0)})
    return exif


def original(fmt: str) -> bytes:
    picture = images.marker_image((60, 40))
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP.decode())
        return images.encode(picture, "PNG", pnginfo=info, exif=source_exif())
    if fmt == "TIFF":
        exif = source_exif()
        tags = dict(exif)
        tags[0x8825] = dict(exif.get_ifd(0x8825))  # a dict: Pillow writes it as the GPS IFD
        tags[700] = XMP
        return images.encode(picture, "TIFF", tiffinfo=tags)
    return images.encode(picture, fmt, xmp=XMP, exif=source_exif())


def export(data: bytes, fmt: str, **options):
    out = PillowConverter().convert(io.BytesIO(data), images.plan(fmt, **options))
    raw = b"".join(out)
    return out, raw, Image.open(io.BytesIO(raw))


def output_xmp(image: Image.Image) -> bytes | None:
    value = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if value is None and hasattr(image, "tag_v2"):
        value = image.tag_v2.get(700)
    return value.encode() if isinstance(value, str) else value


SOURCES = ["JPEG", "PNG", "TIFF", "WEBP"]
OUTPUTS = ["jpeg", "tif", "png", "webp"]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("fmt", OUTPUTS)
def test_xmp_embed_copies_the_xmp_byte_for_byte_upright_and_without_gps(source, fmt):
    out, raw, image = export(original(source), fmt, xmp_embed=True)
    assert output_xmp(image) == UPRIGHT
    assert b"GPS" not in raw
    assert image.size == (40, 60)  # the pixels were turned upright
    assert out.metadata == ("xmp",)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("fmt", OUTPUTS)
def test_nothing_is_copied_by_default(source, fmt):
    out, raw, image = export(original(source), fmt)
    assert output_xmp(image) is None
    for secret in (b"Ann Example", b"SERIAL-12345", b"GPS", b"private notes"):
        assert secret not in raw
    assert out.metadata == ()


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("fmt", ["jpeg", "tif", "png", "webp"])
def test_rights_are_kept_and_personal_data_dropped(source, fmt):
    out, raw, image = export(original(source), fmt, keep_metadata=frozenset({MetadataKeep.RIGHTS}))
    exif = image.getexif()
    assert exif.get(0x013B) == "Ann Example"
    assert exif.get(0x8298) == "(c) Ann"
    assert exif.get(0x0112) in {None, 1}
    assert b"SERIAL-12345" not in raw
    assert not exif.get_ifd(0x8825)
    xmp = output_xmp(image)
    assert xmp is not None
    assert b"<dc:creator>" in xmp
    assert b"<dc:rights>" in xmp
    assert b"private notes" not in xmp
    assert b"GPS" not in raw
    assert out.metadata == ("exif:Artist", "exif:Copyright", "xmp:rights")


def test_gps_is_kept_only_when_asked():
    keep = frozenset({MetadataKeep.RIGHTS, MetadataKeep.GPS})
    out, _, image = export(original("JPEG"), "jpeg", keep_metadata=keep)
    assert image.getexif().get_ifd(0x8825)[1] == "N"
    assert "exif:GPS" in out.metadata


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("fmt", "carried"),
    [
        pytest.param("tif", True, id="tif-uncompressed"),
        # libtiff writes a compressed TIFF, and Pillow cannot give it a GPS directory.
        pytest.param("tif,,lzw", False, id="tif-lzw"),
        pytest.param("tif,,zip", False, id="tif-zip"),
        pytest.param("tif,,jpeg", False, id="tif-jpeg"),
    ],
)
def test_a_tiff_output_writes_the_kept_gps_directory_or_does_not_claim_it(source, fmt, carried):
    keep = frozenset({MetadataKeep.RIGHTS, MetadataKeep.GPS})
    out, _, image = export(original(source), fmt, keep_metadata=keep)
    exif = image.getexif()
    assert exif.get(0x8298) == "(c) Ann"
    if carried:
        assert dict(exif.get_ifd(0x8825)) == {1: "N", 2: (48.0, 51.0, 24.0)}
        assert out.metadata == ("exif:Artist", "exif:Copyright", "xmp:rights", "exif:GPS")
    else:
        assert not exif.get_ifd(0x8825)
        assert out.metadata == ("exif:Artist", "exif:Copyright", "xmp:rights")


RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
NS_DC = "{http://purl.org/dc/elements/1.1/}"
NS_PS = "{http://ns.adobe.com/photoshop/1.0/}"
NS_RIGHTS = "{http://ns.adobe.com/xap/1.0/rights/}"
COMPACT_HEAD = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    b'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
    b'xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/" '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n '
    b'photoshop:Credit="Ann &amp; Co" photoshop:City="Secret Town" '
    b'photoshop:Source=\'Ann "archive"\' xmp:CreatorTool="Private Tool" '
    b'xmpRights:Marked="True" exif:GPSLatitude="48,51.4N" '
    b'xmpRights:WebStatement="https://ann.example/licence"'
)
COMPACT_TAIL = b"</rdf:RDF></x:xmpmeta>"
RIGHTS_ELEMENT = (
    b'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">(c) Ann</rdf:li></rdf:Alt></dc:rights>'
)


@pytest.mark.parametrize(
    "xmp",
    [
        pytest.param(COMPACT_HEAD + b"/>" + COMPACT_TAIL, id="attributes-only"),
        pytest.param(
            COMPACT_HEAD + b">" + RIGHTS_ELEMENT + b"</rdf:Description>" + COMPACT_TAIL,
            id="attributes-and-elements",
        ),
    ],
)
@pytest.mark.parametrize("fmt", ["jpeg", "tif", "png"])
def test_rights_written_as_attributes_are_kept_in_a_well_formed_packet(xmp, fmt):
    data = images.encode(images.marker_image((60, 40)), "JPEG", xmp=xmp)
    out, raw, image = export(data, fmt, keep_metadata=frozenset({MetadataKeep.RIGHTS}))
    packet = output_xmp(image)
    assert packet is not None
    # Well-formed, one rdf:Description (the packet is this test's own output: S314 does not apply).
    (description,) = ET.fromstring(packet).iter(f"{RDF}Description")  # noqa: S314
    assert description.get(f"{NS_PS}Credit") == "Ann & Co"
    assert description.get(f"{NS_PS}Source") == 'Ann "archive"'
    assert description.get(f"{NS_RIGHTS}Marked") == "True"
    assert description.get(f"{NS_RIGHTS}WebStatement") == "https://ann.example/licence"
    if RIGHTS_ELEMENT in xmp:
        assert description.find(f"{NS_DC}rights") is not None
    for dropped in (b"Secret Town", b"Private Tool", b"GPS"):
        assert dropped not in raw
    assert out.metadata == ("xmp:rights",)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"xmp_embed": True}, id="xmpEmbed"),
        pytest.param({"keep_metadata": frozenset({MetadataKeep.RIGHTS})}, id="keep-rights"),
    ],
)
def test_png_xmp_is_an_uncompressed_itxt_chunk(options):
    # XMP Part 3: the iTXt chunk "XML:com.adobe.xmp" has compression flag 0 and method 0.
    _, raw, image = export(original("JPEG"), "png", **options)
    (chunk,) = [body for kind, body in png_chunks(raw) if body.startswith(b"XML:com.adobe.xmp\0")]
    flag, method = chunk[len(b"XML:com.adobe.xmp\0") :][:2]
    assert (flag, method) == (0, 0)
    assert b"(c) Ann" in chunk  # the packet itself is in the chunk, readable as text
    assert not [kind for kind, _ in png_chunks(raw) if kind == b"zTXt"]
    assert output_xmp(image) is not None


def test_iptc_rights_become_xmp():
    # A JPEG with an IPTC By-line and Copyright Notice in its Photoshop APP13 segment.
    def dataset(number: int, text: bytes) -> bytes:
        return b"\x1c\x02" + bytes([number]) + len(text).to_bytes(2, "big") + text

    iptc = dataset(80, b"Bo Photographer") + dataset(116, b"(c) Bo")
    resource = b"8BIM\x04\x04\x00\x00" + len(iptc).to_bytes(4, "big") + iptc
    body = b"Photoshop 3.0\x00" + resource
    app13 = b"\xff\xed" + (len(body) + 2).to_bytes(2, "big") + body
    jpeg = images.encode(images.marker_image((60, 40)), "JPEG")
    data = jpeg[:2] + app13 + jpeg[2:]
    out, _, image = export(data, "tif", keep_metadata=frozenset({MetadataKeep.RIGHTS}))
    xmp = output_xmp(image)
    assert b"<dc:creator>Bo Photographer</dc:creator>" in xmp
    assert b"<dc:rights>(c) Bo</dc:rights>" in xmp
    assert out.metadata == ("xmp:rights",)


@pytest.mark.parametrize("source", SOURCES)
def test_fmt_orig_stays_byte_identical_whatever_the_settings(source):
    import attrs  # noqa: PLC0415

    data = original(source)
    keep = frozenset({MetadataKeep.RIGHTS})
    plan = images.plan("jpeg", xmp_embed=True, keep_metadata=keep)
    plan = attrs.evolve(plan, output_format=None, options=None)
    out = PillowConverter().convert(io.BytesIO(data), plan)
    assert b"".join(out) == data
    assert out.metadata == ()


def test_the_job_log_records_per_asset_what_was_kept():
    import attrs  # noqa: PLC0415

    from exportjob import ExportEngine, ExportJob, JobContext  # noqa: PLC0415
    from exportjob.joblog import AssetOutcome  # noqa: PLC0415
    from exportjob.options import ConversionSettings  # noqa: PLC0415
    from exportjob.stores import MemoryStore  # noqa: PLC0415

    store = MemoryStore(default_company="acme")
    store.add("a|1", original("JPEG"), file_name="a.jpg")
    settings = ConversionSettings(keep_metadata=["rights"])
    job = ExportJob(asset_handles=["a|1"], fmt="convert", is_modifier="fmt=jpeg&xmpEmbed=1")
    with ExportEngine(store, PillowConverter(), settings=settings) as engine:
        log = engine.run(job, JobContext(company="acme", job_name="j", user="u@example.com"))
    (outcome,) = log.outcomes
    assert outcome.kept_metadata == ("xmp", "exif:Artist", "exif:Copyright")
    assert AssetOutcome.from_dict(outcome.to_dict()) == outcome
    bare = attrs.evolve(outcome, kept_metadata=())
    assert "kept_metadata" not in bare.to_dict()
    assert AssetOutcome.from_dict(bare.to_dict()) == bare

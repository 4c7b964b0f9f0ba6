"""The command table: one row per Image Serving command name, the single source of the vocabulary.

Each row says what exportjob does with the command (``Kind``), how its value is parsed, which
``RenderOptions`` field it sets, and the syntax, range and default shown in ``docs/language.md``.
The syntax layer reads only the canonical names; the resolver reads the rest.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Any

import attrs

from . import _arguments as p
from ._color_syntax import parse_color
from ._values import did_you_mean, fields, flag, integer, keyword, real

__all__ = ["COMMANDS", "CommandSpec", "Kind", "canonical_name", "lookup"]


class Kind(enum.Enum):
    """What exportjob does with a command."""

    HONOURED = "honoured"
    """Validated and turned into a ``RenderOptions`` field."""
    IGNORED = "ignored"
    """Validated, accepted and without effect on the export (a warning where something is dropped)."""
    REFUSED = "refused"
    """Reads another image or resource: always an error (except the ``allowed`` no-op values)."""
    UNSUPPORTED = "unsupported"
    """Defined by Image Serving, not implemented here: handled like an unknown command."""


@attrs.frozen(kw_only=True)
class CommandSpec:
    """One row of the command table.

    ``parse`` turns a decoded value into the typed option for ``field`` (honoured commands);
    ``check`` validates an ignored command's value and returns a warning reason or None.
    ``allowed`` lists the values of a refused command that are accepted as no-ops (``labelled``:
    the value's first comma-separated field, ``layer=0,name`` naming layer 0).
    """

    name: str
    kind: Kind
    syntax: str = ""
    values: str = ""
    default: str = ""
    field: str | None = None
    parse: Callable[[str], Any] | None = attrs.field(default=None, repr=False)
    check: Callable[[str], str | None] | None = attrs.field(default=None, repr=False)
    allowed: frozenset[str] = frozenset()
    labelled: bool = False
    note: str = ""

    def allows(self, value: str) -> bool:
        """Whether *value* of this refused command is one of its no-op values."""
        chosen = value.lower().split(",", 1)[0] if self.labelled else value.lower()
        return chosen in self.allowed

    def markdown_row(self) -> str:
        """Return this row as a line of the Markdown tables in ``docs/language.md``."""
        unsupported = "not implemented" if self.kind is Kind.UNSUPPORTED else "-"
        cells: tuple[str, ...] = (f"`{self.name}`", self.note or unsupported)
        if self.kind is Kind.HONOURED:
            cells = (f"`{self.name}`", self.syntax, self.values, self.default or "-")
        return "| " + " | ".join(cells) + " |"


def _int(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        return integer(value, low, high)

    return parse


def _real(low: float | None = None, high: float | None = None) -> Callable[[str], float]:
    def parse(value: str) -> float:
        return real(value, low, high)

    return parse


def _positive_real(value: str) -> float:
    return real(value, positive=True)


def _flag(value: str) -> bool:
    return flag(value)


def _flag_words(value: str) -> bool:
    return flag(value, words=True)


def _pair(parse: Callable[[str], object]) -> Callable[[str], str | None]:
    def check(value: str) -> None:
        for part in fields(value, 2, 2):
            parse(part)

    return check


def _anything(_value: str) -> None:
    return None


def _dpr(value: str) -> str | None:
    ratio = value.split(",", 1)[0].lower()
    if ratio in {"", "off"} or re.fullmatch(r"0*1(?:\.0*)?", ratio):  # 1, 1.0, 01.00: ratio 1
        return None
    return "exports are rendered at device pixel ratio 1"


def _pscan(value: str) -> str | None:
    scans = keyword(value, {"auto": "auto", "3": "3", "4": "4", "5": "5"}, what="pscan")
    return None if scans == "auto" else "Pillow chooses the number of progressive scans itself"


def _embed(what: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return f"{what} is not copied into exports" if flag(value) else None

    return check


def _honoured(  # noqa: PLR0917 - a table row
    name: str, field: str, parse: Callable[[str], Any], syntax: str, values: str, default: str
) -> CommandSpec:
    return CommandSpec(
        name=name,
        kind=Kind.HONOURED,
        field=field,
        parse=parse,
        syntax=syntax,
        values=values,
        default=default,
    )


def _ignored(name: str, check: Callable[[str], str | None], note: str) -> CommandSpec:
    return CommandSpec(name=name, kind=Kind.IGNORED, check=check, note=note)


def _refused(
    name: str, note: str, allowed: tuple[str, ...] = (), *, labelled: bool = False
) -> CommandSpec:
    return CommandSpec(
        name=name, kind=Kind.REFUSED, note=note, allowed=frozenset(allowed), labelled=labelled
    )


def _unsupported(name: str, note: str = "") -> CommandSpec:
    return CommandSpec(name=name, kind=Kind.UNSUPPORTED, note=note)


_INT100 = "int -100..100"

COMMANDS: tuple[CommandSpec, ...] = (
    # output format and encoding
    _honoured("fmt", "format", p.parse_fmt, "`format[,[pixelType][,compression]]`", "see the format table", "`jpeg,rgb`"),
    _honoured("qlt", "qlt", p.parse_qlt, "`quality[,chroma]`", "quality int 1..100, chroma 0\\|1", "setting `jpeg_quality` (`80,0`)"),
    _honoured("quantize", "quantize", p.parse_quantize, "`type[,dither[,numColors[,colorList]]]`", "adaptive\\|web; diffuse\\|off; 2..256; hex rrggbb", "`adaptive,diffuse,256`"),
    _honoured("icc", "icc", p.parse_icc, "`profile[,renderIntent[,blackpointComp[,dither]]]`", "a name in the settings' `profiles`; perceptual\\|relative\\|saturation\\|absolute; 0\\|1; 0\\|1", "settings `icc_profile_*`, `icc_render_intent`, ..."),
    _honoured("iccEmbed", "icc_embed", _flag_words, "`0\\|1`", "0, 1, true, false", "`0`"),
    _honoured("xmpEmbed", "xmp_embed", _flag, "`0\\|1`", "0\\|1 (JPEG, TIFF, PNG, WebP)", "`0`"),
    _honoured("jpegSize", "jpeg_size", _int(0), "`kB`", "int >= 0 (0 = no limit; JPEG only)", "`0`"),
    _honoured("printRes", "print_res", _positive_real, "`dpi`", "real > 0", "the source's"),
    _honoured("resMode", "res_mode", p.parse_res_mode, "`mode`", "bilin\\|bicub\\|sharp2\\|bisharp\\|trilin (sharp = sharp2)", "setting `res_mode` (`sharp2`)"),
    # view
    _honoured("wid", "wid", _int(1), "`width`", "int > 0", "none"),
    _honoured("hei", "hei", _int(1), "`height`", "int > 0", "none"),
    _honoured("scl", "scl", _positive_real, "`invFactor`", "real > 0", "none"),
    _honoured("fit", "fit", p.parse_fit, "`mode[,upscale]`", "fit\\|constrain\\|crop\\|wrap\\|stretch\\|hfit\\|vfit; 0\\|1; needs `wid` or `hei`", "`fit,0`"),
    _honoured("align", "align", p.parse_align, "`horiz,vert`", "reals -1..1", "`0,0`"),
    _honoured("bgc", "bgc", parse_color, "`color`", "the colour syntax", "setting `bkg_color` (white)"),
    # layer 0
    _honoured("crop", "crop", p.parse_crop, "`x,y,w,h`", "ints, w and h >= 0 (empty = no crop)", "none"),
    _honoured("cropN", "crop", p.parse_crop_n, "`x,y,w,h`", "reals, w and h >= 0 (empty = no crop)", "`0,0,1,1`"),
    _honoured("size", "size", p.parse_size, "`w,h`", "ints >= 0 (0 = from the aspect ratio)", "`0,0`"),
    _honoured("rotate", "rotate", _real(), "`degrees`", "real, clockwise", "`0`"),
    _honoured("extend", "extend", p.parse_extend, "`left,top,right,bottom`", "ints", "`0,0,0,0`"),
    _honoured("extendN", "extend_n", p.parse_extend_n, "`left,top,right,bottom`", "reals, fractions of the layer", "`0,0,0,0`"),
    _honoured("flip", "flip", p.parse_flip, "`lr\\|ud\\|lrud`", "keyword", "none"),
    # filters on the composite
    _honoured("op_brightness", "op_brightness", _int(-100, 100), "`adj`", _INT100, "`0`"),
    _honoured("op_contrast", "op_contrast", _int(-100, 100), "`adj`", _INT100, "`0`"),
    _honoured("op_colorbalance", "op_colorbalance", p.parse_colorbalance, "`r,g,b`", "ints -100..100", "`0,0,0`"),
    _honoured("op_saturation", "op_saturation", _int(-100, 100), "`adj`", _INT100, "`0`"),
    _honoured("op_hue", "op_hue", _int(-180, 180), "`degrees`", "int -180..180", "`0`"),
    _honoured("op_colorize", "op_colorize", p.parse_colorize, "`color[,off\\|norm[,contrast]]`", "RGB colour; contrast real 0..100", "none (`norm,0`)"),
    _honoured("op_invert", "op_invert", _flag, "`0\\|1`", "0\\|1", "`0`"),
    _honoured("op_blur", "op_blur", _real(0, 100), "`radius`", "real 0..100", "`0`"),
    _honoured("op_grow", "op_grow", _int(-100, 100), "`radius`", _INT100, "`0`"),
    _honoured("op_noise", "op_noise", p.parse_noise, "`val[,uniform\\|gaussian[,monochrome]]`", "val int 0..100; monochrome 0\\|1", "none (`0,uniform,0`)"),
    _honoured("op_growMask", "op_grow_mask", _int(-100, 100), "`radius`", _INT100, "`0`"),
    _honoured("op_growMaskR", "op_grow_mask_r", _int(-100, 100), "`radius`", _INT100, "`0`"),
    # filters on the final view image
    _honoured("op_sharpen", "op_sharpen", _flag, "`0\\|1`", "0\\|1", "`0`"),
    _honoured("op_usm", "op_usm", p.parse_usm, "`amount[,radius[,threshold[,monochrome]]]`", "real 0..5; real 0..250; int 0..255; 0\\|1", "none (`0,0,0,0`)"),
    _honoured("op_usmR", "op_usm", p.parse_usm_r, "`amount[,radius[,threshold[,monochrome]]]`", "as `op_usm`, radius not scaled", "none (`0,0,0,0`)"),
    # accepted and ignored
    _ignored("id", _anything, "any value; always ignored by Image Serving too"),
    _ignored("cache", _anything, "any value; a delivery hint"),
    _ignored("bfc", _anything, "any value; a delivery hint"),
    _ignored("network", _anything, "any value; a delivery hint"),
    _ignored("dpr", _dpr, "any value; a warning unless `off` or `1`: exports are rendered at ratio 1"),
    _ignored("pscan", _pscan, "`auto\\|3\\|4\\|5`; a warning unless `auto`"),
    _ignored("pathEmbed", _embed("Photoshop path data"), "`0\\|1`; a warning for `1`: paths are not copied"),
    _ignored("anchor", _pair(_int()), "`x,y` ints; no effect on a single image"),
    _ignored("anchorN", _pair(_real()), "`x,y` reals; no effect on a single image"),
    _ignored("origin", _pair(_int()), "`x,y` ints; no effect on a single image"),
    _ignored("originN", _pair(_real()), "`x,y` reals; no effect on a single image"),
    _ignored("pos", _pair(_int()), "`x,y` ints; no effect on a single image"),
    _ignored("posN", _pair(_real()), "`x,y` reals; no effect on a single image"),
    # refused: each reads another image or resource
    _refused("src", "reads another image, nested request or URL"),
    _refused("mask", "reads a separate mask image"),
    _refused("template", "reads a catalog template"),
    _refused("defaultImage", "reads a fallback image"),
    _refused("text", "renders text with catalog fonts"),
    _refused("textPs", "renders text with catalog fonts"),
    _refused("imageSet", "reads other catalog assets"),
    _refused("locale", "reads catalog translation maps"),
    _refused("effect", "creates effect layers"),
    _refused("layer", "other layers need `src=` or `text=`; `layer=0` and `layer=comp` (with or without a name) are no-ops", ("0", "comp"), labelled=True),
    _refused("req", "every request type but `img` reads catalog data or writes; `req=img` is a no-op", ("img",)),
    # defined by Image Serving, not implemented: like unknown commands
    *(
        _unsupported(name)
        for name in (
            "blendMode", "clipPath", "clipPathE", "clipXPath", "color", "cropPathE",
            "effectMask", "hide", "map", "maskUse", "opac", "pathAttr",
            "perspective", "perspectiveN", "rect", "rectN", "rgn", "rgnN",
            "textAngle", "textAttr", "textFlowPath", "textFlowXPath", "textPath", "type",
        )
    ),
    _unsupported("bgColor", "a layer's background; for the exported image's background use `bgc`"),
    _unsupported("scale", "a layer's scale; to scale the exported image use `scl`, `wid` or `hei`"),
    _unsupported("res", "a layer's resolution; to size the exported image use `scl`, `wid` or `hei`"),
    _unsupported("sizeN", "not permitted for layer 0; use `size`"),
)  # fmt: skip

_BY_KEY = {spec.name.lower(): spec for spec in COMMANDS}


def lookup(name: str) -> CommandSpec | None:
    """Return the row for a command *name* (case-insensitive), or None for an unknown name.

    >>> lookup("RESMODE").name
    'resMode'
    """
    return _BY_KEY.get(name.lower())


def canonical_name(name: str) -> str:
    """Return the table's spelling of *name*, or *name* itself if the table has no such command.

    >>> canonical_name("OP_USMR"), canonical_name("widht")
    ('op_usmR', 'widht')
    """
    spec = lookup(name)
    return name if spec is None else spec.name


def nearest_command(name: str) -> str:
    """``"; did you mean wid?"`` for a misspelt command name, or ``""`` when none is close.

    >>> nearest_command("wdi")
    '; did you mean wid?'
    """
    return did_you_mean(name, (spec.name for spec in COMMANDS))

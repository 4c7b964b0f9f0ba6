"""Sample originals for ``exportjob demo``, drawn with Pillow in code (nothing is downloaded).

Only the ``demo`` command imports this module, so Pillow is imported at its top.

Four photo-like images (JPEG and PNG, one with transparency), a banner that belongs to another
company, and an image set declared in the manifest, so a demo export shows conversions and both kinds of
refusal.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import attrs
from PIL import Image, ImageDraw

from .stores import MANIFEST_NAME

__all__ = [
    "DEMO_COMPANY",
    "DEMO_MACRO",
    "DEMO_MACROS",
    "DEMO_MODIFIER",
    "DemoSet",
    "write_originals",
]

DEMO_COMPANY = "demo-co"
DEMO_MODIFIER = "&fmt=png&wid=400"
DEMO_MACRO = "$web$"
DEMO_MACROS = {"web": "op_sharpen=1"}


@attrs.frozen
class DemoSet:
    """What ``write_originals`` made: the folder, and which handles show what."""

    folder: Path
    photos: tuple[str, ...]
    foreign: str
    image_set: str

    @property
    def handles(self) -> tuple[str, ...]:
        """Every handle of the demo, in the order the demo job lists them."""
        return (*self.photos, self.foreign, self.image_set)


def _gradient(
    size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]
) -> Image.Image:
    height = size[1]
    column = Image.new("RGB", (1, height))
    column.putdata(
        [
            tuple(
                round(t + (b - t) * y / max(height - 1, 1))
                for t, b in zip(top, bottom, strict=True)
            )
            for y in range(height)
        ]
    )
    return column.resize(size)


def _grain(image: Image.Image) -> Image.Image:
    """Blend a little Gaussian noise in, so the picture compresses like a photo."""
    noise = Image.effect_noise(image.size, 32).convert("RGB")
    return Image.blend(image, noise, 0.05)


def _sunset(path: Path) -> None:
    img = _gradient((1200, 800), (255, 170, 80), (110, 40, 120))
    draw = ImageDraw.Draw(img)
    draw.ellipse((760, 360, 960, 560), fill=(255, 220, 120))
    draw.polygon(
        [(0, 620), (300, 480), (620, 600), (900, 500), (1200, 640), (1200, 800), (0, 800)],
        fill=(50, 30, 60),
    )
    out = _grain(img)
    out.save(path, "JPEG", quality=88)


def _forest(path: Path) -> None:
    img = _gradient((900, 1200), (190, 220, 235), (40, 90, 50))
    draw = ImageDraw.Draw(img)
    rng = random.Random(7)  # noqa: S311
    for _ in range(40):
        x, base, height = rng.randint(-50, 950), rng.randint(700, 1250), rng.randint(250, 600)
        green = (20 + rng.randint(0, 40), 70 + rng.randint(0, 60), 30 + rng.randint(0, 30))
        draw.polygon(
            [(x, base - height), (x - height // 4, base), (x + height // 4, base)], fill=green
        )
    out = _grain(img)
    out.save(path, "JPEG", quality=85)


def _harbour(path: Path) -> None:
    img = _gradient((1024, 683), (150, 200, 240), (20, 70, 130))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 430, 1024, 683), fill=(30, 90, 150))
    rng = random.Random(3)  # noqa: S311
    for i in range(6):
        x = 60 + i * 160 + rng.randint(-20, 20)
        colour = rng.choice([(230, 60, 50), (250, 250, 245), (250, 200, 40)])
        draw.polygon([(x, 470), (x + 110, 470), (x + 90, 500), (x + 20, 500)], fill=colour)
        draw.line((x + 55, 470, x + 55, 360), fill=(60, 50, 40), width=4)
        draw.polygon([(x + 58, 365), (x + 58, 460), (x + 105, 460)], fill=(245, 245, 240))
    img.save(path, "PNG", optimize=True)


def _mug(path: Path) -> None:
    img = Image.new("RGBA", (800, 800), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.ellipse((540, 300, 700, 520), outline=(200, 70, 60, 255), width=36)
    draw.rectangle((200, 220, 580, 640), fill=(210, 80, 70, 255))
    draw.ellipse((200, 170, 580, 270), fill=(170, 55, 50, 255))
    draw.ellipse((200, 590, 580, 690), fill=(210, 80, 70, 255))
    img.save(path, "PNG")


def _banner(path: Path) -> None:
    img = _gradient((1600, 400), (20, 30, 60), (60, 20, 80))
    draw = ImageDraw.Draw(img)
    for i in range(12):
        draw.ellipse((i * 140, 120, i * 140 + 120, 240), outline=(240, 200, 80), width=6)
    img.save(path, "JPEG", quality=90)


#: The manifest of the demo's originals (``originals/exportjob.json``): also how the demo knows a
#: folder an earlier version of it wrote, which kept no record of its own.
DEMO_MANIFEST = {
    "assets": {
        "products/mug.png": {"name": "Red mug"},
        "partner/partner-banner.jpg": {"company": "partner-co"},
        "sets/mug-views": {"type": "ImageSet", "name": "Red mug, all views"},
    }
}


def write_originals(folder: Path) -> DemoSet:
    """Draw the demo originals into *folder* (created if needed) with their manifest; return them."""
    folder.mkdir(parents=True, exist_ok=True)
    makers = {
        "photos/sunset.jpg": _sunset,
        "photos/forest.jpg": _forest,
        "photos/harbour.png": _harbour,
        "products/mug.png": _mug,
        "partner/partner-banner.jpg": _banner,
    }
    for handle, make in makers.items():
        path = folder / handle
        path.parent.mkdir(parents=True, exist_ok=True)
        make(path)
    (folder / MANIFEST_NAME).write_text(
        json.dumps(DEMO_MANIFEST, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return DemoSet(
        folder=folder,
        photos=("photos/forest.jpg", "photos/harbour.png", "photos/sunset.jpg", "products/mug.png"),
        foreign="partner/partner-banner.jpg",
        image_set="sets/mug-views",
    )

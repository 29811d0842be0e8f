"""Images that are not photos of things, for the labeler's "no confident nonsense" tests:
tests/fixtures/text_like/: printed_page.png, bar_chart.png and diagram.png (made on a
computer: PNG), handwriting.jpg and night_sky.jpg (photographed: JPEG).

Drawn with Pillow and the DejaVu fonts (Debian's fonts-dejavu-core), from a fixed seed, so the
same files come out on any machine with them. Run once and commit the output:

    target/peer-venv/bin/python tools/text_like_fixtures.py tests/fixtures/text_like

(`make peer` makes that venv; any Python with Pillow and numpy does.) The gallery's screenshots
beside them (gallery_screenshot.png, gallery_albums.jpg) are taken from `make up` in a browser;
see that folder's README.md.
"""

import math
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = Path("/usr/share/fonts/truetype/dejavu")
WORDS = (
    "the service organises photos by the objects scenes people text places and dates in them "
    "a tenant keeps its own stack and every request is checked against its allowance before "
    "the analyzer reads the queue each photo is decoded oriented and measured then labelled"
).split()


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / name), size)


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def printed_page(rng: random.Random) -> Image.Image:
    """A printed A4-like page: a title, headings and justified-looking paragraphs."""
    page = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(page)
    draw.text((120, 110), "Quarterly report on photo analysis", font=font("DejaVuSerif-Bold.ttf", 44), fill="black")
    y = 220
    body = font("DejaVuSerif.ttf", 24)
    for section in range(4):
        draw.text((120, y), f"{section + 1}. {sentence(rng, 4).capitalize()}", font=font("DejaVuSans-Bold.ttf", 30), fill="black")
        y += 60
        for _ in range(rng.randint(7, 10)):
            draw.text((120, y), sentence(rng, 11), font=body, fill=(20, 20, 20))
            y += 36
        y += 40
    draw.text((600, 1660), "3", font=body, fill="black")
    return page


def cursive(draw: ImageDraw.ImageDraw, rng: random.Random, x: float, y: float, length: float, ink) -> None:
    """A line of joined loops, as cursive handwriting looks from afar."""
    points = []
    t = 0.0
    while x + t * 6 < x + length:
        height = 14 + 10 * math.sin(t * 0.37 + rng.random())
        points.append((x + t * 6 + 8 * math.cos(t * 1.9), y - height * abs(math.sin(t * 0.95)) + 3 * math.sin(t * 3.1)))
        t += 0.18
        if rng.random() < 0.012:
            draw.line(points, fill=ink, width=3, joint="curve")
            points = []
            t += 2.5
    if points:
        draw.line(points, fill=ink, width=3, joint="curve")


def handwriting(rng: random.Random) -> Image.Image:
    """Handwritten maths on squared notebook paper, photographed: slanted, wavy formulas and
    cursive lines in blue ink, uneven light."""
    width, height = 1600, 1200
    paper = Image.new("RGB", (width, height), (246, 244, 236))
    draw = ImageDraw.Draw(paper)
    for x in range(0, width, 40):
        draw.line([(x, 0), (x, height)], fill=(205, 215, 230), width=1)
    for y in range(0, height, 40):
        draw.line([(0, y), (width, y)], fill=(205, 215, 230), width=1)
    ink = (25, 40, 120)
    formulas = ["f(x) = x² + 3x - 4", "f'(x) = 2x + 3", "∫ f(x) dx = x³/3 + 3x²/2 - 4x + C", "x = (-3 ± √25) / 2", "⇒ x = 1 or x = -4", "Σ 1/n² = π²/6"]
    y = 80
    for formula in formulas:
        layer = Image.new("L", (width, 110), 0)
        ImageDraw.Draw(layer).text((0, 10), formula, font=font("DejaVuSans-Oblique.ttf", 58), fill=255)
        # Hand-drawn: each column moved up and down a little, strokes thickened.
        shifted = np.zeros_like(np.asarray(layer))
        source = np.asarray(layer)
        phase = rng.random() * 6
        for column in range(source.shape[1]):
            shifted[:, column] = np.roll(source[:, column], int(4 * math.sin(column / 37 + phase)))
        layer = Image.fromarray(shifted).filter(ImageFilter.MaxFilter(3))
        paper.paste(Image.new("RGB", layer.size, ink), (100 + rng.randint(-20, 20), y), layer)
        y += 120
        if rng.random() < 0.6:
            cursive(draw, rng, 120, y + 10, rng.randint(500, 1200), ink)
            y += 50
    pixels = np.asarray(paper).astype(np.float32)
    # Light from the top left, and the camera's noise.
    yy, xx = np.mgrid[0:height, 0:width]
    light = 1.0 - 0.18 * (xx / width + yy / height) / 2
    noise = np.random.default_rng(rng.randint(0, 2**32)).normal(0, 3, pixels.shape)
    photographed = np.clip(pixels * light[..., None] + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(photographed).rotate(2.5, resample=Image.BICUBIC, fillcolor=(90, 80, 70))


def bar_chart(rng: random.Random) -> Image.Image:
    """An exported chart: axes, ticks, bars in two colours, a title and a legend."""
    chart = Image.new("RGB", (1200, 800), "white")
    draw = ImageDraw.Draw(chart)
    small = font("DejaVuSans.ttf", 20)
    draw.text((330, 30), "Photos analysed per month", font=font("DejaVuSans-Bold.ttf", 32), fill="black")
    left, bottom, top, right = 120, 700, 120, 1140
    draw.line([(left, top), (left, bottom), (right, bottom)], fill="black", width=2)
    for tick in range(6):
        y = bottom - tick * (bottom - top) / 5
        draw.line([(left - 8, y), (left, y)], fill="black", width=2)
        draw.line([(left, y), (right, y)], fill=(225, 225, 225), width=1)
        draw.text((50, y - 12), str(tick * 200), font=small, fill="black")
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    step = (right - left) / len(months)
    for index, month in enumerate(months):
        x = left + index * step
        for series, colour in enumerate([(66, 133, 244), (234, 67, 53)]):
            value = rng.uniform(150, 950)
            draw.rectangle([x + 6 + series * 14, bottom - value * (bottom - top) / 1000, x + 18 + series * 14, bottom], fill=colour)
        draw.text((x + 8, bottom + 12), month, font=small, fill="black")
    for series, (colour, name) in enumerate([((66, 133, 244), "labels"), ((234, 67, 53), "faces")]):
        draw.rectangle([960, 130 + series * 34, 984, 154 + series * 34], fill=colour)
        draw.text((995, 130 + series * 34), name, font=small, fill="black")
    return chart


def diagram(rng: random.Random) -> Image.Image:
    """An architecture diagram: titled boxes joined by arrows, on white."""
    picture = Image.new("RGB", (1400, 900), "white")
    draw = ImageDraw.Draw(picture)
    title = font("DejaVuSans-Bold.ttf", 28)
    small = font("DejaVuSans.ttf", 20)
    boxes = {
        "Browser": (80, 380), "API Gateway": (380, 380), "API function": (680, 220),
        "Analyzer": (680, 560), "DynamoDB": (1020, 220), "S3 bucket": (1020, 560), "Queue": (380, 640),
    }
    size = (240, 110)
    for name, (x, y) in boxes.items():
        draw.rounded_rectangle([x, y, x + size[0], y + size[1]], radius=14, outline=(30, 30, 30), width=3, fill=(236, 242, 250))
        draw.text((x + 18, y + 20), name, font=title, fill="black")
        draw.text((x + 18, y + 66), sentence(rng, 2), font=small, fill=(60, 60, 60))

    def arrow(a: str, b: str) -> None:
        (ax, ay), (bx, by) = boxes[a], boxes[b]
        start = (ax + size[0], ay + size[1] / 2) if bx > ax else (ax + size[0] / 2, ay + size[1])
        end = (bx, by + size[1] / 2) if bx > ax else (bx + size[0] / 2, by)
        draw.line([start, end], fill="black", width=3)
        angle = math.atan2(end[1] - start[1], end[0] - start[0])
        head = [end, (end[0] - 18 * math.cos(angle - 0.4), end[1] - 18 * math.sin(angle - 0.4)),
                (end[0] - 18 * math.cos(angle + 0.4), end[1] - 18 * math.sin(angle + 0.4))]
        draw.polygon(head, fill="black")

    for a, b in [("Browser", "API Gateway"), ("API Gateway", "API function"), ("API function", "DynamoDB"),
                 ("Analyzer", "S3 bucket"), ("Queue", "Analyzer"), ("API function", "S3 bucket")]:
        arrow(a, b)
    draw.text((80, 60), "How a photo travels", font=font("DejaVuSans-Bold.ttf", 40), fill="black")
    return picture


def night_sky(rng: random.Random) -> Image.Image:
    """Stars over a dark horizon: points of every brightness on near-black blue, a faint band."""
    width, height = 1600, 1067
    numbers = np.random.default_rng(rng.randint(0, 2**32))
    yy, xx = np.mgrid[0:height, 0:width]
    sky = np.zeros((height, width, 3), np.float32)
    sky[..., 0], sky[..., 1], sky[..., 2] = 4 + 10 * yy / height, 8 + 14 * yy / height, 22 + 24 * yy / height
    band = np.exp(-(((yy - 0.55 * xx) - 200) / 160.0) ** 2) * 18
    sky += band[..., None] * np.array([0.9, 0.9, 1.0])
    for _ in range(2500):
        x, y = numbers.integers(0, width), numbers.integers(0, int(height * 0.85))
        brightness = 255 * numbers.random() ** 3
        sky[y, x] = np.maximum(sky[y, x], brightness)
    sky[int(height * 0.88):] = [6, 6, 8]
    picture = Image.fromarray(np.clip(sky + numbers.normal(0, 2, sky.shape), 0, 255).astype(np.uint8))
    return picture.filter(ImageFilter.GaussianBlur(0.7))


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for index, (make, kind) in enumerate(
        [(printed_page, "png"), (handwriting, "jpg"), (bar_chart, "png"), (diagram, "png"), (night_sky, "jpg")]
    ):
        image = make(random.Random(1000 + index))
        path = out / f"{make.__name__}.{kind}"
        image.save(path, optimize=True, **({"quality": 88} if kind == "jpg" else {}))
        print(path, image.size)


if __name__ == "__main__":
    main()

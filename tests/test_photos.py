"""Photos from a phone (issue 5): JPEG, PNG and WebP accepted and stored as a small upright JPEG;
anything else, anything too big and anything broken refused with its message key and values."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from mktsales import photos
from mktsales.i18n import t
from mktsales.photos import MAX_PHOTO_BYTES, Photo, PhotoRejected, prepare


def picture(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", **save: object) -> bytes:
    """A picture whose left half is red and right half blue, encoded as ``fmt``."""
    image = Image.new(mode, size, (255, 0, 0) if mode == "RGB" else (255, 0, 0, 255))
    image.paste((0, 0, 255) if mode == "RGB" else (0, 0, 255, 255), (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def rejected(photo: Photo) -> tuple[str, dict]:
    with pytest.raises(PhotoRejected) as caught:
        prepare(photo)
    return caught.value.key, caught.value.values


def decoded(prepared: photos.Prepared) -> Image.Image:
    image = Image.open(io.BytesIO(prepared.data))
    image.load()
    return image


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_each_accepted_type_is_stored_as_a_jpeg_of_the_same_size(fmt: str) -> None:
    prepared = prepare(Photo(f"shelf.{fmt.lower()}", picture(fmt)))
    assert (prepared.mime, prepared.width, prepared.height) == ("image/jpeg", 64, 48)
    image = decoded(prepared)
    assert image.format == "JPEG" and image.size == (64, 48)
    red, blue = image.getpixel((8, 24)), image.getpixel((56, 24))
    assert red[0] > 200 and red[2] < 60 and blue[2] > 200 and blue[0] < 60


def test_a_large_picture_is_scaled_to_1600_pixels_on_its_longest_side() -> None:
    # 4000 x 3000 -> factor 1600/4000 = 0.4 -> 1600 x 1200
    prepared = prepare(Photo("big.jpg", picture("JPEG", (4000, 3000), quality=60)))
    assert (prepared.width, prepared.height) == (1600, 1200)
    assert decoded(prepared).size == (1600, 1200)
    # portrait 1000 x 2400 -> factor 1600/2400 -> 667 x 1600 (666.67 rounds up)
    tall = prepare(Photo("tall.png", picture("PNG", (1000, 2400))))
    assert (tall.width, tall.height) == (667, 1600)


def test_the_exif_orientation_is_applied_so_the_stored_picture_is_upright() -> None:
    # A phone held upright stores 80 x 60 pixels plus "rotate 90° clockwise to view" (orientation 6).
    exif = Image.Exif()
    exif[0x0112] = 6
    prepared = prepare(Photo("camera.jpg", picture("JPEG", (80, 60), exif=exif.tobytes())))
    assert (prepared.width, prepared.height) == (60, 80)
    image = decoded(prepared)
    # the red left half ends up on top once turned clockwise
    assert image.getpixel((30, 10))[0] > 200 and image.getpixel((30, 70))[2] > 200
    assert not image.getexif().get(0x0112)  # no orientation left to apply twice


def test_transparency_becomes_white() -> None:
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    pixel = decoded(prepare(Photo("clear.png", out.getvalue()))).getpixel((5, 5))
    assert min(pixel) > 245


def test_a_text_file_renamed_to_jpg_is_refused_as_the_wrong_type() -> None:
    data = "这不是图片 not a picture\n".encode() * 10
    key, values = rejected(Photo("C:\\fakepath\\report.jpg", data))
    assert key == "board.error.photo_type"
    assert values == {"name": "report.jpg", "mb": 0.0, "max_mb": 5.0}
    assert t(key, "en", **values) == "report.jpg is not a photo: choose a JPEG, PNG or WebP picture."
    assert t(key, "zh", **values) == "report.jpg 不是照片：请选择 JPEG、PNG 或 WebP 格式的图片。"


def test_other_picture_types_are_refused_as_the_wrong_type() -> None:
    assert rejected(Photo("scan.gif", picture("GIF")))[0] == "board.error.photo_type"
    assert rejected(Photo("scan.bmp", picture("BMP")))[0] == "board.error.photo_type"
    assert rejected(Photo("empty.jpg", b""))[0] == "board.error.photo_type"


def test_a_photo_over_5_mb_is_refused_before_it_is_decoded() -> None:
    # 6 MB = 6,291,456 bytes: a valid PNG header padded out; the size alone refuses it
    data = picture("PNG") + b"\0" * (6 * 1024 * 1024 - len(picture("PNG")))
    key, values = rejected(Photo("shelf.png", data))
    assert key == "board.error.photo_size" and values == {"name": "shelf.png", "mb": 6.0, "max_mb": 5.0}
    assert t(key, "en", **values) == "shelf.png is 6.0 MB; a photo may be at most 5.0 MB."
    assert t(key, "zh", **values) == "shelf.png 有 6.0 MB，每张照片不能超过 5.0 MB。"


def test_exactly_5_mb_is_still_accepted_by_size() -> None:
    # MAX_PHOTO_BYTES itself passes the size check: a JPEG padded after its end marker decodes
    data = picture("JPEG")
    data += b"\0" * (MAX_PHOTO_BYTES - len(data))
    assert len(data) == MAX_PHOTO_BYTES == 5_242_880
    assert prepare(Photo("edge.jpg", data)).width == 64


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_truncated_picture_is_refused_as_unreadable(fmt: str) -> None:
    data = picture(fmt, (200, 150))
    key, values = rejected(Photo("cut", data[: len(data) // 2]))
    assert key == "board.error.photo_unreadable" and values["name"] == "cut"


def test_right_magic_bytes_with_garbage_after_them_are_unreadable() -> None:
    for magic in (b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"RIFF\x10\x00\x00\x00WEBPVP8 "):
        assert rejected(Photo("x", magic + b"garbage" * 20))[0] == "board.error.photo_unreadable"


def test_a_picture_of_too_many_pixels_is_refused_with_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(photos, "MAX_PIXELS", 100 * 100 - 1)
    key, values = rejected(Photo("bomb.png", picture("PNG", (100, 100))))
    assert (key, values["width"], values["height"]) == ("board.error.photo_pixels", 100, 100)


def _png(size: tuple[int, int], mode: str) -> bytes:
    """A flat PNG: a huge one packs into a few hundred KB, as a decompression bomb does."""
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def test_a_7000_by_7000_16_bit_png_is_refused_from_its_header() -> None:
    data = _png((7000, 7000), "I;16")  # 49 MP: under the old 50 MP cap, 98 MB decoded
    assert len(data) < 500_000
    key, values = rejected(Photo("bomb.png", data))
    assert (key, values["width"], values["height"], values["max_mp"]) == (
        "board.error.photo_pixels",
        7000,
        7000,
        24,
    )
    assert t(key, "en", **values) == (
        "bomb.png is too large a picture (7000×7000 pixels): a photo may have at most 24 megapixels"
        " (fewer for 16-bit or transparent pictures); make it smaller and choose it again."
    )
    assert t(key, "zh", **values).startswith("bomb.png 的画面太大（7000×7000 像素）")


def test_decoded_bytes_are_capped_by_mode_and_a_12_mp_png_still_reads() -> None:
    assert rejected(Photo("rgba.png", _png((4300, 4300), "RGBA")))[0] == "board.error.photo_pixels"  # 74 MB
    prepared = prepare(Photo("shelf.png", _png((4000, 3000), "RGB")))  # 36 MB decoded
    assert (prepared.width, prepared.height) == (1600, 1200)


def test_every_refusal_reads_in_both_languages() -> None:
    values = {"name": "a.jpg", "mb": 1.0, "max_mb": 5.0}
    values |= {"width": 9000, "height": 9000, "max_mp": 24}
    for key in (
        "board.error.photo_type",
        "board.error.photo_size",
        "board.error.photo_unreadable",
        "board.error.photo_pixels",
    ):
        assert "a.jpg" in t(key, "zh", **values) and "a.jpg" in t(key, "en", **values)

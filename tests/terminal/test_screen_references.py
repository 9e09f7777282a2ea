"""Layout regressions fail the suite (issue 12 point 7): a handful of screens, one per kind of layout, rendered as the
gallery renders them (tests/terminal/gallery.py: 1280×800, device pixel ratio 1, bundled font, fixed data) and
compared with the committed renderings in tests/terminal/references/.

After an intended change of the look, regenerate the references with ``make references`` and look at them (and at
``git diff --stat``) before committing. A failure writes the new rendering and a difference image next to the test's
temporary directory and names them.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QImage, QPainter

from tests.terminal import gallery

# A pixel differs when the grey level of its difference exceeds TOLERANCE (antialiasing and rounding differ a little
# between FreeType and Qt builds); a screen differs when more than PIXEL_SHARE of its pixels do. A button moved by a
# few pixels, a card gone or a line wrapped differently changes several percent of a 1280×800 screen.
TOLERANCE = 24
PIXEL_SHARE = 0.004
OVER = bytes(1 if value > TOLERANCE else 0 for value in range(256))


def difference(expected: QImage, actual: QImage) -> QImage:
    """|expected − actual| per channel, drawn by Qt (CompositionMode_Difference)."""
    diff = expected.copy()
    painter = QPainter(diff)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Difference)
    painter.drawImage(QPoint(0, 0), actual)
    painter.end()
    return diff


def differing_share(diff: QImage) -> float:
    grey = diff.convertToFormat(QImage.Format.Format_Grayscale8)
    data = bytes(grey.constBits())[: grey.bytesPerLine() * grey.height()]
    row, width = grey.bytesPerLine(), grey.width()
    pixels = b"".join(data[y * row : y * row + width] for y in range(grey.height()))
    return pixels.translate(OVER).count(1) / len(pixels)


@pytest.mark.parametrize("key", gallery.REFERENCES)
def test_screen_matches_its_reference_rendering(qapp, key, tmp_path):
    reference = gallery.REFERENCE_DIR / f"{key}.png"
    assert reference.exists(), f"no reference for {key}: run `make references`"
    [entry] = [state for state in gallery.STATES if state.key == key]
    actual = gallery.render(entry).image.convertToFormat(QImage.Format.Format_RGB32)
    expected = QImage(str(reference)).convertToFormat(QImage.Format.Format_RGB32)
    assert (actual.width(), actual.height()) == (expected.width(), expected.height())
    if actual == expected:
        return
    diff = difference(expected, actual)
    share = differing_share(diff)
    if share > PIXEL_SHARE:
        actual.save(str(tmp_path / f"{key}.png"))
        diff.save(str(tmp_path / f"{key}-diff.png"))
        pytest.fail(
            f"{key}: {share:.2%} of the pixels differ from {reference.name} (allowed {PIXEL_SHARE:.2%}); "
            f"rendering and difference in {tmp_path}. If the change is intended: make references"
        )

"""The terminal's design system: tokens, the one application stylesheet, the palette and the bundled fonts.

Every colour is a token of the Digital Agency's design system (DADS, ``digital-go-jp/design-tokens``, MIT); the
names in the comments are theirs. Screens never style themselves: they pick a *role* with dynamic properties and the
stylesheet below gives each role its look (see ``terminal_agent/ui/README.md``)::

    widget.setProperty("variant", "primary")   # QPushButton: primary / secondary / danger / key / method
    label.setProperty("role", "heading")       # QLabel: title, heading, body, muted, caption, instruction, ...
    frame.setProperty("tone", "error")         # Notice / Banner: success, error, warning, info

``apply_theme(app)`` loads BIZ UDGothic from the package (``assets/fonts``, SIL OFL) and sets the font, the palette
and the stylesheet; it is idempotent. Sizes are in logical pixels, so a 150 % display scales them crisply.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLocale
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget

ASSETS = Path(__file__).resolve().parent / "assets"
FONT_FILES = ("BIZUDGothic-Regular.ttf", "BIZUDGothic-Bold.ttf")
FONT_FAMILY = "BIZ UDGothic"
FALLBACK_FAMILY = "Noto Sans CJK JP"


# --- colour tokens (DADS primitives) --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Colors:
    white: str = "#ffffff"  # neutral-white
    surface: str = "#f2f2f2"  # solid-gray-50: page background
    divider: str = "#cccccc"  # solid-gray-200: card borders, rules (decorative)
    control_border: str = "#767676"  # solid-gray-536: field and checkbox outlines (≥ 3:1 on white)
    disabled_bg: str = "#e6e6e6"  # solid-gray-100
    disabled_text: str = "#666666"  # solid-gray-600
    text: str = "#1a1a1a"  # solid-gray-900
    text_muted: str = "#4d4d4d"  # solid-gray-700
    primary: str = "#0017c1"  # blue-900: primary buttons, links, focus of fields
    primary_hover: str = "#00118f"  # blue-1000
    primary_pressed: str = "#000060"  # blue-1200
    primary_soft: str = "#e8f1fe"  # blue-50: selected rows, info notices, hover of secondary buttons
    header: str = "#00118f"  # blue-1000: the header bar
    on_dark: str = "#ffffff"
    on_dark_disabled: str = "#7096f8"  # blue-400: a disabled header control (exempt from contrast minimums)
    focus: str = "#ffd43d"  # yellow-300: focus ring on dark fills
    focus_dark: str = "#000000"  # focus ring on light fills
    success: str = "#197a4b"  # green-800 (semantic success-2): the 資格有効 banner
    success_soft: str = "#e6f5ec"  # green-50
    success_text: str = "#115a36"  # green-900
    error: str = "#ce0000"  # red-900 (semantic error-2): the invalid banner, danger buttons, field errors
    error_hover: str = "#a90000"  # red-1000
    error_soft: str = "#fdeeee"  # red-50
    error_text: str = "#a90000"  # red-1000
    warning: str = "#c74700"  # orange-800 (semantic warning-orange-2): notice accent
    warning_soft: str = "#ffeee2"  # orange-50
    warning_text: str = "#8b3200"  # orange-1000
    caution: str = "#927200"  # yellow-900 (semantic warning-yellow-2): certificate notices accent
    caution_soft: str = "#fbf5e0"  # yellow-50
    caution_text: str = "#604b00"  # yellow-1200
    info: str = "#0017c1"  # blue-900
    info_soft: str = "#e8f1fe"  # blue-50
    info_text: str = "#00118f"  # blue-1000


COLORS = Colors()

# Every foreground/background pair the stylesheet uses, with the WCAG 2.2 AA minimum it must meet
# (4.5 for text, 3.0 for large text and for the boundaries of controls). tests/terminal/test_theme.py checks them.
CONTRAST_PAIRS: list[tuple[str, str, float]] = [
    ("text", "white", 4.5),
    ("text", "surface", 4.5),
    ("text_muted", "white", 4.5),
    ("text_muted", "surface", 4.5),
    ("on_dark", "header", 4.5),
    ("on_dark", "primary", 4.5),
    ("on_dark", "primary_hover", 4.5),
    ("on_dark", "primary_pressed", 4.5),
    ("primary", "white", 4.5),
    ("primary", "primary_soft", 4.5),
    ("text", "primary_soft", 4.5),
    ("disabled_text", "disabled_bg", 4.5),
    ("on_dark", "success", 4.5),
    ("success_text", "success_soft", 4.5),
    ("on_dark", "error", 4.5),
    ("on_dark", "error_hover", 4.5),
    ("error", "white", 4.5),
    ("error_text", "error_soft", 4.5),
    ("warning_text", "warning_soft", 4.5),
    ("caution_text", "caution_soft", 4.5),
    ("info_text", "info_soft", 4.5),
    ("control_border", "white", 3.0),
    ("warning", "warning_soft", 3.0),
    ("caution", "caution_soft", 3.0),
    ("focus", "header", 3.0),
    ("focus", "primary", 3.0),
    ("focus_dark", "white", 3.0),
]


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.2 relative luminance of ``#rrggbb``."""
    value = hex_colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio (1–21) of two ``#rrggbb`` colours."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# --- type scale (DADS font sizes, logical px; body 20 px = 15 pt) ----------------------------------------------------
@dataclass(frozen=True)
class TypeScale:
    caption: int = 16  # footer, 画面番号, secondary hints (12 pt)
    body: int = 20  # everything else (15 pt)
    label: int = 20  # field labels (bold)
    heading: int = 24  # card and section titles (bold)
    title: int = 28  # the header bar's title (bold)
    instruction: int = 28  # the one big instruction of a step
    patient: int = 36  # patient-facing instructions, read across the counter
    banner: int = 36  # 資格有効 / この資格は無効です
    name: int = 45  # the patient's name on C-04-01-W
    key: int = 40  # keypad digits
    pin_dots: int = 48


TYPE = TypeScale()


# --- spacing, radii, sizes (logical px) -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Spacing:
    xs: int = 4
    s: int = 8
    m: int = 16
    l: int = 24  # noqa: E741 - a token name
    xl: int = 32
    xxl: int = 48


SPACE = Spacing()


@dataclass(frozen=True)
class Sizes:
    touch: int = 48  # the smallest touch target (WCAG 2.5.5 / DADS)
    button: int = 56  # buttons
    field: int = 52  # line edits, date edits
    header: int = 76
    footer: int = 48
    icon: int = 28
    key: int = 80  # patient keypad keys
    radius_s: int = 8
    radius_m: int = 12
    radius_l: int = 16
    content_max: int = 1120  # widest a column of content gets on a landscape tablet


SIZE = Sizes()


def stylesheet() -> str:
    """The one application stylesheet, built from the tokens."""
    c, t, s, z = COLORS, TYPE, SPACE, SIZE
    return f"""
* {{ font-size: {t.body}px; color: {c.text}; }}
QMainWindow, QStackedWidget, QWidget#pageBody, QScrollArea#pageScroll, QWidget#pageScrollContent {{
    background: {c.surface};
}}
QToolTip {{ background: {c.text}; color: {c.white}; border: none; padding: {s.xs}px {s.s}px; font-size: {t.caption}px; }}

/* header bar, footer, step indicator */
QFrame#headerBar {{ background: {c.header}; border: none; }}
QFrame#headerBar QLabel {{ color: {c.on_dark}; background: transparent; }}
QLabel#screenTitle {{ font-size: {t.title}px; font-weight: bold; color: {c.on_dark}; }}
QToolButton[variant="header"] {{
    color: {c.on_dark}; background: transparent; border: 2px solid transparent; border-radius: {z.radius_s}px;
    min-height: {z.button}px; min-width: {z.button}px; padding: 0 {s.s}px; font-size: {t.body}px; font-weight: bold;
}}
QToolButton[variant="header"]:hover {{ background: {c.primary}; }}
QToolButton[variant="header"]:pressed {{ background: {c.primary_pressed}; }}
QToolButton[variant="header"]:checked {{ background: {c.primary}; border-color: {c.on_dark}; }}
QToolButton[variant="header"]:focus {{ border: 3px solid {c.focus}; }}
QToolButton[variant="header"]:disabled {{ color: {c.on_dark_disabled}; background: transparent; border-color: transparent; }}
QToolButton[variant="header"]::menu-indicator {{ image: none; width: 0; }}
QFrame#footer {{ background: {c.white}; border: none; border-top: 1px solid {c.divider}; }}
QLabel#screenId {{ color: {c.text_muted}; font-size: {t.caption}px; }}
QFrame#statusStrip QLabel {{ font-size: {t.caption}px; color: {c.text_muted}; }}
QLabel#statusOnline[online="true"] {{ color: {c.success_text}; font-weight: bold; }}
QLabel#statusOnline[online="false"] {{ color: {c.error_text}; font-weight: bold; }}
QLabel#statusPending[waiting="true"] {{ color: {c.warning_text}; font-weight: bold; }}
QFrame#stepIndicator {{ background: {c.white}; border: none; border-bottom: 1px solid {c.divider}; }}
QFrame#stepIndicator QLabel {{
    font-weight: bold; padding: {s.xs}px {s.m}px; border: 1px solid transparent; border-radius: {z.radius_s}px;
}}
QLabel[step="done"] {{ color: {c.success_text}; }}
QLabel[step="current"] {{ color: {c.on_dark}; background: {c.primary}; border-color: {c.primary}; }}
QLabel[step="todo"] {{ color: {c.text_muted}; }}
QLabel#stepArrow {{ color: {c.text_muted}; }}
QFrame#actionBar {{ background: {c.white}; border: none; border-top: 1px solid {c.divider}; }}

/* text roles */
QLabel[role="heading"] {{ font-size: {t.heading}px; font-weight: bold; }}
QLabel[role="label"] {{ font-size: {t.label}px; font-weight: bold; }}
QLabel[role="muted"] {{ color: {c.text_muted}; }}
QLabel[role="caption"] {{ color: {c.text_muted}; font-size: {t.caption}px; }}
QLabel[role="instruction"] {{ font-size: {t.instruction}px; font-weight: bold; }}
QLabel[role="patient"] {{ font-size: {t.patient}px; font-weight: bold; }}
QLabel[role="fieldError"] {{ color: {c.error}; font-weight: bold; }}
QLabel[role="required"] {{
    color: {c.on_dark}; background: {c.error}; border-radius: {z.radius_s // 2}px; padding: 0 {s.s}px;
    font-size: {t.caption}px; font-weight: bold;
}}
QLabel[role="toast"] {{
    color: {c.white}; background: {c.text}; border-radius: {z.radius_s}px; padding: {s.s}px {s.m}px;
}}
QLabel[role="name"] {{ font-size: {t.name}px; font-weight: bold; }}
QLabel[role="kana"] {{ font-size: {t.heading}px; color: {c.text_muted}; }}
QLabel[role="pinDots"] {{ font-size: {t.pin_dots}px; color: {c.primary}; }}

/* cards, notices, banners */
QFrame[role="card"] {{ background: {c.white}; border: 1px solid {c.divider}; border-radius: {z.radius_m}px; }}
QLabel[role="rowLabel"] {{ color: {c.text_muted}; }}
QLabel[role="rowValue"] {{ font-weight: bold; }}
QFrame[role="notice"] {{ border-radius: 0; border: none; border-left: 6px solid {c.info}; background: {c.info_soft}; }}
QFrame[role="notice"] QLabel {{ background: transparent; color: {c.info_text}; font-weight: bold; }}
QFrame[role="notice"][tone="warning"] {{ border-left-color: {c.warning}; background: {c.warning_soft}; }}
QFrame[role="notice"][tone="warning"] QLabel {{ color: {c.warning_text}; }}
QFrame[role="notice"][tone="caution"] {{ border-left-color: {c.caution}; background: {c.caution_soft}; }}
QFrame[role="notice"][tone="caution"] QLabel {{ color: {c.caution_text}; }}
QFrame[role="notice"][tone="error"] {{ border-left-color: {c.error}; background: {c.error_soft}; }}
QFrame[role="notice"][tone="error"] QLabel {{ color: {c.error_text}; }}
QFrame[role="notice"][tone="success"] {{ border-left-color: {c.success}; background: {c.success_soft}; }}
QFrame[role="notice"][tone="success"] QLabel {{ color: {c.success_text}; }}
QFrame[role="notice"][textSize="large"] QLabel {{ font-size: {t.instruction}px; }}
QFrame[role="banner"] {{ border-radius: {z.radius_m}px; border: none; background: {c.success}; }}
QFrame[role="banner"][tone="error"] {{ background: {c.error}; }}
QFrame[role="banner"] QLabel {{ color: {c.on_dark}; background: transparent; font-size: {t.banner}px; font-weight: bold; }}

/* buttons */
QPushButton {{
    min-height: {z.button}px; padding: 0 {s.l}px; border-radius: {z.radius_s}px; font-weight: bold;
    background: {c.white}; color: {c.primary}; border: 2px solid {c.primary};
}}
QPushButton:hover {{ background: {c.primary_soft}; }}
QPushButton:pressed {{ background: {c.primary_soft}; border-color: {c.primary_pressed}; color: {c.primary_pressed}; }}
QPushButton:focus {{ border: 3px solid {c.focus_dark}; }}
QPushButton[variant="primary"] {{ background: {c.primary}; color: {c.on_dark}; border: 2px solid {c.primary}; }}
QPushButton[variant="primary"]:hover {{ background: {c.primary_hover}; border-color: {c.primary_hover}; }}
QPushButton[variant="primary"]:pressed {{ background: {c.primary_pressed}; border-color: {c.primary_pressed}; }}
QPushButton[variant="primary"]:focus {{ border: 3px solid {c.focus}; }}
QPushButton[variant="danger"] {{ background: {c.error}; color: {c.on_dark}; border: 2px solid {c.error}; }}
QPushButton[variant="danger"]:hover, QPushButton[variant="danger"]:pressed {{
    background: {c.error_hover}; border-color: {c.error_hover};
}}
QPushButton[variant="danger"]:focus {{ border: 3px solid {c.focus}; }}
QPushButton:disabled, QPushButton[variant="primary"]:disabled, QPushButton[variant="danger"]:disabled {{
    background: {c.disabled_bg}; color: {c.disabled_text}; border: 2px solid {c.disabled_bg};
}}
QPushButton[variant="key"] {{
    min-height: {z.key}px; min-width: {z.key}px; font-size: {t.key}px; color: {c.text}; border: 2px solid {c.control_border};
    border-radius: {z.radius_m}px;
}}
QPushButton[variant="key"][keyKind="edit"] {{ font-size: {t.heading}px; }}
QPushButton[variant="method"] {{
    min-height: 88px; text-align: left; padding: {s.s}px {s.l}px; font-size: {t.heading}px;
    color: {c.text}; border: 2px solid {c.control_border}; border-radius: {z.radius_m}px;
}}
QPushButton[variant="method"]:hover {{ border-color: {c.primary}; background: {c.primary_soft}; }}
QPushButton[variant="method"]:focus {{ border: 3px solid {c.focus_dark}; }}
QToolButton {{
    min-height: {z.touch}px; min-width: {z.touch}px; border-radius: {z.radius_s}px; border: 2px solid {c.control_border};
    background: {c.white}; padding: 0 {s.s}px;
}}
QToolButton:checked {{ background: {c.primary_soft}; border-color: {c.primary}; }}
QToolButton:focus {{ border: 3px solid {c.focus_dark}; }}
QToolButton:disabled {{ color: {c.disabled_text}; background: {c.disabled_bg}; border-color: {c.disabled_bg}; }}
QPushButton[variant="disclosure"] {{
    border: 2px solid transparent; background: transparent; text-align: left; font-size: {t.heading}px;
    color: {c.text}; padding: 0 {s.s}px; min-height: {z.touch}px;
}}
QPushButton[variant="disclosure"]:hover {{ background: {c.primary_soft}; }}
QPushButton[variant="disclosure"]:focus {{ border: 3px solid {c.focus_dark}; }}

/* fields */
QLineEdit, QDateEdit, QComboBox {{
    min-height: {z.field}px; padding: 0 {s.m}px; background: {c.white}; border: 1px solid {c.control_border};
    border-radius: {z.radius_s}px; selection-background-color: {c.primary}; selection-color: {c.on_dark};
}}
QLineEdit:focus, QDateEdit:focus, QComboBox:focus {{ border: 3px solid {c.primary}; padding: 0 {s.m - 2}px; }}
QLineEdit[invalid="true"] {{ border: 3px solid {c.error}; padding: 0 {s.m - 2}px; }}
QDateEdit::drop-down, QComboBox::drop-down {{ width: {z.touch}px; border: none; }}
QDateEdit::down-arrow {{ image: url({icon_path("calendar")}); width: 28px; height: 28px; }}
QCalendarWidget QToolButton {{ color: {c.text}; min-width: {z.touch}px; }}
QCalendarWidget QAbstractItemView {{ selection-background-color: {c.primary}; selection-color: {c.on_dark}; }}
QCheckBox {{ spacing: {s.m}px; min-height: {z.touch}px; background: transparent; }}
QCheckBox::indicator {{
    width: 32px; height: 32px; border: 2px solid {c.control_border}; border-radius: {z.radius_s // 2}px; background: {c.white};
}}
QCheckBox::indicator:checked {{ background: {c.primary}; border-color: {c.primary}; image: url({icon_path("check")}); }}
QCheckBox:focus {{ color: {c.primary}; }}
QCheckBox[variant="switch"] {{ font-weight: bold; }}
QCheckBox[variant="switch"]::indicator {{
    width: 64px; height: 36px; border: none; background: transparent; image: url({icon_path("switch-off")});
}}
QCheckBox[variant="switch"]::indicator:checked {{ image: url({icon_path("switch-on")}); background: transparent; }}
QPushButton[variant="row"], QPushButton[variant="rowDanger"] {{
    text-align: left; min-height: 64px; padding: 0 {s.m}px; border: none; border-radius: 0;
    border-bottom: 1px solid {c.divider}; background: transparent; color: {c.text};
}}
QPushButton[variant="rowDanger"] {{ color: {c.error}; }}
QPushButton[variant="row"]:hover, QPushButton[variant="rowDanger"]:hover {{ background: {c.primary_soft}; }}
QPushButton[variant="row"]:focus, QPushButton[variant="rowDanger"]:focus {{ border: 3px solid {c.focus_dark}; }}
QFrame#switchRow {{ border: none; border-bottom: 1px solid {c.divider}; }}
QLabel[role="empty"] {{ color: {c.text_muted}; font-size: {t.heading}px; }}
QTextBrowser {{
    background: {c.white}; border: 1px solid {c.divider}; border-radius: {z.radius_m}px; padding: {s.m}px;
}}

/* lists and menus */
QTableWidget, QTableView {{
    background: {c.white}; border: 1px solid {c.divider}; border-radius: {z.radius_m}px; gridline-color: {c.divider};
    selection-background-color: {c.primary_soft}; selection-color: {c.text}; alternate-background-color: {c.surface};
}}
QTableWidget::item, QTableView::item {{ padding: 0 {s.m}px; }}
QHeaderView::section {{
    background: {c.white}; color: {c.text_muted}; font-weight: bold; border: none;
    border-bottom: 2px solid {c.divider}; padding: {s.s}px {s.m}px; min-height: {z.touch}px;
}}
QMenu {{ background: {c.white}; border: 1px solid {c.divider}; padding: {s.s}px 0; }}
QMenu::item {{ padding: {s.m}px {s.xl}px; min-height: {z.touch - 2 * s.m}px; }}
QMenu::item:selected {{ background: {c.primary_soft}; color: {c.text}; }}
QScrollArea {{ border: none; }}
QScrollBar:vertical {{ width: 16px; background: transparent; margin: 0; }}
QScrollBar::handle:vertical {{ background: {c.control_border}; border-radius: 6px; min-height: {z.touch}px; margin: 2px; }}
QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical {{ height: 0; }}
QScrollBar::add-page:vertical, QScrollBar::sub-page:vertical {{ background: transparent; }}

/* dialogs */
QMessageBox {{ background: {c.white}; }}
QMessageBox QLabel {{ font-size: {t.body}px; }}
QMessageBox QLabel#qt_msgbox_label {{ min-width: 420px; }}
QMessageBox QPushButton {{ min-width: 140px; }}
"""


def palette() -> QPalette:
    """The same colours for the parts Qt draws without the stylesheet (focus frames, selections, tooltips)."""
    c = COLORS
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: c.surface,
        QPalette.ColorRole.WindowText: c.text,
        QPalette.ColorRole.Base: c.white,
        QPalette.ColorRole.AlternateBase: c.surface,
        QPalette.ColorRole.Text: c.text,
        QPalette.ColorRole.Button: c.white,
        QPalette.ColorRole.ButtonText: c.text,
        QPalette.ColorRole.Highlight: c.primary,
        QPalette.ColorRole.HighlightedText: c.on_dark,
        QPalette.ColorRole.ToolTipBase: c.text,
        QPalette.ColorRole.ToolTipText: c.white,
        QPalette.ColorRole.PlaceholderText: c.control_border,
        QPalette.ColorRole.Link: c.primary,
        QPalette.ColorRole.BrightText: c.white,
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(c.disabled_text))
    return pal


def icon_path(name: str) -> str:
    """Path of one of our SVG icons (``assets/icons/<name>.svg``), with forward slashes for the stylesheet."""
    return (ASSETS / "icons" / f"{name}.svg").as_posix()


def illustration_path(name: str) -> str:
    return (ASSETS / "illustrations" / f"{name}.svg").as_posix()


_loaded_families: list[str] = []


def load_fonts() -> list[str]:
    """Register the bundled BIZ UDGothic (Regular, Bold) with Qt once; returns the families found."""
    if not _loaded_families:
        for name in FONT_FILES:
            font_id = QFontDatabase.addApplicationFont(str(ASSETS / "fonts" / name))
            if font_id < 0:
                raise RuntimeError(f"the bundled font {name} could not be loaded")
            for family in QFontDatabase.applicationFontFamilies(font_id):
                if family not in _loaded_families:
                    _loaded_families.append(family)
    return list(_loaded_families)


def app_font(pixel_size: int = TYPE.body) -> QFont:
    """BIZ UDGothic with Noto Sans CJK JP as fallback, unhinted and greyscale-antialiased so that every machine draws
    the same pixels."""
    font = QFont()
    font.setFamilies([FONT_FAMILY, FALLBACK_FAMILY])
    font.setPixelSize(pixel_size)
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    font.setStyleStrategy(QFont.StyleStrategy(QFont.StyleStrategy.PreferAntialias | QFont.StyleStrategy.NoSubpixelAntialias))
    return font


def apply_theme(app: QApplication) -> None:
    """Fonts, Fusion style (the same on Windows and Linux), palette and the stylesheet."""
    load_fonts()
    if app.property("mynaTheme"):
        return
    QLocale.setDefault(QLocale(QLocale.Language.Japanese, QLocale.Country.Japan))  # calendars, numbers
    app.setStyle(QStyleFactory.create("Fusion"))
    app.setFont(app_font())
    app.setPalette(palette())
    app.setStyleSheet(stylesheet())
    app.setProperty("mynaTheme", True)


def set_style_property(widget: QWidget, name: str, value: object) -> None:
    """Change a dynamic property the stylesheet selects on, and re-polish so the new look shows at once."""
    widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.updateGeometry()  # a bold or padded look may need another size
    widget.update()

"""Fonts, labels and swatches shared by the window's parts, and `StyleCache`: a widget's
style sheet is set only when it changes (each setStyleSheet re-polishes the widget)."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from holdbeat.gui import palette as pal


def font(px: int, bold: bool = False, italic: bool = False) -> QtGui.QFont:
    f = QtGui.QFont()
    f.setPixelSize(px)
    f.setBold(bold)
    f.setItalic(italic)
    return f


def label(
    px: int, bold: bool = False, colour: str = pal.FOREGROUND, italic: bool = False
) -> QtWidgets.QLabel:
    lab = QtWidgets.QLabel()
    # beliefs, prompts and names come from files: shown as text, never run as markup
    lab.setTextFormat(QtCore.Qt.TextFormat.PlainText)
    lab.setFont(font(px, bold, italic))
    lab.setStyleSheet(f"color: {colour};")
    lab.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    return lab


def caption(text: str, colour: str = pal.MUTED) -> QtWidgets.QLabel:
    lab = label(15, colour=colour)
    lab.setText(text)
    return lab


def swatch(style: str, size: tuple[int, int] = (22, 14)) -> QtWidgets.QLabel:
    sw = QtWidgets.QLabel()
    sw.setFixedSize(*size)
    sw.setStyleSheet(style)
    return sw


class StyleCache:
    """The last style sheet set on each widget, so an unchanged one is not set again."""

    def __init__(self) -> None:
        self._css: dict[int, str] = {}

    def set(self, widget: QtWidgets.QWidget, css: str) -> bool:
        """Returns whether the style changed (and was set)."""
        if self._css.get(id(widget)) == css:
            return False
        self._css[id(widget)] = css
        widget.setStyleSheet(css)
        return True

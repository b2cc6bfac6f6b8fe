"""The window's legend under the plots: what the colours and lines mean, and the keys. Built
once; it shows nothing that changes during a session."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from holdbeat.gui import palette as pal
from holdbeat.gui.labels import caption, font, label, swatch
from holdbeat.keys import CONTROL_KEYS, MARKER_HELP, MARKER_KEYS


class Legend(QtWidgets.QFrame):
    """Two rows: phases and lines (swatch + caption each), then the keys."""

    def __init__(self, window_s: float) -> None:
        super().__init__()
        rows = QtWidgets.QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(2)
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(8)
        rows.addLayout(row)
        row.addWidget(caption("phases:"))
        for mode in pal.MODE_ORDER:
            r, g, b, _ = pal.rgba(pal.mode_colour(mode), 255)
            row.addWidget(
                swatch(f"background: rgba({r},{g},{b},150); border: 1px solid rgb({r},{g},{b});")
            )
            row.addWidget(caption(mode, pal.FOREGROUND))
            row.addSpacing(4)
        row.addSpacing(14)
        row.addWidget(caption("lines:"))
        for style, size, what in (
            (f"background: {pal.HR_TREND};", (22, 4), f"HR ({window_s:.0f} s mean)"),
            (f"background: {pal.HR_BEAT};", (22, 1), "HR per beat"),
            (f"background: {pal.LN_RMSSD};", (22, 4), "ln RMSSD"),
            (
                f"background: rgba(86,180,233,70); border: 1px dashed {pal.BLUE};",
                (22, 12),
                "baseline band",
            ),
            (f"background: {pal.CATCHUP};", (4, 16), "caught up"),
        ):
            row.addWidget(swatch(style, size))
            row.addWidget(caption(what, pal.FOREGROUND))
            row.addSpacing(4)
        flag = caption("✖", pal.FLAGGED)
        flag.setFont(font(16, bold=True))
        row.addWidget(flag)
        row.addWidget(caption("doubtful beat", pal.FOREGROUND))
        row.addStretch(1)
        lay = QtWidgets.QHBoxLayout()
        rows.addLayout(lay)
        keys = []
        for key, kind in MARKER_KEYS.items():
            keys.append(
                f"<b>{key}</b> <span style='color:{pal.MARKER_COLOURS[kind]}'>{kind}</span>"
            )
        keys += [f"<b>{k}</b> {'next phase' if k == 'a' else 'end'}" for k in CONTROL_KEYS]
        keys += [f"<b>{k}</b> zoom" for k in pal.VIEW_KEYS]
        self.key_legend = label(17)
        self.key_legend.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.key_legend.setText("keys: " + " &nbsp;·&nbsp; ".join(keys))
        self.key_legend.setToolTip(
            "\n".join(f"{k}: {kind} — {MARKER_HELP[kind]}" for k, kind in MARKER_KEYS.items())
        )
        lay.addWidget(self.key_legend)
        lay.addStretch(1)

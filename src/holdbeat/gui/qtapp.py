"""The one Qt application of a process, shared by the window, the offscreen screenshot and
the sound cues. Light: PySide6's widgets only, no pyqtgraph."""

from __future__ import annotations

import os
import sys

from PySide6 import QtWidgets


def qt_app() -> QtWidgets.QApplication:
    """The one QApplication; offscreen when there is no display (screenshots on CI, sound
    cues in a console session). A widgets application from the start: the sound cues made a
    bare QCoreApplication, on which a later --screenshot could not draw."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        from holdbeat.gui.display import display_available

        if not display_available():
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QtWidgets.QApplication(sys.argv[:1])
        app.setApplicationName("holdbeat")
    app.setQuitOnLastWindowClosed(False)  # the session, not Qt, decides when we are done
    return app  # type: ignore[return-value]

"""The live window as a sink, and `run_windowed`: Qt and asyncio (bleak) in one loop.

`ViewSink.handle` only appends to the model's preallocated arrays and schedules a
redraw (at most ~30 per second); the recorder runs before it in the same call, so a
slow paint can neither delay nor drop a beat on disk. qasync runs asyncio on Qt's
event loop: the source (strap, simulator, recording) is an asyncio task, the window
is Qt, and neither blocks the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6 import QtWidgets  # the binding first, then pyqtgraph (in gui.window)

# isort: split

from holdbeat.events import Connection, End, Header, SessionEvent
from holdbeat.gui.model import ViewModel
from holdbeat.gui.qtapp import qt_app
from holdbeat.gui.window import LiveWindow
from holdbeat.pipeline import Control, Stop
from holdbeat.process import Processed
from holdbeat.safe_text import for_terminal
from holdbeat.session import Protocol

CLOSE_GRACE_S = 3.0  # after Stop, how long the source may take to deliver its next event


class ViewSink:
    """Receives every event into a ViewModel; the window draws from it on its own timer."""

    label = "the live window"

    def __init__(
        self, model: ViewModel | None = None, recording: Callable[[], Path | None] | None = None
    ) -> None:
        self.model = model or ViewModel()
        self.recording = recording
        self.observers: list[Callable[[SessionEvent], None]] = []  # e.g. the window's practice

    def start(self, header: Header, protocol: Protocol | None) -> None:
        path = self.recording() if self.recording else None
        self.model.status.recording = str(path) if path else ""
        self.model.start(header, protocol)

    def handle(self, ev: SessionEvent, processed: Processed | None) -> None:
        self.model.handle(ev, processed)
        for observe in self.observers:
            observe(ev)

    def finish(self, end: End) -> None:
        self.model.finish(end)


def png_bytes(win: QtWidgets.QWidget) -> bytes:
    from PySide6 import QtCore

    data = QtCore.QByteArray()
    buf = QtCore.QBuffer(data)
    buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not win.grab().save(buf, "PNG"):
        raise ValueError("Qt could not encode the window as PNG")
    buf.close()
    return bytes(data.data())


def save_screenshot(win: QtWidgets.QWidget, path: Path) -> str:
    """PNG of the window through the one output writer (0600, atomic, never over a
    recording or a non-regular file); returns an error message, or "" on success."""
    from holdbeat.output import OutputError, private_dirs, write_file

    path = Path(path)
    try:
        private_dirs(path.parent)
        write_file(path, png_bytes(win), force=True)
    except OutputError as e:
        return f"cannot save the screenshot: {e}"
    except (OSError, ValueError) as e:
        return f"cannot save the screenshot: {e}"
    return ""


@contextlib.contextmanager
def _quiet_offscreen_plugin():
    """Qt's offscreen platform says "This plugin does not support propagateSizeHints()"
    when a window is shown: not ours to act on, so not on the user's terminal. Any other
    Qt message still goes where it went."""
    from PySide6 import QtCore

    previous = None

    def handler(mode, context, message: str) -> None:
        if "propagateSizeHints" in message:
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            sys.stderr.write(for_terminal(message) + "\n")

    previous = QtCore.qInstallMessageHandler(handler)
    try:
        yield
    finally:
        QtCore.qInstallMessageHandler(previous)


def render_offscreen(model: ViewModel, path: Path, view_minutes: float = 5.0) -> str:
    """The live window drawn once, offscreen, from a finished session's model, saved as
    a PNG (--headless --screenshot). Returns an error message or ""."""
    if QtWidgets.QApplication.instance() is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # headless: never open a window
    app = qt_app()
    win = LiveWindow(model, lambda *_: None, now_s=lambda: model.now_s, view_minutes=view_minutes)
    try:
        win.allow_close()
        with _quiet_offscreen_plugin():
            win.show()
        win.redraw()
        for _ in range(3):  # let Qt lay out the final texts
            app.processEvents()
        return save_screenshot(win, path)
    finally:
        win.close()
        win.deleteLater()
        app.processEvents()


def ask_after_note(win: LiveWindow, path: Path) -> None:
    """After the session: a small dialog for the 'after' note, appended to the recording."""
    from holdbeat.gui.practice import NoteDialog
    from holdbeat.notes import NoteError, append_note

    def save(text: str) -> str:
        try:
            append_note(path, text)
        except (NoteError, OSError) as e:
            return f"not saved: {e}"
        return ""

    win.practice.dialog = NoteDialog(win, save)
    win.practice.dialog.show_beside(win)


def run_windowed(plan, recorder) -> End:
    """Run the session with the live window; returns its End. Used by `execute`."""
    os.environ.setdefault("QT_API", "pyside6")  # qasync must drive the binding pyqtgraph uses
    import qasync

    app = qt_app()
    return qasync.run(_windowed(plan, recorder, app))


async def _windowed(plan, recorder, app: QtWidgets.QApplication) -> End:
    queue: asyncio.Queue[tuple[float | None, Control]] = asyncio.Queue()
    model = ViewModel(window_s=plan.window_s)
    sink = ViewSink(model, recording=(lambda: recorder.path) if recorder is not None else None)

    def now_s() -> float:
        clock = plan.clock  # `prepare` may set it (hold: the clock starts once connected)
        return clock.now_s() if clock is not None else model.now_s

    def on_control(t_s: float | None, c: Control) -> None:
        queue.put_nowait((t_s, c))

    win = LiveWindow(model, on_control, now_s=now_s, view_minutes=plan.view_minutes)
    sink.observers.append(win.practice.observe)
    closed = asyncio.Event()
    win.closed.connect(closed.set)
    win.show()
    closing = asyncio.ensure_future(closed.wait())
    session: asyncio.Future | None = None
    interrupted = False

    loop = asyncio.get_running_loop()

    def stop_with(reason: str) -> Callable[..., None]:
        def stop() -> None:
            # Ctrl-C / SIGTERM / SIGHUP: end the session and leave, like closing the window
            nonlocal interrupted
            interrupted = True
            on_control(None, Stop(reason))
            win.allow_close()
            win.close()

        return lambda *_: loop.call_soon_threadsafe(stop)  # not inside a Qt call

    # Python runs a signal handler only when it next runs bytecode; an idle Qt loop (the
    # session over, the window left open for a look) would never give it the chance, and
    # SIGTERM would wait for a mouse move. A no-op tick keeps the handlers live.
    from PySide6 import QtCore

    wake = QtCore.QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(200)
    old_handlers = {}
    for name, reason in (
        ("SIGINT", "interrupted"),
        ("SIGTERM", "terminated (SIGTERM)"),
        ("SIGHUP", "hangup (SIGHUP)"),
    ):
        sig = getattr(signal, name, None)
        # a signal ignored at start (nohup, a background job) stays ignored
        if sig is not None and signal.getsignal(sig) != signal.SIG_IGN:
            old_handlers[sig] = signal.signal(sig, stop_with(reason))
    try:
        if plan.prepare is not None:
            model.handle(Connection(0.0, "connecting"), None)
            prep = asyncio.ensure_future(plan.prepare(plan))
            await asyncio.wait({prep, closing}, return_when=asyncio.FIRST_COMPLETED)
            if not prep.done():  # closed (or interrupted) while connecting: nothing recorded
                prep.cancel()
                await asyncio.gather(prep, return_exceptions=True)
                return End(0.0, "interrupted" if interrupted else "window closed")
            prep.result()  # re-raises a strap error for the command to report
            model.handle(Connection(0.0, "connected"), None)
        win.ask_ratings = plan.interactive and plan.clock is not None and plan.screenshot is None
        sinks: list = ([recorder] if recorder is not None else []) + [sink, *plan.extra_sinks]
        session = asyncio.ensure_future(plan.run(sinks, queue))
        await asyncio.wait({session, closing}, return_when=asyncio.FIRST_COMPLETED)
        if not session.done():
            # The window was closed: Stop is queued; the session applies it with the next event.
            try:
                await asyncio.wait_for(asyncio.shield(session), CLOSE_GRACE_S)
            except TimeoutError:
                session.cancel()
                await asyncio.gather(session, return_exceptions=True)
        if session.cancelled():
            end = model.end or End(model.now_s, "interrupted")
        else:
            end = session.result()  # re-raises RecordingFailed and the like
        win.allow_close()
        win.redraw()
        await asyncio.sleep(0.05)  # let Qt lay out the final texts (no nested processEvents)
        if plan.screenshot is not None:
            plan.screenshot_written(save_screenshot(win, plan.screenshot), sys.stdout)
        elif not closed.is_set() and not interrupted:
            if win.ask_ratings and recorder is not None and recorder.path is not None:
                ask_after_note(win, recorder.path)
            await closing  # the session is over; the window stays for a look until closed
        return end
    finally:
        wake.stop()
        for sig, old in old_handlers.items():
            signal.signal(sig, old)
        if session is not None and not session.done():
            session.cancel()
            await asyncio.gather(session, return_exceptions=True)
        closing.cancel()
        await asyncio.gather(closing, return_exceptions=True)
        win.allow_close()
        win.close()
        win.deleteLater()

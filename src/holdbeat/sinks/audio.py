"""Sound cues out loud: a sink that turns `cue` events, ratings and lapses into tones.

The tones are holdbeat.cues' (pure synthesis); this module only plays them. Two outputs
share one interface (`play(t_s, pcm)`):

- `QtAudioOut`: the computer's sound device through Qt Multimedia (PySide6-Addons, the
  same Qt as the window; on Linux it talks to PulseAudio/PipeWire through libpulse). A
  QAudioSink lives in its own QThread with its own event loop, so it plays the same way
  under the console view (plain asyncio) and the window (qasync), and a busy UI never
  stutters the sound.
- `WavOut`: the same tones placed at their session times in a WAV file (standard library
  `wave`), to check what a session sounded like, or to hear it without a sound device.

`open_audio()` never raises: without Qt Multimedia, libpulse or an output device it returns
None and one line saying so, and the session goes on silently (the cues are still
recorded as events).
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import threading
import wave
from pathlib import Path
from typing import Protocol as TypingProtocol

import numpy as np

from holdbeat.cues import SAMPLE_RATE, cue_pcm, rating_pcm
from holdbeat.events import Cue, End, Header, Marker, Rating, SessionEvent
from holdbeat.process import Processed


class AudioOut(TypingProtocol):
    def play(self, t_s: float, pcm: np.ndarray) -> None: ...

    def close(self) -> None: ...


# ---------------------------------------------------------------- WAV


class WavOut:
    """Mixes each sound in at its session time; `close` writes a 16-bit mono WAV."""

    def __init__(self, path: Path, rate: int = SAMPLE_RATE) -> None:
        self.path = Path(path)
        self.rate = rate
        self.sounds: list[tuple[float, np.ndarray]] = []

    def play(self, t_s: float, pcm: np.ndarray) -> None:
        self.sounds.append((max(0.0, t_s), pcm))

    def mix(self) -> np.ndarray:
        n = max((round(t * self.rate) + p.size for t, p in self.sounds), default=0)
        out = np.zeros(n, dtype=np.int32)
        for t, p in self.sounds:
            i = round(t * self.rate)
            out[i : i + p.size] += p
        return np.clip(out, -32768, 32767).astype(np.int16)

    def close(self) -> None:
        write_wav(self.path, self.mix(), self.rate)


def write_wav(path: Path, pcm: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    """Through the one output writer: 0600, atomic, never over a recording or a device."""
    from holdbeat.output import write_file

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(pcm, dtype="<i2").tobytes())
    write_file(Path(path), buf.getvalue(), force=True)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise ValueError(f"{path}: not 16-bit mono")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()


# ---------------------------------------------------------------- the sound device


class QtAudioOut:
    """Plays PCM on the default output device from a worker thread (see module doc)."""

    def __init__(self, device, rate: int = SAMPLE_RATE) -> None:
        from PySide6 import QtCore, QtMultimedia

        fmt = QtMultimedia.QAudioFormat()
        fmt.setSampleRate(rate)
        fmt.setChannelCount(1)
        fmt.setSampleFormat(QtMultimedia.QAudioFormat.SampleFormat.Int16)
        self.device_name = device.description()
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._queue = bytearray()
        self._written = 0
        self._thread = QtCore.QThread()
        self._thread.setObjectName("holdbeat-audio")
        self._worker = _Worker(self, device, fmt)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.setup)
        self._ready = threading.Event()
        self.closing = False
        self._thread.start()
        self._ready.wait(5.0)
        # Sounds still playing when the session ends (the end cue) play out; at exit the
        # thread is stopped after at most a few seconds (Qt aborts the process when a
        # running QThread is destroyed, e.g. after a session that died early).
        atexit.register(self.wait)

    def play(self, t_s: float, pcm: np.ndarray) -> None:
        with self._lock:
            self._queue += np.asarray(pcm, dtype="<i2").tobytes()

    def take(self, n: int) -> bytes:
        with self._lock:
            chunk = bytes(self._queue[:n])
            del self._queue[:n]
            self._written += len(chunk)
            return chunk

    @property
    def bytes_played(self) -> int:
        """Bytes handed to the device so far (the tests' evidence that sound went out)."""
        return self._written

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def close(self) -> None:
        """Stop once what is queued has played (returns at once; `wait` blocks)."""
        self.closing = True

    def wait(self, timeout_s: float = 4.0) -> None:
        """Block until the sound has played out and the thread stopped (or timeout_s)."""
        self.closing = True
        with contextlib.suppress(RuntimeError):
            if not self._thread.wait(round(timeout_s * 1000)):
                self._worker.stop_requested.emit()
                self._thread.quit()
                self._thread.wait(1000)


def _make_worker_class():
    from PySide6 import QtCore, QtMultimedia

    class Worker(QtCore.QObject):
        stop_requested = QtCore.Signal()

        def __init__(self, owner: QtAudioOut, device, fmt) -> None:
            super().__init__()
            self.owner = owner
            self.device = device
            self.fmt = fmt
            self.sink = None
            self.io = None
            self.timer = None
            self.stop_requested.connect(self.stop)

        @QtCore.Slot()
        def setup(self) -> None:
            self.sink = QtMultimedia.QAudioSink(self.device, self.fmt)
            self.sink.setBufferSize(self.fmt.bytesForDuration(250_000))
            self.io = self.sink.start()  # push mode: we write as room frees up
            self.timer = QtCore.QTimer()
            self.timer.setInterval(20)
            self.timer.timeout.connect(self.feed)
            self.timer.start()
            self.owner._ready.set()

        @QtCore.Slot()
        def feed(self) -> None:
            if self.sink is None or self.io is None:
                return
            err = self.sink.error()
            if err != QtMultimedia.QtAudio.Error.NoError and not self.owner.errors:
                self.owner.errors.append(f"audio output error: {err.name}")
            room = self.sink.bytesFree()
            if room > 0 and self.owner.pending:
                self.io.write(self.owner.take(room - room % 2))
            elif (
                self.owner.closing
                and not self.owner.pending
                and (
                    room >= self.sink.bufferSize()
                    or self.sink.state() != QtMultimedia.QtAudio.State.ActiveState
                )
            ):
                self.stop()  # everything played: end the thread
                QtCore.QThread.currentThread().quit()

        @QtCore.Slot()
        def stop(self) -> None:
            if self.timer is not None:
                self.timer.stop()
            if self.sink is not None:
                self.sink.stop()

    return Worker


class _LazyWorker:
    """Defers the Qt class definition until Qt Multimedia is known to import."""

    cls = None

    def __call__(self, *args):
        if _LazyWorker.cls is None:
            _LazyWorker.cls = _make_worker_class()
        return _LazyWorker.cls(*args)


_Worker = _LazyWorker()


def open_audio() -> tuple[AudioOut | None, str]:
    """The default sound output, or (None, one line saying why not). Never raises."""
    # Qt Multimedia logs its backend probing (PipeWire missing, no PulseAudio server…) on
    # stderr; this function says in one line what matters.
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false")
    try:
        from PySide6 import QtCore, QtMultimedia
    except ImportError as e:
        why = str(e).split(":")[0] if "cannot open shared object" in str(e) else str(e)
        hint = " (install libpulse0)" if "libpulse" in str(e) else ""
        return None, f"sound cues: no audio ({why}{hint}); continuing without sound"
    from PySide6 import QtWidgets

    from holdbeat.gui.qtapp import qt_app

    if QtWidgets.QApplication.instance() is None:
        # the console view has no Qt application of its own, and opens no window: a
        # widgets one, offscreen, which a --headless --screenshot can draw on afterwards
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    qt_app()
    previous = QtCore.qInstallMessageHandler(lambda *_: None)  # the probe's warnings
    try:
        device = QtMultimedia.QMediaDevices.defaultAudioOutput()
    finally:
        QtCore.qInstallMessageHandler(previous)
    if device.isNull():
        return None, "sound cues: no audio output device found; continuing without sound"
    try:
        return QtAudioOut(device), f"sound cues: playing on {device.description()}"
    except Exception as e:  # a broken audio stack must not stop the session
        return None, f"sound cues: audio output failed ({e}); continuing without sound"


# ---------------------------------------------------------------- the sink


class AudioSink:
    """Pipeline sink: `cue` events, ratings (pitch = value) and lapses become sounds.

    `out` is opened in `start`, once the Qt application (if any) exists; `note` keeps the
    one line about what happened, for the console to show.
    """

    def __init__(self, out: AudioOut | None = None, opener=open_audio, say=None) -> None:
        self.out = out
        self.opener = opener
        self.say = say
        self.note = ""
        self.failed = ""  # why the sound file could not be written (the command exits 1)
        self.played: list[tuple[float, str]] = []  # (t_s, what) for tests and the log

    def start(self, header: Header, protocol) -> None:
        if self.out is None and self.opener is not None:
            self.out, self.note = self.opener()
            if self.say is not None and self.note:
                self.say(self.note)

    def _play(self, t_s: float, what: str, pcm: np.ndarray) -> None:
        self.played.append((t_s, what))
        if self.out is not None:
            self.out.play(t_s, pcm)

    def handle(self, ev: SessionEvent, processed: Processed | None) -> None:
        if isinstance(ev, Cue):
            with contextlib.suppress(ValueError):  # a cue kind this version has no sound for
                self._play(ev.t_s, ev.kind, cue_pcm(ev.kind))
        elif isinstance(ev, Rating) and 0 <= ev.value <= 10:
            self._play(ev.t_s, f"rating {ev.value}", rating_pcm(ev.value))
        elif isinstance(ev, Marker) and ev.kind == "lapse":
            self._play(ev.t_s, "rehold", cue_pcm("rehold"))

    def finish(self, end: End) -> None:
        if self.out is not None:
            try:
                self.out.close()
            except OSError as e:
                self.failed = str(e)
                raise

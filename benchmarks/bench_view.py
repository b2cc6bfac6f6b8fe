"""Live window cost with one hour of beats on screen, offscreen, in one run.

1. Per-beat update: model append (what `ViewSink.handle` does inside the pipeline) and
   append + redraw + paint, with 1 h of beats in view (whole session) and following the
   last 5 min; against the obvious alternative (rebuild arrays from lists and setData on
   plain curves without clip-to-view / downsampling, then paint).
2. CPU per wall second while a real-time-like demo runs (qasync, paced simulated strap,
   4 ticks/s, ~1 notification/s) with 1 h already on screen: time.process_time over a
   fixed wall interval; against a naive 30 fps redraw-everything timer.
3. Notification-to-pixels latency: from `Session.feed(Hrm)` to the end of the plots'
   paint, notifications 150 ms apart.

Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_view.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from PySide6 import QtCore, QtWidgets

# isort: split
import numpy as np
import pyqtgraph as pg
import qasync

from holdbeat.events import Device, Hrm
from holdbeat.gui.model import HR_BEAT, HR_ROLL, LN, T, ViewModel
from holdbeat.gui.window import LiveWindow
from holdbeat.hrs import parse_hrm
from holdbeat.pipeline import Session, SessionClock, paced
from holdbeat.process import Processor
from holdbeat.recording_writer import new_header
from holdbeat.session import Phase, Protocol, beliefs_of
from holdbeat.sim.body import SimConfig
from holdbeat.sinks.view import ViewSink
from holdbeat.sources.simulator import simulate

HOUR_S = 3600.0


def long_protocol() -> Protocol:
    """Baseline, then fierce / soft / loving-kindness holds with rests: 2 h in all."""
    phases = [Phase("baseline", "baseline", "neutral", 300.0, "Sit still.")]
    modes = ("fierce", "soft", "loving-kindness")
    for i in range(9):
        phases.append(Phase(f"hold {i + 1}", "hold", modes[i % 3], 600.0, "Hold it.", "I am."))
        phases.append(Phase(f"rest {i + 1}", "rest", "neutral", 180.0, "Rest."))
    return Protocol("bench", tuple(phases))


def header(protocol: Protocol):
    return new_header(
        Device(name="bench strap", battery_percent=80),
        protocol=protocol.to_dict(),
        beliefs=beliefs_of(protocol),
        settings={"window_s": 60.0},
    )


class Rig:
    def __init__(self, protocol: Protocol, follow: bool) -> None:
        self.model = ViewModel()
        self.session = Session([ViewSink(self.model)], header(protocol), protocol)
        self.win = LiveWindow(self.model, lambda t, c: self.session.control(c, t), view_minutes=5)
        self.win.resize(1440, 900)
        self.win.show()
        self.win.follow = follow
        self.session.start()
        QtWidgets.QApplication.processEvents()  # exposed: repaint() really paints

    def paint(self) -> None:
        self.win.redraw()
        self.win.glw.viewport().repaint()


def split_events(protocol: Protocol, at_s: float):
    events = list(simulate(protocol, SimConfig(seed=1)))
    i = next(k for k, e in enumerate(events) if e.t_s > at_s)
    return events[:i], events[i:]


def prefill(rig: Rig, events) -> None:
    for ev in events:
        rig.session.feed(ev)
    rig.paint()
    QtWidgets.QApplication.processEvents()


def fmt_ms(x: float) -> str:
    return f"{x * 1e3:8.3f} ms"


# ---------------------------------------------------------------- 1. per beat


class NaiveCurves:
    """The obvious alternative: lists grown per beat, full arrays rebuilt, plain curves."""

    def __init__(self, rig: Rig) -> None:
        m = rig.model
        self.x = list(m.series(T))
        self.ys = [list(m.series(c)) for c in (HR_BEAT, HR_ROLL, LN)]
        plots = [rig.win.hr_plot, rig.win.hr_plot, rig.win.ln_plot]
        self.curves = []
        for plot in plots:
            c = pg.PlotDataItem(pen=pg.mkPen("k", width=2), connect="finite")
            plot.addItem(c)
            self.curves.append(c)
        for c in (rig.win.hr_beat_curve, rig.win.hr_roll_curve, rig.win.ln_curve):
            c.hide()

    def add(self, t: float, ys: tuple[float, float, float]) -> None:
        self.x.append(t)
        for lst, y in zip(self.ys, ys, strict=True):
            lst.append(y)
        x = np.array(self.x)
        for c, lst in zip(self.curves, self.ys, strict=True):
            c.setData(x, np.array(lst), connect="finite")


def bench_per_beat(protocol: Protocol, n: int = 200) -> list[tuple[str, float]]:
    pre, rest = split_events(protocol, HOUR_S)
    hrms = [e for e in rest if isinstance(e, Hrm) and parse_hrm(e.raw).rr_ms][:n]
    rows = []
    # model append only (inside the pipeline's call)
    proc = Processor()
    pairs = [(e, proc.on_hrm(e) if isinstance(e, Hrm) else None) for e in pre]
    model = ViewModel()
    sink = ViewSink(model)
    sink.start(header(protocol), protocol)
    t0 = time.perf_counter()
    for ev, p in pairs:
        sink.handle(ev, p)
    beats = model.n_beats
    rows.append(("model append per beat (ViewSink.handle)", (time.perf_counter() - t0) / beats))
    for follow in (False, True):
        rig = Rig(protocol, follow)
        prefill(rig, pre)
        times = []
        for ev in hrms:
            t0 = time.perf_counter()
            rig.session.feed(ev)
            rig.paint()
            times.append(time.perf_counter() - t0)
        what = "last 5 min in view" if follow else "1 h in view"
        rows.append((f"append+redraw+paint per notification, {what}", statistics.median(times)))
        rig.win.allow_close()
        rig.win.close()
    # the obvious alternative, 1 h in view
    rig = Rig(protocol, False)
    prefill(rig, pre)
    naive = NaiveCurves(rig)
    times = []
    for ev in hrms:
        t0 = time.perf_counter()
        rig.session.feed(ev)  # keeps phases/time as in the real thing
        m = rig.model
        naive.add(
            float(m.series(T)[-1]), tuple(float(m.series(c)[-1]) for c in (HR_BEAT, HR_ROLL, LN))
        )
        rig.win.redraw()
        rig.win.glw.viewport().repaint()
        times.append(time.perf_counter() - t0)
    rows.append(("naive: lists -> arrays, plain curves, 1 h in view", statistics.median(times)))
    rig.win.allow_close()
    rig.win.close()
    return rows


# ---------------------------------------------------------------- 2. CPU per wall second


async def realtime(rig: Rig, events, seconds: float, naive_fps: bool) -> float:
    """Feed events paced on a clock that starts at 1 h; returns CPU s per wall s."""
    clock = SessionClock(1.0)
    clock.t0 -= events[0].t_s  # the session clock starts where the prefill ended (1 h)

    timer = None
    if naive_fps:
        # the alternative: a 30 fps timer that pushes all data and repaints every frame
        def frame() -> None:
            rig.win._drawn = (-1, -1, -1)
            rig.win.redraw()
            rig.win.glw.viewport().repaint()

        timer = QtCore.QTimer()
        timer.timeout.connect(frame)
        timer.start(33)

    async def run() -> None:
        async for ev in paced(events, clock):
            rig.session.feed(ev)

    task = asyncio.ensure_future(run())
    await asyncio.sleep(1.0)  # warm-up
    c0, w0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    if timer is not None:
        timer.stop()
    return cpu / wall


def bench_cpu(protocol: Protocol, seconds: float) -> list[tuple[str, float]]:
    pre, rest = split_events(protocol, HOUR_S)
    rows = []
    for label, follow, naive in (
        ("redraw on change, 1 h in view", False, False),
        ("redraw on change, last 5 min in view", True, False),
        ("naive 30 fps full redraw, 1 h in view", False, True),
    ):
        rig = Rig(protocol, follow)
        prefill(rig, pre)
        n0 = len(rig.win.paint_times)
        share = qasync.run(realtime(rig, rest, seconds, naive))
        rows.append(
            (f"{label} ({(len(rig.win.paint_times) - n0) / (seconds + 1):.1f} paints/s)", share)
        )
        rig.win.allow_close()
        rig.win.close()
    return rows


# ---------------------------------------------------------------- 3. latency


def bench_latency(protocol: Protocol, follow: bool, n: int = 40) -> list[float]:
    pre, rest = split_events(protocol, HOUR_S)
    rig = Rig(protocol, follow)
    prefill(rig, pre)
    app = QtWidgets.QApplication.instance()
    lat = []
    # notifications that carry beats (a packet without RR changes only the texts)
    queue = [e for e in rest if isinstance(e, Hrm) and parse_hrm(e.raw).rr_ms][:n]
    for ev in queue:
        deadline = time.perf_counter() + 0.15
        while time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.002)
        t0 = time.perf_counter()
        rig.session.feed(ev)
        while True:
            app.processEvents()
            done = [t for t in rig.win.paint_times if t > t0]
            if done:
                lat.append(done[0] - t0)
                break
            if time.perf_counter() - t0 > 1.0:
                lat.append(float("inf"))
                break
    rig.win.allow_close()
    rig.win.close()
    return lat


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0, help="wall seconds per CPU run")
    args = ap.parse_args()
    QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    protocol = long_protocol()
    print(
        f"holdbeat live window benchmark · offscreen · {os.cpu_count()} CPUs"
        f" · Qt {QtCore.qVersion()}"
    )
    print("\n1. per-beat update with 1 h of beats (~4,500) on screen")
    rows = bench_per_beat(protocol)
    ours_1h = rows[1][1]
    for label, s in rows:
        print(f"   {label:<58} {fmt_ms(s)}")
    print(f"   ratio naive / ours (1 h in view): {rows[-1][1] / ours_1h:6.1f}x")
    print(
        f"\n2. CPU per wall second, real-time demo, {args.seconds:g} s measured"
        " (goal < 10 % of a core)"
    )
    cpu = bench_cpu(protocol, args.seconds)
    for label, share in cpu:
        print(f"   {label:<58} {share * 100:7.2f} %")
    print(f"   ratio naive / ours (1 h in view): {cpu[2][1] / cpu[0][1]:6.1f}x")
    print("\n3. notification-to-pixels latency: Session.feed(Hrm) -> plots painted (goal < 33 ms)")
    for follow in (True, False):
        lat = np.array(bench_latency(protocol, follow)) * 1e3
        what = "last 5 min in view" if follow else "1 h in view"
        print(
            f"   {what:<22} median {np.median(lat):6.1f} ms · p95 {np.percentile(lat, 95):6.1f} ms"
            f" · max {lat.max():6.1f} ms · n={lat.size}"
        )
    print("\n4. one paint of the plots (viewport repaint), for reference")
    for follow in (True, False):
        rig = Rig(protocol, follow)
        prefill(rig, split_events(protocol, HOUR_S)[0])
        vp = rig.win.glw.viewport()
        xs = []
        for _ in range(15):
            t0 = time.perf_counter()
            vp.repaint()
            xs.append(time.perf_counter() - t0)
        what = "last 5 min in view" if follow else "1 h in view"
        print(f"   {what:<22} median {statistics.median(xs) * 1e3:6.1f} ms")
        rig.win.allow_close()
        rig.win.close()
    print(f"\nload average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())

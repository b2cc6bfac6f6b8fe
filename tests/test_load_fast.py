"""The loader's fast paths equal the plain ones they replace.

* `clean.flag_all` == `LiveFlagger.judge` beat by beat, on every flag, other settings and
  drawn series;
* `beats.time_all` == `BeatTimer.reset()` / `BeatTimer.time` packet by packet, on every
  branch of the timer (on time, ahead of the clock, a gap, slow-clock drift, the minimum
  spacing, resets), on fixed cases and hypothesis-drawn packet streams;
* the one-pass scan of a whole file == the line-by-line scan of a stream, on damaged and
  hostile files (every warning, in order, with its line number), and the events it gives
  lazily == the events as a list.
"""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holdbeat.beats import BeatTimer, time_all
from holdbeat.clean import FlagConfig, LiveFlagger, flag_all
from holdbeat.events import Hrm, Marker
from holdbeat.hrs import encode_hrm
from holdbeat.inputs import iter_lines
from holdbeat.interop.batch_lines import hrm_line as hrm_line_for_people
from holdbeat.limits import MAX_LINE_BYTES
from holdbeat.recording import load, load_stream
from holdbeat.recording_scan import Events, _scan_bulk, _scan_lines

# ---------------------------------------------------------------- the timer


def packet_by_packet(host, packets, reset, kind=BeatTimer):
    timer = kind()
    times, gaps = [], []
    for t, rr, r in zip(host, packets, reset, strict=True):
        if r:
            timer.reset()
        ts, g = timer.time(t, rr)
        times += ts
        gaps.append(g)
    return times, gaps, timer


def all_at_once(host, packets, reset):
    timer = BeatTimer()
    flat = np.array([r for p in packets for r in p], dtype=float)
    start = np.concatenate([[0], np.cumsum([len(p) for p in packets])])
    times, gaps = time_all(timer, list(host), flat, start, list(reset))
    return times.tolist(), gaps, timer


class DecisionCounter(BeatTimer):
    """A BeatTimer that counts the packets that were not simply on time: the first, one
    after a reset, ahead of the clock, a gap, slow-clock drift or the minimum spacing (told
    from outside: the lags were cleared or the end is not the running sum)."""

    decisions = 0

    def time(self, t_host_s, rr_ms):
        before = self._t_last
        n_lags = len(self._lags)
        total_ms = 0.0
        for r in rr_ms:
            total_ms += r
        out = super().time(t_host_s, rr_ms)
        on_time = (
            before is not None
            and len(self._lags) == min(n_lags + 1, self._lags.maxlen)
            and self._t_last == before + total_ms / 1000.0
        )
        DecisionCounter.decisions += not on_time
        return out


def assert_same(host, packets, reset, monkeypatch=None):
    DecisionCounter.decisions = 0
    a_t, a_g, a_timer = packet_by_packet(host, packets, reset, DecisionCounter)
    calls = []
    if monkeypatch is not None:
        real = BeatTimer.time
        monkeypatch.setattr(BeatTimer, "time", lambda s, *a: calls.append(1) or real(s, *a))
    b_t, b_g, b_timer = all_at_once(host, packets, reset)
    if monkeypatch is not None:
        monkeypatch.undo()
        # exactly the packets that need a decision (a reset's too) are timed one by one
        assert len(calls) == DecisionCounter.decisions
    assert b_t == a_t  # bit for bit
    assert b_g == a_g
    assert b_timer._t_last == a_timer._t_last
    assert b_timer._t_prev == a_timer._t_prev
    assert list(b_timer._lags) == list(a_timer._lags)


def steady_stream(n, rr_ms=800.0, late_s=0.2, start_s=5.0):
    """One beat per packet, each packet `late_s` after its beat."""
    host, packets, t = [], [], start_s
    for _ in range(n):
        t += rr_ms / 1000.0
        host.append(t + late_s)
        packets.append([rr_ms])
    return host, packets


def test_on_time_packets_take_the_fast_path_and_equal_the_timer(monkeypatch):
    host, packets = steady_stream(600)
    host[300] += 1.65  # lags 1.65 s: still on time (the gap limit is 0.8 + 1.0 s)
    assert_same(host, packets, [False] * 600, monkeypatch)
    times, gaps, _ = all_at_once(host, packets, [False] * 600)
    # hand-computed: the first packet anchors at its arrival, then a running sum
    assert gaps == [True] + [False] * 599
    assert times[0] == host[0]
    assert times[1] == pytest.approx(host[0] + 0.8, abs=1e-9)


def test_packets_with_several_beats_sum_left_to_right():
    rng = np.random.default_rng(3)
    host, packets, t = [], [], 0.0
    for _ in range(400):
        k = int(rng.integers(1, 6))
        rr = (rng.integers(600, 1100, size=k) / 1.024).tolist()
        t += sum(rr) / 1000.0
        packets.append(rr)
        host.append(t + float(rng.uniform(0.0, 0.3)))
    assert_same(host, packets, [False] * 400)


def test_a_packet_ahead_of_the_clock_is_pulled_back():
    host, packets = steady_stream(100)
    host[50] -= 0.5  # arrives before its beats could have happened
    assert_same(host, packets, [False] * 100)
    times, _, _ = all_at_once(host, packets, [False] * 100)
    assert times[50] == host[50]


def test_a_gap_re_anchors_and_is_marked():
    host, packets = steady_stream(100)
    host[60:] = [h + 10.0 for h in host[60:]]
    assert_same(host, packets, [False] * 100)
    _, gaps, _ = all_at_once(host, packets, [False] * 100)
    assert [i for i, g in enumerate(gaps) if g] == [0, 60]


def test_slow_clock_drift_is_corrected_after_a_full_window_of_late_packets(monkeypatch):
    for late in (0.5, 0.6):  # 0.5 is not late (the rule is lag > 0.5)
        host, packets = steady_stream(200, late_s=late)
        assert_same(host, packets, [False] * 200, monkeypatch)


@pytest.mark.parametrize("rate", [1.004, 1.01, 1.03])
def test_a_slow_strap_clock_is_pulled_back_each_time_a_full_window_lags(rate, monkeypatch):
    # the host clock runs `rate` times the strap's: the lag grows until 30 packets in a
    # row lag by more than 0.5 s, then the timeline is pulled back, and again
    host, packets = steady_stream(1500)
    host = [5.0 + (h - 5.0) * rate for h in host]
    DecisionCounter.decisions = 0
    packet_by_packet(host, packets, [False] * 1500, DecisionCounter)
    assert DecisionCounter.decisions > 3  # the drift rule fired several times
    assert_same(host, packets, [False] * 1500, monkeypatch)


@pytest.mark.parametrize("late_from", [2030, 2040, 2047, 2048])
def test_late_lags_carried_across_a_chunk_boundary(late_from, monkeypatch):
    # on time for 2048+ packets (one numpy stretch), then every packet 0.6 s late: the
    # 30 late lags that trigger the drift rule straddle the stretch's end
    host, packets = steady_stream(2300)
    host = [h + (0.6 if i >= late_from else 0.0) for i, h in enumerate(host)]
    assert_same(host, packets, [False] * 2300, monkeypatch)


def test_drift_window_boundary_with_lags_carried_over(monkeypatch):
    # drifting packets straddling chunk boundaries and resets
    host, packets = steady_stream(5000)
    host = [5.0 + (h - 5.0) * 1.01 for h in host]
    reset = [False] * 5000
    reset[700] = reset[1300] = reset[2049] = True
    assert_same(host, packets, reset, monkeypatch)


def test_resets_and_minimum_spacing():
    host, packets = steady_stream(300)
    # a packet after a reconnect carrying beats from before it: pushed after the last beat
    host[150] = host[149] + 0.01
    packets[150] = [800.0, 800.0, 800.0]
    reset = [False] * 300
    reset[150] = True
    assert_same(host, packets, reset)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.floats(250.0, 2500.0), min_size=1, max_size=4),
            st.floats(-1.5, 3.0),  # arrival relative to the running sum
            st.booleans(),  # reset before
            st.integers(0, 20),  # 0: a reset is drawn only rarely
        ),
        min_size=1,
        max_size=120,
    )
)
def test_time_all_equals_the_timer_on_drawn_streams(draw):
    host, packets, reset, t = [], [], [], 10.0
    for rr, jitter, r, rare in draw:
        t += sum(rr) / 1000.0
        host.append(max(0.0, t + jitter))
        packets.append(rr)
        reset.append(r and rare == 0)
    assert_same(host, packets, reset)


# ---------------------------------------------------------------- the scan

HEADER = (
    b'{"format":"holdbeat/1","session_id":"x","started_utc":"2025-01-01T00:00:00Z",'
    b'"device":{},"protocol":{"name":"p","phases":[]},"software":{},"settings":{}}\n'
)


def hrm_line(t: float, hr: int = 70, rr=(857.0,)) -> bytes:
    return b'{"t":%r,"type":"hrm","raw":"%s"}' % (t, encode_hrm(hr, list(rr)).hex().encode())


def body_lines() -> list[bytes]:
    """A session with every kind of damage the loader words a warning for."""
    lines = [b'{"t":0.0,"type":"phase","index":0,"name":"a","kind":"baseline","mode":"neutral"}']
    lines += [hrm_line(1.0 + i) for i in range(20)]
    lines += [
        b'{"t":21.5,"type":"marker","kind":"lapse","text":"\\u001b[31m"}',
        b'{"t":21.6,"type":"marker","kind":"felt","text":"","raw":"16"}',  # not a notification
        b'{"type":"hrm","t":22.0,"raw":"16439203"}',  # other key order
        b'{"t":23.0,"type":"hrm","raw":"16439203"}  ',  # trailing spaces
        b'{"t":24.0,"type":"hrm","raw":"1643920"}',  # odd hex
        b'{"t":25,"type":"hrm","raw":"16439203"}',  # an int time
        b'{"t":999999999.0,"type":"hrm","raw":"16439203"}',  # past 7 days
        b'{"t":26.0,"type":"hrm","raw":"16439203"}\r',  # CRLF
        b"",
        b"\xff\xfe not text",
        b'{"t":27.0,"type":"conn',  # bad JSON mid-file
        b'{"t":27.5,"type":"connection","state":"lost"}',
        hrm_line(28.0),
        hrm_line(20.0),  # time goes backwards
        b'{"t":29.0,"type":"phase","index":1,"name":"c","kind":"hold","mode":"soft"}',
        b'{"t":10.0,"type":"phase","index":2,"name":"b","kind":"hold","mode":"soft"}',
        b"[1, 2]",
        b'{"t":31.0,"type":"hrm","raw":"16439203"}',
        b"x" * (MAX_LINE_BYTES + 1),
        b'{"t":01.0,"type":"hrm","raw":"16439203"}',  # not JSON (a leading zero)
        b'{"t":32.0,"type":"hrm","raw":"1643"}',
        b'{"t":33.0,"type":"hrm","raw":""}',
        b'{"t":34.0,"type":"hrm","raw":"16439203"}',
        # as live and imported recordings write them: fields for people after raw
        people_line(36.0, [857.0, 900.0], flags=["", "jump"]),
        people_line(37.0, [], contact=1, energy=12),
        b'{"t":38.0,"type":"hrm","raw":"16439203","hr":67,"rr":[01.5]}',  # not JSON
        b'{"t":39.0,"type":"hrm","raw":"16439203","raw":"1643"}',  # the last raw counts
        b'{"t":40.0,"type":"end","reason":"done"}',
    ]
    return lines


def people_line(t, rr, contact=-1, energy=-1, flags=()):
    raw = encode_hrm(67, rr).hex()
    return hrm_line_for_people(t, raw, 67, rr, contact, energy, list(flags) or [""]).rstrip()


def same_recording(a, b):
    for k in a.__dataclass_fields__:
        x, y = getattr(a, k), getattr(b, k)
        if k == "events":
            assert list(x) == list(y)
        elif isinstance(x, np.ndarray):
            assert x.dtype == y.dtype
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), k
        else:
            assert x == y, k


def a_stream(data: bytes) -> io.BufferedReader:
    """A stream that is neither a file nor bytes in memory: scanned line by line."""
    return io.BufferedReader(io.BytesIO(data))  # type: ignore[arg-type]


@pytest.mark.parametrize("tail", [b"\n", b"", b'\n{"t":36.0,"type":"hrm","raw":"1643', b"\n\n"])
def test_one_pass_scan_equals_the_line_by_line_scan_on_a_damaged_file(tmp_path, tail):
    data = HEADER + b"\n".join(body_lines()) + tail
    path = tmp_path / "s.jsonl"
    path.write_bytes(data)
    bulk = load(path)  # a regular file: the one-pass scan
    stream = load_stream(path, a_stream(data))  # a stream: line by line
    same_recording(bulk, stream)
    w = bulk.warnings
    assert any("time goes backwards (20.0 after 28.0)" in m for m in w)
    assert any("skipped, phase 'b' starts at 10.0 s" in m for m in w)
    assert any("longer than 1 MiB" in m for m in w)
    assert any("not UTF-8" in m for m in w)
    assert any("skipped, not a valid event (ValueError: non-hexadecimal" in m for m in w)
    assert [m.kind for m in bulk.markers] == ["lapse", "felt"]
    nums = [int(m.split(":")[0].split()[1]) for m in w if m.startswith("line ")]
    assert nums == sorted(nums)  # in line order
    # hand count: 20 canonical; other key order, trailing spaces, an int time, CRLF; 28.0,
    # 20.0, 31.0, "1643" (HR only), "" (malformed later, still an event), 34.0; 36.0, 37.0,
    # 39.0 (with raw "1643")
    assert sum(isinstance(e, Hrm) for e in bulk.events) == 33
    assert [e.raw for e in bulk.events if isinstance(e, Hrm) and e.t_s == 39.0] == [b"\x16\x43"]
    assert [c.state for c in bulk.connections] == ["lost"]
    if tail.startswith(b'\n{"t":36.0'):
        assert "truncated last line ignored" in w[-1]


def test_a_file_of_canonical_lines_only_equals_streaming(tmp_path):
    data = HEADER + b"".join(hrm_line(1.0 + i * 0.8) + b"\n" for i in range(3000))
    path = tmp_path / "s.jsonl"
    path.write_bytes(data)
    same_recording(load(path), load_stream(path, a_stream(data)))


def test_bytes_in_memory_take_the_one_pass_scan(tmp_path, monkeypatch):
    """compare loads the very bytes it hashed, from a BytesIO: in one pass, like a file."""
    import holdbeat.recording_scan as scan_mod

    data = HEADER + b"".join(hrm_line(1.0 + i * 0.8) + b"\n" for i in range(300))
    path = tmp_path / "s.jsonl"
    path.write_bytes(data)
    whole = load(path)
    monkeypatch.setattr(scan_mod, "_scan_lines", None)  # line by line would fail here
    same_recording(whole, load_stream(path, io.BytesIO(data)))
    monkeypatch.setattr(scan_mod, "BULK_BYTES", len(data) - len(HEADER))  # at the limit
    same_recording(whole, load_stream(path, io.BytesIO(data)))
    monkeypatch.setattr(scan_mod, "BULK_BYTES", len(data) - len(HEADER) - 1)
    with pytest.raises(TypeError):  # one byte over the one-pass limit: line by line
        load_stream(path, io.BytesIO(data))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                hrm_line(5.0),
                hrm_line(1.0, rr=(700.0, 800.0)),
                hrm_line(604800.5),  # just past 7 days: the general path refuses it
                b'{"t":3.0,"type":"marker","kind":"felt","text":""}',
                b'{"t":4.0,"type":"connection","state":"lost"}',
                b'{"t":2.0,"type":"phase","index":0,"name":"a","kind":"hold","mode":"soft"}',
                b'{"t":6.0,"type":"hrm","raw":"16439203"} ',
                b'{"t":7.0,"type":"hrm","raw":"16439203","hr":67,"rr":[857.0],"contact":true}',
                b'{"t":8.0,"type":"hrm","raw":"16439203","hr":67,"rr":[8e2,-1]}',
                b'{"t":9.0,"type":"hrm","raw":"16439203","hr":67,"rr":[.5]}',
                b"",
                b"{",
                b"\xc3",
            ]
        ),
        max_size=40,
    ),
    st.booleans(),
)
def test_scans_agree_on_drawn_files(lines, newline_at_end):
    data = b"\n".join(lines) + (b"\n" if newline_at_end else b"")
    a = _scan_bulk(data)
    b = _scan_lines(iter_lines(io.BytesIO(data)))
    assert list(a.events) == list(b.events)
    assert a.warnings == b.warnings
    assert a.t_hrm == b.t_hrm and a.raws == b.raws
    assert a.lost_before == b.lost_before
    assert a.others == b.others


_DIGITS = st.text("0123456789", min_size=0, max_size=19)


@st.composite
def near_canonical_lines(draw) -> bytes:
    """Lines one edit away from the writers' notification form: the time's digits (leading
    zeros, no fraction, 16-19 digits, exponents, a sign), the hex (odd, upper case, empty,
    not hex), the keys and the end of the line (fields for people, a space, a brace)."""
    whole = draw(st.one_of(st.just("0"), _DIGITS))
    frac = draw(_DIGITS)
    t = draw(
        st.sampled_from(
            [f"{whole}.{frac}", whole, f"{whole}.", f".{frac}", f"-{whole}.{frac}",
             f"{whole}.{frac}e3", f"{whole}.{frac}.1", f"{whole},{frac}"]
        )
    )  # fmt: skip
    raw = draw(st.one_of(st.text("0123456789abcdef", max_size=12), st.text('0aF"xg ', max_size=6)))
    head = draw(st.sampled_from(['{"t":', '{"t": ', '{"T":', ' {"t":']))
    mid = draw(st.sampled_from([',"type":"hrm","raw":"', ',"type":"hrx","raw":"', ',"raw":"']))
    tail = draw(
        st.sampled_from(
            ['"}', '"} ', '"}}', '"', '","hr":67,"rr":[857.0]}', '","hr":67,"rr":[]}',
             '","hr":67,"rr":[857.0],"contact":true,"energy":3,"flags":["","jump"]}',
             '","hr":67,"rr":[8e2,-1]}', '","hr":67,"rr":[.5]}', '","hr":67}', '","x":1}']
        )
    )  # fmt: skip
    return (head + t + mid + raw + tail).encode()


@settings(max_examples=400, deadline=None)
@given(st.lists(near_canonical_lines(), max_size=12), st.booleans())
def test_scans_agree_on_lines_near_the_canonical_form(lines, newline_at_end):
    data = b"\n".join(lines) + (b"\n" if newline_at_end else b"")
    a = _scan_bulk(data)
    b = _scan_lines(iter_lines(io.BytesIO(data)))
    assert list(a.events) == list(b.events)
    assert [type(e.t_s) for e in a.events] == [type(e.t_s) for e in b.events]
    assert a.warnings == b.warnings
    assert a.t_hrm == b.t_hrm and list(a.raws) == list(b.raws)
    assert a.lost_before == b.lost_before


@pytest.mark.parametrize(
    "line",
    [
        b'{"t":1.5,"type":"hrm","raw":"0F"}',  # upper-case hex: fromhex reads it, the scan not
        b'{"t":1.5,"type":"hrm","raw":"0a0g"}',  # not hex
        b'{"t":1.5,"type":"hrm","raw":"0a0"}',  # odd
        b'{"t":01.5,"type":"hrm","raw":"0a"}',  # a leading zero: not JSON
        b'{"t":0.5,"type":"hrm","raw":"0a"}',
        b'{"t":1.5.1,"type":"hrm","raw":"0a"}',
        b'{"t":15,"type":"hrm","raw":"0a"}',
        b'{"t":.5,"type":"hrm","raw":"0a"}',
        b'{"t":1.,"type":"hrm","raw":"0a"}',
        b'{"t":,"type":"hrm","raw":"0a0a"}',
        b'{"t":',
        b'{"t":1.5,"type":"hrm","raw":"',
        b'{"t":1234567890.1234567,"type":"hrm","raw":"0a"}',  # 17 digits: float()
        b'{"t":1.5,"type":"hrm","raw":"0a"}}',
        b'{"t":1.5,"type":"hrm","raw":"0a","hr":7,"rr":[1.0]}x',
    ],
)
def test_scans_agree_on_each_near_miss(line):
    for data in (line, line + b"\n", hrm_line(0.5) + b"\n" + line + b"\n"):
        a = _scan_bulk(data)
        b = _scan_lines(iter_lines(io.BytesIO(data)))
        assert list(a.events) == list(b.events)
        assert a.warnings == b.warnings
        assert a.t_hrm == b.t_hrm and list(a.raws) == list(b.raws)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.0, 604800.0) | st.integers(0, 10**6).map(lambda i: i / 100), max_size=30)
)
def test_times_are_read_as_float_reads_them(times):
    """The digits-over-a-power-of-ten reading of a time equals float() of its text, for
    every time a writer makes (repr of a float: up to 17 significant digits)."""
    times = sorted(times)
    data = b"".join(hrm_line(t) + b"\n" for t in times)
    sc = _scan_bulk(data)
    assert sc.t_hrm == [float(repr(t)) for t in times]
    assert all(type(t) is float for t in sc.t_hrm)
    assert not sc.others and not sc.warnings


def test_a_phase_may_start_when_the_previous_one_did_but_not_before():
    phase = b'{"t":%s,"type":"phase","index":%d,"name":"%s","kind":"hold","mode":"soft"}'
    data = b"\n".join([phase % (b"5.0", 0, b"a"), phase % (b"5.0", 1, b"b"),
                       phase % (b"4.5", 2, b"c")]) + b"\n"  # fmt: skip
    for sc in (_scan_bulk(data), _scan_lines(iter_lines(io.BytesIO(data)))):
        assert [e.name for e in sc.others] == ["a", "b"]
        assert len(sc.warnings) == 1 and "phase 'c' starts at 4.5 s, before" in sc.warnings[0]


@pytest.mark.parametrize("block", [1, 2, 7])
def test_scan_in_blocks_of_lines_equals_one_block(monkeypatch, block):
    import holdbeat.recording_scan as rs

    data = b"\n".join(body_lines()[:-1] + [hrm_line(50.0 + i) for i in range(9)]) + b"\n"
    whole = _scan_bulk(data)
    monkeypatch.setattr(rs, "LINES_PER_BLOCK", block)
    parts = _scan_bulk(data)
    assert list(parts.events) == list(whole.events) and len(whole.t_hrm) > 30
    assert parts.warnings == whole.warnings and parts.t_hrm == whole.t_hrm
    assert list(parts.raws) == list(whole.raws)
    assert list(parts.events) == list(_scan_lines(iter_lines(io.BytesIO(data))).events)


def test_canonical_lines_take_no_per_line_step(monkeypatch):
    """Writers' lines, plain and with the fields for people, become columns without the
    general per-line parse (which would make a day of lines slow again)."""
    import holdbeat.recording_scan as rs

    lines = [hrm_line(1.0 + i * 0.8) for i in range(50)] + [people_line(50.0, [857.0])]
    seen = []
    general = rs.event_of_line
    monkeypatch.setattr(rs, "event_of_line", lambda raw, *a: seen.append(raw) or general(raw, *a))
    sc = _scan_bulk(b"\n".join(lines) + b"\n")
    assert seen == []
    assert len(sc.t_hrm) == 51 and sc.t_hrm[-1] == 50.0
    assert sc.raws[-1] == encode_hrm(67, [857.0])


def test_lazy_events_behave_as_the_list():
    h = [Hrm(1.0, b"\x00\x46"), Hrm(2.0, b"\x00\x47")]
    m = Marker(1.5, "felt", "")
    ev = Events([1.0, 2.0], [b"\x00\x46", b"\x00\x47"], [m], [1])
    assert len(ev) == 3
    assert ev == [h[0], m, h[1]]
    assert ev[-1] == h[1] and ev[1] == m
    assert list(ev) == [h[0], m, h[1]]
    assert ev != [h[0], h[1], m]
    assert bool(Events([], [], [], [])) is False
    assert "Marker" in repr(ev)
    assert (ev == 5) is False  # not comparable: Python's fallback, not None


# ---------------------------------------------------------------- the flagger


def judged_one_by_one(rr, gap, cfg=None):
    f = LiveFlagger(cfg)
    return [f.judge(r, g) for r, g in zip(rr, gap, strict=True)]


def wavy(n, seed, rsa_ms=60.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 850.0 + rsa_ms * np.sin(2 * np.pi * t / 4.5) + rng.normal(0, 15, n)


def test_flag_all_equals_the_flagger_on_a_long_series_with_every_kind_of_flag():
    rr = wavy(6000, 1)
    rr[500] *= 0.6  # premature (jump)
    rr[800], rr[801] = rr[800] * 0.8, rr[801] * 1.15  # a short-long pair (ectopic)
    rr[1200] = 2500.0  # out of range
    rr[1500:1600] += 400.0  # a sustained shift: relearned
    rr[2000] = rr[2000] * 1.5  # a long beat, abrupt
    gap = np.zeros(rr.size, bool)
    gap[[3000, 3010, 4500]] = True
    want = judged_one_by_one(rr.tolist(), gap.tolist())
    assert set(want) == {"", "jump", "ectopic", "range"}  # every branch is exercised
    assert flag_all(rr, gap) == want


@pytest.mark.parametrize(
    "cfg",
    [
        FlagConfig(),
        FlagConfig(history=10, spread_beats=12),  # even windows: the mean of the middle two
        FlagConfig(pair_jump=0.0, spread_k=0.0),
        FlagConfig(history=3, relearn=2, spread_beats=8),
        FlagConfig(step=0.0, spread_k=0.0),  # every long jump is abrupt
    ],
)
def test_flag_all_equals_the_flagger_for_other_settings(cfg):
    rng = np.random.default_rng(7)
    rr = wavy(3000, 2, rsa_ms=90.0)
    hit = rng.choice(rr.size, 90, replace=False)
    rr[hit] *= rng.uniform(0.5, 1.6, hit.size)
    gap = rng.random(rr.size) < 0.003
    assert flag_all(rr, gap, cfg) == judged_one_by_one(rr.tolist(), gap.tolist(), cfg)


@pytest.mark.parametrize(("level", "edge"), [(1990.0, 2000.0), (306.0, 300.0)])
def test_flag_all_at_the_range_limits_inside_a_clean_stretch(level, edge, monkeypatch):
    rng = np.random.default_rng(5)
    rr = level + rng.uniform(-3.0, 3.0, 200)
    rr[100] = edge  # on the limit: in range (lo_ms <= rr <= hi_ms)
    rr[150] = np.nextafter(edge, 2 * edge - level)  # just outside
    gap = np.zeros(rr.size, bool)
    want = judged_one_by_one(rr.tolist(), gap.tolist())
    assert want[100] == "" and want[150] == "range"
    calls = []
    judge = LiveFlagger.judge
    monkeypatch.setattr(LiveFlagger, "judge", lambda self, *a: calls.append(1) or judge(self, *a))
    assert flag_all(rr, gap) == want
    # one by one: the first 11 beats (the median window filling), the flagged one, the 11
    # after it; beat 100 is skipped over as clean by the numpy verdict, and so are the beats
    # whose differences window is not full yet (none is long and far from the median)
    need_med = FlagConfig().history + 2
    assert len(calls) == 2 * need_med + 1


def test_flag_all_on_short_series_and_empty():
    assert flag_all(np.zeros(0), np.zeros(0, bool)) == []
    rr = wavy(40, 3)
    rr[35] = 100.0
    gap = np.zeros(40, bool)
    assert flag_all(rr, gap) == judged_one_by_one(rr.tolist(), gap.tolist())
    assert flag_all(rr, gap)[35] == "range"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([1.0, 0.55, 0.8, 0.9, 1.15, 1.3, 1.7, 3.0, 0.2]),
            st.integers(0, 80),  # clean beats after it: long runs reach the fast path
            st.integers(0, 40),  # 0: a gap before the beat
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 3),
    st.integers(0, 2**32 - 1),
)
def test_flag_all_equals_the_flagger_on_drawn_series(draw, base, seed):
    level = 600.0 + 150.0 * base
    rng = np.random.default_rng(seed)
    rr, gap = [], []
    for m, run, g in draw:
        rr.append(level * m)
        gap.append(g == 0)
        rr += (level + rng.normal(0, 0.05 * level, run)).tolist()
        gap += [False] * run
    rr_a, gap_a = np.array(rr), np.array(gap, dtype=bool)
    assert flag_all(rr_a, gap_a) == judged_one_by_one(rr, gap)


@pytest.mark.parametrize(
    "line",
    [
        hrm_line(2.02),
        people_line(36.0, [857.0, 900.0], flags=["", "jump"]),
        people_line(37.0, [], contact=1, energy=12),
        people_line(38.0, [1000.0], contact=0),
    ],
)
def test_notification_lines_as_writers_make_them_take_the_one_pass_path(line):
    assert canonical_lines(line) == [0]


@pytest.mark.parametrize(
    "line",
    [
        b'{"t":38.0,"type":"hrm","raw":"16439203","hr":67,"rr":[01.5]}',
        b'{"t":39.0,"type":"hrm","raw":"16439203","raw":"1643"}',
        b'{"t":1e1,"type":"hrm","raw":"16439203"}',
        b'{"t":1.0,"type":"hrm","raw":"1643920"}',
        b'{"t":1.0,"type":"hrm","raw":"16439203","hr":67,"rr":[1],"error":"x"}',
    ],
)
def test_other_lines_take_the_general_path(line):
    assert canonical_lines(line) == []


def canonical_lines(*lines: bytes) -> list[int]:
    """The lines the one-pass scan reads as notifications itself."""
    from holdbeat.recording_scan import _canonical

    data = b"\n".join(lines) + b"\n"
    arr = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(arr == 10)
    starts = np.concatenate([[0], ends[:-1] + 1])
    return _canonical(data, arr, starts, ends)[0].tolist()


def test_tiny_lines_and_large_files_are_read_line_by_line(tmp_path, monkeypatch):
    import holdbeat.recording_scan as rs

    def refuse(data):
        raise AssertionError("the one-pass scan was used")

    newlines = HEADER + hrm_line(1.0) + b"\n" * 5000 + hrm_line(2.0) + b"\n"
    path = tmp_path / "n.jsonl"
    path.write_bytes(newlines)
    want = load_stream(path, io.BytesIO(newlines))
    monkeypatch.setattr(rs, "_scan_bulk", refuse)
    same_recording(load(path), want)  # many empty lines: bounded memory, same result
    assert want.rr_ms.size == 2
    # larger than the one-pass limit
    monkeypatch.setattr(rs, "BULK_BYTES", 100)
    body = HEADER + b"".join(hrm_line(1.0 + i) + b"\n" for i in range(20))
    path.write_bytes(body)
    same_recording(load(path), load_stream(path, io.BytesIO(body)))


def test_a_file_that_grows_past_the_limit_while_read_is_read_whole(tmp_path, monkeypatch):
    import holdbeat.recording_scan as rs

    body = b"".join(hrm_line(1.0 + i) + b"\n" for i in range(50))
    path = tmp_path / "g.jsonl"
    path.write_bytes(HEADER + body)
    monkeypatch.setattr(rs, "BULK_BYTES", len(body) - 10)  # fstat says small, read says more
    real_fstat = os.fstat

    class Small:
        def __init__(self, st):
            self.st_mode, self.st_size = st.st_mode, len(HEADER) + 5

    monkeypatch.setattr(rs.os, "fstat", lambda fd: Small(real_fstat(fd)))
    rec = load(path)
    assert rec.rr_ms.size == 50
    assert [e.t_s for e in rec.events] == [1.0 + i for i in range(50)]


def test_the_one_pass_limit_is_inclusive(tmp_path, monkeypatch):
    import holdbeat.recording_scan as rs

    body = b"".join(hrm_line(1.0 + i) + b"\n" for i in range(20))
    path = tmp_path / "s.jsonl"
    path.write_bytes(HEADER + body)
    used = []
    bulk = rs._scan_bulk
    monkeypatch.setattr(rs, "_scan_bulk", lambda data: used.append(1) or bulk(data))
    for limit, one_pass in ((len(body), True), (len(body) - 1, False)):
        used.clear()
        monkeypatch.setattr(rs, "BULK_BYTES", limit)
        assert load(path).rr_ms.size == 20
        assert bool(used) is one_pass
    monkeypatch.undo()
    assert rs.BULK_BYTES == 32 * 2**20  # the documented limits (docs/format.md)
    assert rs.MIN_LINE_BYTES == 24

"""Fuzzing the commands with hostile files (issue 16): recordings, RR imports, protocols and
phases files built from bytes and structures chosen to hurt. Invariants, for every input:

- no traceback: the command returns 0, 1 or 2 (a clear error), never raises;
- no hang: pytest-timeout fails a test that blocks;
- no file replaced: a recording, a device node and a FIFO placed beside the outputs are
  untouched, and nothing but the command's own outputs appears.

The commands run in-process (`holdbeat.cli.main`) so hundreds of inputs take seconds.
`HOLDBEAT_FUZZ_EXAMPLES=2000 pytest -o timeout=0 tests/test_fuzz_hostile.py` runs a longer
pass (the whole-test timeout then off; a hang still shows as a run that never ends).
"""

from __future__ import annotations

import json
import os
import stat
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.helpers import record_simulated

from holdbeat.cli import main
from holdbeat.session import Phase, Protocol
from holdbeat.sim.body import SimConfig

N = int(os.environ.get("HOLDBEAT_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=N,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HOSTILE_TEXT = st.sampled_from(
    [
        "\x1b]52;c;aGk=\x07",
        "\u2028",
        "\u202e",
        "=cmd|' /C calc'!A0",
        "$\\frac{",
        "\x00",
        "\ud800",
        "x" * 300,
        "",
    ]
) | st.text(max_size=20)
NUMBERS = (
    st.sampled_from(
        [0, -1, 1e308, -1e308, 1e12, 604800.5, float("nan"), float("inf"), 2**70, True, "abc", None]
    )
    | st.floats(allow_nan=True)
    | st.integers(-(2**64), 2**64)
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    proto = Protocol(
        "fz",
        (
            Phase("baseline", "baseline", "neutral", 40.0),
            Phase("hold", "hold", "fierce", 40.0, belief="b", target="self"),
        ),
    )
    return record_simulated(tmp_path_factory.mktemp("fz"), proto, SimConfig(seed=2)).read_bytes()


class Guard:
    """A folder with things no command may replace: a recording, a FIFO, a device."""

    def __init__(self, folder: Path, recording: bytes) -> None:
        self.folder = folder
        folder.mkdir(exist_ok=True)
        self.rec = folder / "keep.jsonl"
        self.rec.write_bytes(recording)
        self.fifo = folder / "pipe"
        if not self.fifo.exists():
            os.mkfifo(self.fifo)
        self.dev = folder / "null"
        if not self.dev.exists():
            try:
                os.mknod(self.dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
            except PermissionError:
                self.dev = None  # type: ignore[assignment]
        self.before = self.state()

    def state(self) -> dict:
        out = {"rec": self.rec.read_bytes(), "fifo": stat.S_ISFIFO(os.lstat(self.fifo).st_mode)}
        if self.dev is not None:
            out["dev"] = stat.S_ISCHR(os.lstat(self.dev).st_mode)
        return out

    def check(self) -> None:
        assert self.state() == self.before
        assert not [p for p in self.folder.iterdir() if p.name.startswith(".holdbeat-")]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> int:
    try:
        code = main(argv)
    except SystemExit as e:  # argparse: bad arguments are exit 2
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), (argv, code, err[-500:])
    for c in ("\x1b", "\x07", "\u202e", "\u2028"):
        assert c not in out + err, (argv, c)
    return code


def mutate(base: bytes, data: st.DataObject) -> bytes:
    lines = base.split(b"\n")
    op = data.draw(st.sampled_from(["header", "event", "bytes", "nest", "order", "long"]))
    if op == "header":
        head = json.loads(lines[0])
        path = data.draw(
            st.sampled_from(
                [
                    ("protocol", "phases", 0, "duration_s"),
                    ("protocol", "phases", 1, "name"),
                    ("protocol", "phases"),
                    ("protocol", "name"),
                    ("device", "name"),
                    ("device", "battery_percent"),
                    ("settings", "window_s"),
                    ("beliefs",),
                    ("started_utc",),
                ]
            )
        )
        target = head
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = data.draw(NUMBERS | HOSTILE_TEXT | st.lists(NUMBERS, max_size=2))
        lines[0] = json.dumps(head).encode()
    elif op == "event":
        i = data.draw(st.integers(1, len(lines) - 2))
        ev = {
            "t": data.draw(NUMBERS),
            "type": data.draw(st.sampled_from(["phase", "marker", "rating", "end", "hrm"])),
            "kind": data.draw(HOSTILE_TEXT),
            "index": data.draw(NUMBERS),
            "duration_s": data.draw(NUMBERS),
            "text": data.draw(HOSTILE_TEXT),
            "name": data.draw(HOSTILE_TEXT),
            "raw": data.draw(st.binary(max_size=8)).hex(),
        }
        lines.insert(i, json.dumps(ev).encode())
    elif op == "bytes":
        blob = b"\n".join(lines)
        i = data.draw(st.integers(0, len(blob)))
        return blob[:i] + data.draw(st.binary(min_size=1, max_size=6)) + blob[i:]
    elif op == "nest":
        lines[0] = b'{"format":"holdbeat/1","x":' + b"[" * 5000 + b"]" * 5000 + b"}"
    elif op == "order":
        i, j = data.draw(st.integers(1, len(lines) - 2)), data.draw(st.integers(1, len(lines) - 2))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines.insert(3, b'{"t":1,"type":"marker","kind":"note","text":"' + b"y" * (1 << 21) + b'"}')
    return b"\n".join(lines)


@FUZZ
@given(data=st.data())
def test_fuzz_recordings(tmp_path: Path, base: bytes, data: st.DataObject, capsys) -> None:
    guard = Guard(tmp_path / "g", base)
    src = tmp_path / "in.jsonl"
    src.write_bytes(mutate(base, data))
    cmd = data.draw(st.sampled_from(["report", "export-csv", "export-edf", "replay"]))
    out = guard.folder / "out"
    argv = {
        "report": ["report", str(src), "--no-frequency", "--json", str(out) + ".json"],
        "export-csv": ["export", str(src), "--to", "csv", "-o", str(out) + ".csv", "--force"],
        "export-edf": ["export", str(src), "--to", "edf", "-o", str(out) + ".edf", "--force"],
        "replay": ["replay", str(src), "--headless", "--speed", "max"],
    }[cmd]
    run(argv, capsys)
    # and aimed straight at the things that must survive
    for victim in (guard.rec, guard.fifo, guard.dev):
        if victim is not None:
            assert run(["report", str(src), "--json", str(victim)], capsys) == 2
    guard.check()


RR_LINES = st.one_of(
    st.integers(-100, 20_000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        [
            "Phone timestamp;RR-interval [ms]",
            "2026-01-01T10:00:00.000;812",
            "0001-01-01T00:00:00.000;812",
            "2100-01-01T00:00:00.000;812",
            "9999-12-31T23:59:59.999;812",
            "2026-01-01T10:00:00+05:00;812",
            "#",
            "720,707,",
            "0,812",
        ]
    ),
    HOSTILE_TEXT,
)


@FUZZ
@given(
    lines=st.lists(RR_LINES, max_size=40),
    fmt=st.sampled_from(
        [[], ["--from", "polar-sensor-logger"], ["--from", "elite-hrv"], ["--from", "rr-txt"]]
    ),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    extra=st.sampled_from(
        [[], ["--mode", "soft", "--belief", "a\u2028b"], ["--start", "0001-01-01"]]
    ),
)
def test_fuzz_imports(
    tmp_path: Path, base: bytes, lines: list[str], fmt: list[str], encoding: str,
    extra: list[str], capsys,
) -> None:  # fmt: skip
    guard = Guard(tmp_path / "g", base)
    src = tmp_path / "rr.txt"
    src.write_bytes("\n".join(lines).encode(encoding, errors="surrogatepass"))
    new = guard.folder / f"new-{uuid.uuid4().hex}"  # tmp_path is shared by all examples
    code = run(["import", str(src), "-o", str(new) + "/", *fmt, *extra], capsys)
    if code == 0:
        (made,) = new.iterdir()
        assert stat.S_IMODE(made.stat().st_mode) == 0o600
        assert run(["report", str(made), "--quiet", "--no-frequency"], capsys) == 0
    assert run(["import", str(src), "-o", str(guard.rec)], capsys) in (1, 2)
    guard.check()


PHASE_KEYS = ["name", "kind", "mode", "duration", "prompt", "belief", "target", "start_s", "end_s"]
PHASE_VALUES = (
    NUMBERS
    | HOSTILE_TEXT
    | st.sampled_from(
        ["baseline", "hold", "rest", "fierce", "soft", "neutral", "5m", "1e308", "self"]
    )
)


def toml_value(v: object) -> str:
    if isinstance(v, float) and v != v:
        return "nan"
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    if v is None:
        return '""'
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 2**63:
        return str(float(v))
    return json.dumps(v)


@FUZZ
@given(
    tables=st.lists(st.dictionaries(st.sampled_from(PHASE_KEYS), PHASE_VALUES), max_size=5),
    as_csv=st.booleans(),
)
def test_fuzz_protocols_and_phases(
    tmp_path: Path, base: bytes, tables: list[dict], as_csv: bool, capsys
) -> None:
    guard = Guard(tmp_path / "g", base)
    toml = "".join(
        "[[phase]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in t.items()) for t in tables
    )
    proto = tmp_path / "p.toml"
    proto.write_text(toml, errors="surrogatepass")
    run(["protocols", str(proto)], capsys)
    if run(["demo", "--headless", "--speed", "max", "--protocol", str(proto), "--out",
            str(guard.folder / "rec"), "--screenshot", str(guard.rec)], capsys) != 2:  # fmt: skip
        pytest.fail("a screenshot aimed at a recording must be refused")
    phases = tmp_path / ("p.csv" if as_csv else "ph.toml")
    if as_csv:
        cols = ["kind", "start_s", "end_s", "name", "mode", "belief"]
        rows = [",".join(str(t.get(c, "")).replace(",", ";") for c in cols) for t in tables]
        phases.write_text("\n".join([",".join(cols), *rows]), errors="surrogatepass")
    else:
        phases.write_text(toml, errors="surrogatepass")
    rr = tmp_path / "rr.txt"
    rr.write_text("800\n" * 50)
    run(["import", str(rr), "--phases", str(phases), "--mode", "soft", "-o",
         str(guard.folder / "imp") + "/"], capsys)  # fmt: skip
    guard.check()

"""Fuzzing: corrupt recordings and protocol files give a clear error or a result, no crash."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.helpers import record_simulated

from holdbeat.recording import Recording, RecordingError, load
from holdbeat.session import Protocol, ProtocolError, protocol_from_toml
from holdbeat.sim.body import SimConfig

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=8,
)
event_like = st.fixed_dictionaries(
    {
        "t": json_values,
        "type": st.sampled_from(
            ["hrm", "phase", "marker", "rating", "connection", "battery", "end", "x"]
        ),
    },
    optional={
        "raw": json_values | st.binary(max_size=12).map(bytes.hex),
        "index": json_values,
        "kind": json_values,
        "phase": json_values,
        "when": json_values,
        "scale": json_values,
        "value": json_values,
        "state": json_values,
        "percent": json_values,
        "duration_s": json_values,
    },
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from holdbeat.session import Phase

    proto = Protocol(
        "tiny",
        (
            Phase("baseline", "baseline", "neutral", 40.0),
            Phase("hold", "hold", "soft", 40.0, belief="b", target="self"),
        ),
    )
    path = record_simulated(
        tmp_path_factory.mktemp("s"), proto, SimConfig(seed=1, artifact_rate=0.05)
    )
    return path.read_bytes()


def check(path: Path) -> None:
    try:
        rec = load(path)
    except RecordingError as e:
        assert str(e)
        return
    assert isinstance(rec, Recording)
    assert len(rec.beat_t_s) == len(rec.rr_ms) == len(rec.flag) == len(rec.gap_before)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_loader_survives_corruption(tmp_path: Path, sample: bytes, data: st.DataObject) -> None:
    lines = sample.split(b"\n")
    op = data.draw(
        st.sampled_from(["truncate", "replace", "swap", "garbage", "drop_header", "event"])
    )
    if op == "truncate":
        blob = sample[: data.draw(st.integers(0, len(sample)))]
    elif op == "replace":
        i = data.draw(st.integers(0, len(lines) - 1))
        lines[i] = json.dumps(data.draw(json_values)).encode()
        blob = b"\n".join(lines)
    elif op == "swap":
        i, j = data.draw(st.integers(1, len(lines) - 2)), data.draw(st.integers(1, len(lines) - 2))
        lines[i], lines[j] = lines[j], lines[i]
        blob = b"\n".join(lines)
    elif op == "garbage":
        i = data.draw(st.integers(0, len(sample)))
        blob = sample[:i] + data.draw(st.binary(min_size=1, max_size=20)) + sample[i:]
    elif op == "drop_header":
        blob = b"\n".join(lines[1:])
    else:
        i = data.draw(st.integers(1, len(lines) - 2))
        lines[i] = json.dumps(data.draw(event_like)).encode()
        blob = b"\n".join(lines)
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(blob)
    check(path)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_protocol_parser_survives_arbitrary_text(text: str) -> None:
    try:
        protocol_from_toml(text, "fuzz.toml")
    except ProtocolError as e:
        assert "fuzz.toml" in str(e)


phase_values = st.one_of(
    st.sampled_from(
        [
            "baseline",
            "hold",
            "rest",
            "recovery",
            "action",
            "fierce",
            "soft",
            "neutral",
            "5m",
            "self",
        ]
    ),
    st.integers(-10, 1000),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
phase_tables = st.dictionaries(
    st.sampled_from(["name", "kind", "mode", "duration", "prompt", "belief", "target", "extra"]),
    phase_values,
    max_size=7,
)


def to_toml(phases: list[dict]) -> str:
    out = []
    for ph in phases:
        out.append("[[phase]]")
        for k, v in ph.items():
            out.append(f"{k} = {json.dumps(v) if not isinstance(v, float) or v == v else 'nan'}")
    return "\n".join(out) + "\n"


@settings(max_examples=150, deadline=None)
@given(st.lists(phase_tables, max_size=5))
def test_protocol_validation_survives_structured_junk(phases: list[dict]) -> None:
    text = to_toml(phases)
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    try:
        p = protocol_from_toml(text, "junk.toml")
    except ProtocolError as e:
        assert "junk.toml" in str(e)
        return
    assert p.phases[0].kind == "baseline"
    assert all(ph.duration_s is None or ph.duration_s > 0 for ph in p.phases)


rr_text = st.lists(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        st.integers(-100, 20_000).map(str),
        st.sampled_from(
            [
                "Phone timestamp;RR-interval [ms]",
                "2026-01-01T10:00:00.000;812",
                "#",
                ";",
                ",",
                "",
                "x",
            ]
        ),
        st.text(max_size=12),
    ),
    max_size=30,
).map(lambda xs: "\n".join(xs))


@settings(max_examples=300, deadline=None)
@given(text=rr_text, fmt=st.sampled_from(["polar-sensor-logger", "elite-hrv", "rr-txt"]))
def test_importers_survive_arbitrary_text(text: str, fmt: str) -> None:
    from holdbeat.interop import InteropError
    from holdbeat.interop.imported_rr import RR_MAX_MS, RR_MIN_MS
    from holdbeat.interop.importers import detect_format, parse

    for attempt in (lambda: parse(text, fmt, "fuzz.txt"), lambda: detect_format(text, "fuzz.txt")):
        try:
            out = attempt()
        except InteropError as e:
            assert "fuzz.txt" in str(e)
            continue
        if hasattr(out, "rr_ms"):
            assert len(out.rr_ms) and all(RR_MIN_MS <= r <= RR_MAX_MS for r in out.rr_ms)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_phases_file_parser_survives_arbitrary_text(text: str) -> None:
    from holdbeat.interop import InteropError
    from holdbeat.interop.phases_file import parse_phases

    for origin in ("fuzz.csv", "fuzz.toml"):
        try:
            parse_phases(text, origin)
        except InteropError as e:
            assert origin in str(e)

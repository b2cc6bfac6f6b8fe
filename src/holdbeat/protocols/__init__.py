"""Built-in protocol files and the loader for `--protocol NAME|PATH` (thin I/O shell)."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from holdbeat.inputs import read_small
from holdbeat.limits import MAX_SMALL_FILE_BYTES
from holdbeat.safe_text import for_terminal
from holdbeat.session import Protocol, ProtocolError, protocol_from_toml


def builtin_names() -> list[str]:
    files = resources.files(__name__)
    return sorted(p.name[: -len(".toml")] for p in files.iterdir() if p.name.endswith(".toml"))


def load_protocol(name_or_path: str) -> Protocol:
    """A built-in by name, or a TOML file by path."""
    if name_or_path in builtin_names():
        text = resources.files(__name__).joinpath(f"{name_or_path}.toml").read_text("utf-8")
        proto = protocol_from_toml(text, origin=f"built-in {name_or_path!r}")
        return Protocol(proto.name, proto.phases, proto.description, source="builtin")
    path = Path(name_or_path)
    if not os.path.lexists(path):
        raise ProtocolError(
            f"no protocol {for_terminal(name_or_path, 60)!r}: not a built-in "
            f"({', '.join(builtin_names())}) and no such file"
        )
    data = read_small(path, "protocol file", ProtocolError, MAX_SMALL_FILE_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError(
            f"{path}: cannot read protocol file: not UTF-8 text (byte {e.start})"
        ) from None
    return protocol_from_toml(text, origin=str(path))

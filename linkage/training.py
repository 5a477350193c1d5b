"""Training a Fellegi-Sunter model: u-probabilities from random pairs, m-probabilities by EM, the prior.

For each field and level, m = P(level | the pair is a match) and u = P(level | it is not). A pair's match weight is
log2(prior odds) plus the sum over fields of log2(m / u) at the level observed; see linkage/prediction.py.

- u comes from random pairs, which are almost all non-matches. The top (exact) level's u is not sampled but computed
  from the value frequencies of both sides (comparison.FieldValues.u_exact): exact agreement on a birth date is rare
  enough that a sample would see it a handful of times.
- m comes from EM with u fixed, in one session per blocking rule, as in Splink: the pairs a rule blocks together
  agree on the rule's fields whether they match or not, so within a session those fields are left out and only the
  other fields' m are estimated; a field's m is the mean over the sessions that estimated it. (One EM over all
  blocked pairs would see non-matches that agree on surname and postcode, call them matches, and converge to
  "everything matches": on FEBRL4 it did.) The E and M steps run over the distinct comparison-vector patterns with
  their counts rather than over the pairs: millions of pairs fall into a few thousand patterns, so an iteration costs
  microseconds.
- The prior is the probability that two *random* records match (as in Splink), so that weights mean the same in any
  blocking: it is found by a fixed point, the expected number of matches among the candidate pairs (assuming
  blocking keeps them all) divided by the number of all pairs.
- Term frequencies (a common surname agreeing is weaker evidence than a rare one) do not enter EM; they adjust the
  exact level's weight at prediction time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from linkage.comparison import Comparison, FieldValues

U_FLOOR = 1e-7
M_FLOOR = 1e-6


@dataclass
class Model:
    """A trained model: per field the m and u of each level (index 0 = else ... top = exact) and the prior."""

    names: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]
    m: np.ndarray  # (fields, max levels); unused levels hold 0
    u: np.ndarray
    prior: float
    iterations: int = 0
    converged: bool = False
    history: list[float] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)  # what each EM session saw and did

    @property
    def prior_weight(self) -> float:
        return float(np.log2(self.prior / (1 - self.prior)))

    def level_weights(self) -> np.ndarray:
        """log2(m / u) per field and level (0 for unused levels)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.log2(self.m / self.u)
        return np.where(self.u > 0, w, 0.0)

    def to_dict(self) -> dict:
        """The model as plain data (for the docs, a review, or reuse on a later delivery)."""
        weights = self.level_weights()
        return {
            "prior": self.prior,
            "iterations": self.iterations,
            "converged": self.converged,
            "sessions": self.sessions,
            "fields": {
                name: {
                    label: {
                        "m": round(float(self.m[f, lv]), 6),
                        "u": float(f"{self.u[f, lv]:.4g}"),
                        "weight": round(float(weights[f, lv]), 2),
                    }
                    for lv, label in enumerate(self.labels[f])
                }
                for f, name in enumerate(self.names)
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, data: dict) -> Model:
        names = tuple(data["fields"])
        labels = tuple(tuple(data["fields"][n]) for n in names)
        width = max(len(lb) for lb in labels)
        m, u = np.zeros((len(names), width)), np.zeros((len(names), width))
        for f, n in enumerate(names):
            for lv, label in enumerate(labels[f]):
                m[f, lv] = data["fields"][n][label]["m"]
                u[f, lv] = data["fields"][n][label]["u"]
        return cls(names, labels, m, u, float(data["prior"]), int(data.get("iterations", 0)), bool(data["converged"]))


def _width(comparisons: list[Comparison]) -> int:
    return max(c.n_levels for c in comparisons)


def estimate_u(random_levels: np.ndarray, comparisons: list[Comparison], values: list[FieldValues]) -> np.ndarray:
    """u[field, level] from the levels of random pairs; the exact level from the value frequencies."""
    u = np.zeros((len(comparisons), _width(comparisons)))
    for f, comp in enumerate(comparisons):
        col = random_levels[:, f]
        counts = np.bincount(col[col >= 0], minlength=comp.n_levels)[: comp.n_levels].astype(float)
        below = counts[: comp.top] + 0.5  # smoothed: a level never seen at random is rare, not impossible
        exact = min(max(values[f].u_exact, U_FLOOR), 0.5)
        u[f, : comp.top] = below / below.sum() * (1 - exact)
        u[f, comp.top] = exact
        u[f, : comp.n_levels] = np.maximum(u[f, : comp.n_levels], U_FLOOR)
    return u


def patterns(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct rows of a level matrix (comparison vectors), their counts, and each pair's pattern index."""
    base = int(levels.max(initial=0)) + 2  # levels run from -1
    ids = np.zeros(len(levels), dtype=np.int64)
    for f in range(levels.shape[1]):
        ids = ids * base + (levels[:, f].astype(np.int64) + 1)
    distinct, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    rows = np.zeros((len(distinct), levels.shape[1]), dtype=np.int8)
    rest = distinct.copy()
    for f in range(levels.shape[1] - 1, -1, -1):
        rows[:, f] = rest % base - 1
        rest //= base
    return rows, counts, inverse.reshape(-1)


def _log_ratio(rows: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Sum over fields of log(table[field, level]) for each pattern; missing levels (-1) contribute nothing."""
    present = rows >= 0
    idx = np.where(present, rows, 0)
    vals = table[np.arange(rows.shape[1]), idx]
    return np.where(present, np.log(vals), 0.0).sum(axis=1)


def _initial_m(comparisons: list[Comparison]) -> np.ndarray:
    """A start that favours agreement (4x per level up): EM then finds the matches, not the largest mass."""
    m = np.zeros((len(comparisons), _width(comparisons)))
    for f, comp in enumerate(comparisons):
        ramp = 4.0 ** np.arange(comp.n_levels)
        m[f, : comp.n_levels] = ramp / ramp.sum()
    return m


def em(
    levels: np.ndarray,
    u: np.ndarray,
    comparisons: list[Comparison],
    *,
    prior: float,
    iterations: int = 40,
    tolerance: float = 1e-5,
) -> Model:
    """m and the prior by expectation-maximisation over the comparison-vector patterns, with u fixed."""
    rows, counts, _ = patterns(levels)
    counts = counts.astype(float)
    m = _initial_m(comparisons)
    log_u = _log_ratio(rows, np.where(u > 0, u, 1.0))
    lam = float(np.clip(prior, 1e-6, 0.5))
    history, converged, done = [], False, 0
    present = rows >= 0
    for it in range(1, iterations + 1):
        done = it
        log_odds = np.log(lam / (1 - lam)) + _log_ratio(rows, np.where(m > 0, m, 1.0)) - log_u
        g = 1 / (1 + np.exp(-np.clip(log_odds, -700, 700)))
        weighted = g * counts
        new_lam = float(np.clip(weighted.sum() / counts.sum(), 1e-9, 1 - 1e-9))
        new_m = np.zeros_like(m)
        for f, comp in enumerate(comparisons):
            mask = present[:, f]
            sums = np.bincount(rows[mask, f], weights=weighted[mask], minlength=comp.n_levels)[: comp.n_levels]
            sums = np.maximum(sums, M_FLOOR * max(sums.sum(), 1.0))
            new_m[f, : comp.n_levels] = sums / sums.sum()
        change = max(float(np.abs(new_m - m).max()), abs(new_lam - lam))
        m, lam = new_m, new_lam
        history.append(change)
        if change < tolerance:
            converged = True
            break
    names = tuple(c.name for c in comparisons)
    labels = tuple(c.labels for c in comparisons)
    return Model(names, labels, m, u, lam, done, converged, history)


def _llr(rows: np.ndarray, m: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Natural-log likelihood ratio log(m / u) summed over present fields, per pattern."""
    return _log_ratio(rows, np.where(m > 0, m, 1.0)) - _log_ratio(rows, np.where(u > 0, u, 1.0))


def train_m(
    levels: np.ndarray,
    sessions: list[tuple[np.ndarray, set[int]]],
    u: np.ndarray,
    comparisons: list[Comparison],
    *,
    prior: float,
    iterations: int = 40,
    tolerance: float = 1e-5,
    min_pairs: int = 20,
) -> tuple[np.ndarray, list[dict]]:
    """m per field and level, averaged over EM sessions; each session is (pair mask, fields it leaves out).

    A field no session can estimate (it is in every rule) is estimated on all pairs, where it is biased towards
    agreement: the report says so.
    """
    estimates: list[list[np.ndarray]] = [[] for _ in comparisons]
    report = []
    for mask, excluded in sessions:
        if mask.sum() < min_pairs or len(excluded) == len(comparisons):
            report.append({"pairs": int(mask.sum()), "skipped": True})
            continue
        session_levels = levels[mask].copy()
        session_levels[:, sorted(excluded)] = -1
        model = em(session_levels, u, comparisons, prior=prior, iterations=iterations, tolerance=tolerance)
        for f in range(len(comparisons)):
            if f not in excluded:
                estimates[f].append(model.m[f])
        report.append(
            {
                "pairs": int(mask.sum()),
                "iterations": model.iterations,
                "converged": model.converged,
                "prior": model.prior,
            }
        )
    m = _initial_m(comparisons)
    fallback = None
    for f in range(len(comparisons)):
        if estimates[f]:
            m[f] = np.mean(estimates[f], axis=0)
            continue
        if fallback is None:
            fallback = em(levels, u, comparisons, prior=prior, iterations=iterations, tolerance=tolerance)
            report.append({"pairs": len(levels), "all_pairs_for": []})
        m[f] = fallback.m[f]
        report[-1]["all_pairs_for"].append(comparisons[f].name)
    return m, report


def random_match_prior(levels: np.ndarray, m: np.ndarray, u: np.ndarray, all_pairs: float, ceiling: float) -> float:
    """P(two random records match): expected matches among the candidates over all pairs, by fixed point.

    `ceiling` bounds the expected number of matches (for two deduplicated tables: the smaller table's size).
    """
    rows, counts, _ = patterns(levels)
    llr = _llr(rows, m, u)
    lam = min(ceiling, len(levels)) / all_pairs / 2
    for _ in range(200):
        odds = np.log(lam / (1 - lam)) + llr
        expected = float((counts / (1 + np.exp(-np.clip(odds, -700, 700)))).sum())
        new = min(max(expected, 1.0), ceiling) / all_pairs
        if abs(new - lam) <= 1e-6 * lam:
            return new
        lam = new
    return lam


def fit(
    levels: np.ndarray,
    sessions: list[tuple[np.ndarray, set[int]]],
    u: np.ndarray,
    comparisons: list[Comparison],
    *,
    all_pairs: float,
    ceiling: float,
    iterations: int = 40,
    tolerance: float = 1e-5,
) -> Model:
    """The whole model: m by EM sessions, the random-pair prior by fixed point, u as given."""
    prior = min(0.5, ceiling / max(len(levels), 1))
    m, report = train_m(levels, sessions, u, comparisons, prior=prior, iterations=iterations, tolerance=tolerance)
    lam = random_match_prior(levels, m, u, all_pairs, ceiling)
    names = tuple(c.name for c in comparisons)
    labels = tuple(c.labels for c in comparisons)
    converged = all(r.get("converged", True) for r in report)
    iterations_run = max((r.get("iterations", 0) for r in report), default=0)
    return Model(names, labels, m, u, lam, iterations_run, converged, sessions=report)

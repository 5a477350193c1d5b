"""Linking two tables with Fellegi-Sunter: blocking, comparison, training (EM), prediction, one-to-one clustering.

The stages are kept apart as in Splink. Comparisons are vectorised over all candidate pairs (rapidfuzz's `cpdist` for
Jaro-Winkler, numpy popcounts for Dice on encodings): no Python loop over pairs. u-probabilities come from random
pairs, m-probabilities and the prior from EM on the blocked pairs. With `encoded=True` both tables are first turned
into keyed Bloom-filter encodings and keyed blocking tokens (pseudonymisation/encodings.py), and comparison and
training see only those: the linkage never sees plaintext.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler, Levenshtein

from linkage.config import LinkConfig
from pseudonymisation.encodings import FieldEncoder, as_matrix, dice, fold
from pseudonymisation.keys import KeyStore

LEVELS = 4  # 3 = agree, 2 = close, 1 = somewhat, 0 = disagree; -1 = missing on either side
ENCODING_KIND = {
    "name": "name",
    "string": "name",
    "address": "address",
    "date": "date",
    "postcode": "name",
    "exact": "name",
    "numeric": "name",
}


# --- blocking ------------------------------------------------------------------------------------------------------


def soundex(value: str) -> str:
    s = fold(value).replace(" ", "")
    if not s:
        return ""
    codes = {
        **dict.fromkeys("bfpv", "1"),
        **dict.fromkeys("cgjkqsxz", "2"),
        **dict.fromkeys("dt", "3"),
        "l": "4",
        **dict.fromkeys("mn", "5"),
        "r": "6",
    }
    out, last = s[0], codes.get(s[0], "")
    for ch in s[1:]:
        code = codes.get(ch, "")
        if code and code != last:
            out += code
        if ch not in "hw":
            last = code
    return (out + "000")[:4]


_KEY = re.compile(r"^(first3|soundex|year)\((\w+)\)$|^(\w+)$")


def block_key(series: pd.Series, expression: str) -> pd.Series:
    m = _KEY.match(expression.strip())
    if not m:
        raise ValueError(f"blocking key {expression!r}: use a field, first3(f), soundex(f) or year(f)")
    func = m.group(1)
    s = series.fillna("").astype(str).map(fold)
    if func == "first3":
        return s.str[:3]
    if func == "soundex":
        return s.map(soundex)
    if func == "year":
        return s.str.replace(r"\D", "", regex=True).str[:4]
    return s


def _column_of(expression: str) -> str:
    m = _KEY.match(expression.strip())
    return m.group(2) or m.group(3)


def candidate_pairs(left_keys: dict[int, pd.Series], right_keys: dict[int, pd.Series], n_rules: int) -> np.ndarray:
    """Pairs (left row, right row) that agree on every key of at least one rule, each pair once."""
    found = []
    for rule in range(n_rules):
        lk, rk = left_keys[rule], right_keys[rule]
        left = pd.DataFrame({"k": lk.values, "l": np.arange(len(lk))})
        right = pd.DataFrame({"k": rk.values, "r": np.arange(len(rk))})
        left, right = left[left.k != ""], right[right.k != ""]
        merged = left.merge(right, on="k")
        found.append(merged[["l", "r"]].to_numpy())
    pairs = np.unique(np.concatenate(found), axis=0) if found else np.zeros((0, 2), dtype=np.int64)
    return pairs


def rule_keys(df: pd.DataFrame, rules: list[list[str]], column_of) -> dict[int, pd.Series]:
    out = {}
    for i, rule in enumerate(rules):
        parts = [block_key(df[column_of(_column_of(expr))], expr) for expr in rule]
        key = parts[0]
        for p in parts[1:]:
            key = key.where((key != "") & (p != ""), "") + "|" + p
        out[i] = key.where(~key.str.endswith("|"), "")
    return out


# --- comparison ----------------------------------------------------------------------------------------------------


def _levels_from_similarity(sim: np.ndarray, missing: np.ndarray, cuts: tuple[float, float, float]) -> np.ndarray:
    lv = np.zeros(len(sim), dtype=np.int8)
    lv[sim >= cuts[2]] = 1
    lv[sim >= cuts[1]] = 2
    lv[sim >= cuts[0]] = 3
    lv[missing] = -1
    return lv


def compare_plain(kind: str, sa: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """Levels for aligned arrays of folded strings ('' where missing)."""
    missing = (sa == "") | (sb == "")
    if kind in ("name", "string", "address"):
        sim = np.asarray(process.cpdist(sa.tolist(), sb.tolist(), scorer=JaroWinkler.normalized_similarity, workers=-1))
        return _levels_from_similarity(sim, missing, (0.999, 0.92, 0.8))
    if kind == "date":
        dist = np.asarray(process.cpdist(sa.tolist(), sb.tolist(), scorer=Levenshtein.distance, workers=-1))
        same_year = _prefix(sa, 4) == _prefix(sb, 4)
        lv = np.where(dist == 0, 3, np.where(dist == 1, 2, np.where(same_year, 1, 0))).astype(np.int8)
    elif kind == "postcode":
        lv = np.where(sa == sb, 3, np.where(_prefix(sa, 3) == _prefix(sb, 3), 2, 0)).astype(np.int8)
    elif kind == "numeric":
        xa = pd.to_numeric(pd.Series(sa), errors="coerce").to_numpy(float)
        xb = pd.to_numeric(pd.Series(sb), errors="coerce").to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.abs(xa - xb) / np.maximum(np.abs(xa), np.abs(xb))
        lv = np.where(xa == xb, 3, np.where(rel <= 0.05, 2, 0)).astype(np.int8)
        missing = missing | np.isnan(xa) | np.isnan(xb)
    else:  # exact
        lv = np.where(sa == sb, 3, 0).astype(np.int8)
    lv[missing] = -1
    return lv


def _prefix(a: np.ndarray, n: int) -> np.ndarray:
    return np.array([x[:n] for x in a], dtype=object)


def folded_column(series: pd.Series) -> np.ndarray:
    """A column folded once (lower case, no diacritics or punctuation), '' for missing values."""
    return np.array([fold(str(v)) if v is not None and v == v and str(v) != "" else "" for v in series], dtype=object)


def compare_encoded(ma: np.ndarray, mb: np.ndarray) -> np.ndarray:
    sim = dice(ma, mb)
    missing = np.isnan(sim)
    return _levels_from_similarity(np.nan_to_num(sim), missing, (0.999, 0.85, 0.7))


# --- training and prediction ---------------------------------------------------------------------------------------


def estimate_u(levels_random: np.ndarray) -> np.ndarray:
    """u[field, level] from random pairs (almost all non-matches), smoothed."""
    u = np.zeros((levels_random.shape[1], LEVELS))
    for f in range(levels_random.shape[1]):
        col = levels_random[:, f]
        col = col[col >= 0]
        counts = np.bincount(col, minlength=LEVELS) + 0.5
        u[f] = counts / counts.sum()
    return u


def em(levels: np.ndarray, u: np.ndarray, iterations: int, prior: float = 0.01) -> tuple[np.ndarray, float]:
    """m[field, level] and the match prior by EM on the blocked pairs, with u fixed."""
    n_fields = levels.shape[1]
    m = np.tile(np.array([0.02, 0.05, 0.13, 0.8]), (n_fields, 1))
    lam = prior
    present = levels >= 0
    idx = np.where(present, levels, 0)
    for _ in range(iterations):
        lm = np.where(present, np.log(m[np.arange(n_fields), idx]), 0).sum(axis=1)
        lu = np.where(present, np.log(u[np.arange(n_fields), idx]), 0).sum(axis=1)
        with np.errstate(over="ignore"):
            odds = np.exp(np.clip(lm - lu, -700, 700)) * lam / (1 - lam)
        g = odds / (1 + odds)
        lam = float(np.clip(g.mean(), 1e-6, 0.999))
        for f in range(n_fields):
            mask = present[:, f]
            counts = np.bincount(levels[mask, f], weights=g[mask], minlength=LEVELS) + 1e-3
            m[f] = counts / counts.sum()
    return m, lam


def match_weights(levels: np.ndarray, m: np.ndarray, u: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    n_fields = levels.shape[1]
    present = levels >= 0
    idx = np.where(present, levels, 0)
    partial = np.where(present, np.log2(m[np.arange(n_fields), idx] / u[np.arange(n_fields), idx]), 0.0)
    weight = np.log2(lam / (1 - lam)) + partial.sum(axis=1)
    return weight, partial


def one_to_one(left: np.ndarray, right: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Greedy assignment: the most probable pair first, each record used once. Returns the kept indices."""
    order = np.argsort(-prob, kind="stable")
    used_l, used_r, keep = set(), set(), []
    for i in order:
        if left[i] in used_l or right[i] in used_r:
            continue
        used_l.add(left[i])
        used_r.add(right[i])
        keep.append(i)
    return np.array(sorted(keep), dtype=np.int64)


# --- the whole link ------------------------------------------------------------------------------------------------


def _encode_side(df: pd.DataFrame, config: LinkConfig, side: str, keystore: KeyStore) -> dict:
    """The encoded form of one side: Bloom filters per field and keyed blocking tokens; no plaintext survives."""
    from pseudonymisation.pseudonyms import Pseudonymiser

    col = (lambda f: f.left_column) if side == "left" else (lambda f: f.right_column)
    out = {"filters": {}, "blocks": {}}
    for f in config.fields:
        values = df[col(f)].where(df[col(f)].notna(), None).astype(object).tolist()
        values = [None if v is None or v == "" else _date_iso(str(v)) if f.kind == "date" else str(v) for v in values]
        enc = FieldEncoder(keystore, f"link/{f.name}", ENCODING_KIND[f.kind])
        out["filters"][f.name] = as_matrix(enc.encode_array(values).to_pylist(), enc.length // 8)
    token = Pseudonymiser(keystore, "blokkeersleutel")
    by_name = {f.name: col(f) for f in config.fields}
    keys = rule_keys(df, config.blocking, lambda c: by_name.get(c, c))
    for i, series in keys.items():
        out["blocks"][i] = pd.Series([token.pseudonym(f"{i}|{v}") if v else "" for v in series])
    return out


def _date_iso(v: str) -> str:
    digits = re.sub(r"\D", "", v)
    if len(digits) == 8:
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return v


def link_tables(
    left: pd.DataFrame,
    right: pd.DataFrame,
    config: LinkConfig,
    *,
    encoded: bool = False,
    keystore: KeyStore | None = None,
    seed: int = 1,
) -> pa.Table:
    """Pairs at or over the threshold: left_id, right_id, match_probability, match_weight, evidence (JSON)."""
    rng = np.random.default_rng(seed)
    if encoded:
        if keystore is None:
            raise ValueError("encoded linkage needs a key store")
        le, re_ = _encode_side(left, config, "left", keystore), _encode_side(right, config, "right", keystore)
        pairs = candidate_pairs(le["blocks"], re_["blocks"], len(config.blocking))

        def levels_for(li: np.ndarray, ri: np.ndarray) -> np.ndarray:
            return np.stack(
                [compare_encoded(le["filters"][f.name][li], re_["filters"][f.name][ri]) for f in config.fields], axis=1
            )
    else:
        by_left = {f.name: f.left_column for f in config.fields}
        by_right = {f.name: f.right_column for f in config.fields}
        lk = rule_keys(left, config.blocking, lambda c: by_left.get(c, c))
        rk = rule_keys(right, config.blocking, lambda c: by_right.get(c, c))
        pairs = candidate_pairs(lk, rk, len(config.blocking))
        lcols = {f.name: folded_column(left[f.left_column]) for f in config.fields}
        rcols = {f.name: folded_column(right[f.right_column]) for f in config.fields}

        def levels_for(li: np.ndarray, ri: np.ndarray) -> np.ndarray:
            return np.stack(
                [compare_plain(f.kind, lcols[f.name][li], rcols[f.name][ri]) for f in config.fields], axis=1
            )

    if len(pairs) > config.max_pairs:
        raise ValueError(f"blocking yields {len(pairs):,} pairs, over max_pairs {config.max_pairs:,}: tighten it")
    if len(pairs) == 0:
        return _empty()
    n_random = min(100_000, len(left) * len(right))
    rl, rr = rng.integers(0, len(left), n_random), rng.integers(0, len(right), n_random)
    u = estimate_u(levels_for(rl, rr))
    levels = levels_for(pairs[:, 0], pairs[:, 1])
    m, lam = em(levels, u, config.em_iterations, prior=min(0.5, min(len(left), len(right)) / max(len(pairs), 1)))
    weight, partial = match_weights(levels, m, u, lam)
    prob = 1 / (1 + np.power(2.0, -weight))
    keep = np.flatnonzero(prob >= config.threshold)
    if config.one_to_one and len(keep):
        keep = keep[one_to_one(pairs[keep, 0], pairs[keep, 1], prob[keep])]
    lid, rid = left[config.left_id].to_numpy(), right[config.right_id].to_numpy()
    names = [f.name for f in config.fields]
    evidence = [
        json.dumps(
            {n: {"level": int(levels[i, j]), "weight": round(float(partial[i, j]), 2)} for j, n in enumerate(names)}
        )
        for i in keep
    ]
    return pa.table(
        {
            "left_id": pa.array([str(x) for x in lid[pairs[keep, 0]]], pa.string()),
            "right_id": pa.array([str(x) for x in rid[pairs[keep, 1]]], pa.string()),
            "match_probability": pa.array(prob[keep], pa.float64()),
            "match_weight": pa.array(weight[keep], pa.float64()),
            "evidence": pa.array(evidence, pa.string()),
        }
    )


def _empty() -> pa.Table:
    return pa.table(
        {
            "left_id": pa.array([], pa.string()),
            "right_id": pa.array([], pa.string()),
            "match_probability": pa.array([], pa.float64()),
            "match_weight": pa.array([], pa.float64()),
            "evidence": pa.array([], pa.string()),
        }
    )


def f1_score(pairs: pa.Table, truth: set[tuple[str, str]]) -> dict[str, float]:
    found = set(zip(pairs["left_id"].to_pylist(), pairs["right_id"].to_pylist(), strict=True))
    tp = len(found & truth)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "pairs": len(found)}

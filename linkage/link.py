"""Linking two tables: blocking, comparison, training (EM), prediction and clustering, each in its own module.

`link_tables(left, right, config)` is what `rgw link` runs. With `encoded=True` each side is first turned into its
encoded form (`encode_side`): keyed Bloom filters per field (pseudonymisation/encodings.py), keyed tokens for the
fields compared on equality, and keyed tokens for each blocking rule's key. Everything after that (blocking,
comparison, training, prediction) sees only that form: the linkage never sees plaintext.

Tables are pandas frames or Arrow tables. The linker itself never imports pandas (see blocking.arrow_strings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from linkage.blocking import (
    arrow_numbers,
    arrow_strings,
    candidate_pairs,
    codes_of,
    keyed_column,
    rule_codes,
    rule_tokens,
    token_codes,
)
from linkage.clustering import cluster_ids, one_to_one
from linkage.comparison import (
    ENCODING_KIND,
    TOKEN_KINDS,
    Comparison,
    FieldValues,
    canonical,
    encoded_values,
    iso_date,
    plain_values,
)
from linkage.config import ConfigError, LinkConfig
from linkage.prediction import evidence, match_weight, partial_weights, probability, tf_adjustments
from linkage.training import Model, estimate_u, fit

PAIR_COLUMNS = ("left_id", "right_id", "match_probability", "match_weight", "evidence")


# --- input ---------------------------------------------------------------------------------------------------------


def read_table(path: Path | str) -> pa.Table:
    """A CSV (comma, semicolon or tab; UTF-8) or Parquet file as an Arrow table. CSV columns are read as text (a
    postcode 0586 keeps its zero), spaces around names and values are dropped (FEBRL writes ", "); the linker takes
    an empty value as missing."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return pq.read_table(path)
    if path.suffix.lower() != ".csv":
        raise ValueError(f"{path.name}: give a .csv or .parquet file")
    with path.open(encoding="utf-8-sig") as f:
        header = f.readline()
    sep = max((",", ";", "\t"), key=header.count)
    names = [n.strip() for n in header.rstrip("\r\n").split(sep)]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
        )
    except pa.ArrowInvalid as exc:
        raise ValueError(f"{path.name}: cannot read as CSV ({exc}); wrong delimiter or encoding?") from exc
    return pa.table(dict(zip(names, [pc.utf8_trim_whitespace(c) for c in table.columns], strict=True)))


def _column(table, name: str, side: str) -> np.ndarray:
    """One column of a pandas DataFrame or Arrow table as an object array; ConfigError if it is not there."""
    columns = table.column_names if isinstance(table, pa.Table) else list(table.columns)
    if name not in columns:
        raise ConfigError(f"the {side} table has no column {name!r} (columns: {', '.join(map(str, columns))})")
    out = np.empty(len(table), dtype=object)
    out[:] = table.column(name).to_pylist() if isinstance(table, pa.Table) else table[name].tolist()
    return out


def _ids(table, name: str, side: str) -> np.ndarray:
    raw = _column(table, name, side)
    out = np.empty(len(raw), dtype=object)
    out[:] = ["" if v is None or v != v else str(v).strip() for v in raw]
    return out


def _canonical_columns(table, config: LinkConfig, side: str) -> dict[str, np.ndarray]:
    out = {}
    for f in config.fields:
        col = f.left_column if side == "left" else f.right_column
        out[f.name] = canonical(f.kind, _column(table, col, side))
    return out


# --- the encoded form ----------------------------------------------------------------------------------------------


@dataclass
class EncodedSide:
    """One table in encoded form: what the linker may see when it must not see plaintext.

    `fields[name]` holds per record (an Arrow array) a Bloom filter (binary, `nbytes[name]` long) or, for kinds
    compared on equality, a keyed token (uint64 numpy array, `nbytes[name]` None); null or 0 where the value is
    missing. `blocks[i]` holds per record the keyed token of blocking rule i (uint64, 0 where a key is missing).
    """

    ids: np.ndarray
    fields: dict[str, pa.Array | np.ndarray]
    nbytes: dict[str, int | None]
    blocks: list[np.ndarray] = field(default_factory=list)


class Encoders:
    """The keys and encoders of one link: a Bloom-filter encoder per field (pseudonymisation/encodings.py), a key for
    the tokens of fields compared on equality, and a key for blocking tokens. Made once and shared by both sides, so
    each distinct value is encoded once."""

    def __init__(self, config: LinkConfig, keystore):
        from pseudonymisation.encodings import HARDENED_TAPS, FieldEncoder

        self.filters = {}
        for f in config.fields:
            if f.kind not in TOKEN_KINDS:  # a swappable pair shares one key, so its filters compare
                key = "+".join(sorted({f.name, f.swap_with or f.name}))
                self.filters[f.name] = FieldEncoder(keystore, f"link/{key}", ENCODING_KIND[f.kind], taps=HARDENED_TAPS)
        self.token_key = keystore.derive("linkage/tokens")
        self.block_key = keystore.derive("linkage/blocking")
        self._memo: dict[str, dict[str, bytes | None]] = {name: {} for name in self.filters}

    def __repr__(self) -> str:  # never the keys
        return f"Encoders(fields={sorted(self.filters)})"

    def filters_of(self, name: str, values: list[str]) -> pa.Array:
        """Filters of distinct values of one field; a value the other side already had is not encoded again."""
        memo, encoder = self._memo[name], self.filters[name]
        todo = [v for v in values if v not in memo]
        if todo:
            many = getattr(encoder, "encode_many", None)  # vectorised where the encoder offers it
            memo.update(zip(todo, many(todo) if many else [encoder.encode(v) for v in todo], strict=True))
        return arrow_strings([memo[v] for v in values], binary=True)


def encode_side(table, config: LinkConfig, side: str, keystore=None, encoders: Encoders | None = None) -> EncodedSide:
    """The encoded form of one table under `keystore`; the plaintext stays inside this function."""
    encoders = encoders or Encoders(config, keystore)
    ids = _ids(table, config.left_id if side == "left" else config.right_id, side)
    canon = _canonical_columns(table, config, side)
    fields, nbytes = {}, {}
    for f in config.fields:
        if f.kind in TOKEN_KINDS:  # keyed once per distinct value
            fields[f.name] = keyed_column(canon[f.name], encoders.token_key, f.name)
            nbytes[f.name] = None
            continue
        codes, uniques = codes_of(canon[f.name])  # encoded once per distinct value
        texts = [iso_date(v) for v in uniques] if f.kind == "date" else uniques.tolist()
        keyed = encoders.filters_of(f.name, texts)
        fields[f.name] = pc.take(keyed, arrow_numbers(np.maximum(codes, 0), present=codes >= 0))
        nbytes[f.name] = encoders.filters[f.name].length // 8
    blocks = [
        rule_tokens(canon, rule, encoders.block_key, config.rule_text(i)) for i, rule in enumerate(config.blocking)
    ]
    return EncodedSide(ids, fields, nbytes, blocks)


# --- the link ------------------------------------------------------------------------------------------------------


@dataclass
class Prepared:
    """Both sides ready for the linker: ids, per field coded values, per rule coded blocking keys."""

    left_ids: np.ndarray
    right_ids: np.ndarray
    values: list[FieldValues]
    rules: list[tuple[np.ndarray, np.ndarray]]


def prepare_plain(left, right, config: LinkConfig) -> Prepared:
    lcanon, rcanon = _canonical_columns(left, config, "left"), _canonical_columns(right, config, "right")
    values = [
        plain_values(lcanon[f.name], rcanon[f.name], rcanon[f.swap_with] if f.swap_with else None)
        for f in config.fields
    ]
    rules = rule_codes(lcanon, rcanon, config.blocking)
    return Prepared(_ids(left, config.left_id, "left"), _ids(right, config.right_id, "right"), values, rules)


def prepare_encoded(left: EncodedSide, right: EncodedSide, config: LinkConfig) -> Prepared:
    values = [
        encoded_values(
            left.fields[f.name],
            right.fields[f.name],
            left.nbytes[f.name],
            right.fields[f.swap_with] if f.swap_with else None,
        )
        for f in config.fields
    ]
    rules = [token_codes(lb, rb) for lb, rb in zip(left.blocks, right.blocks, strict=True)]
    return Prepared(left.ids, right.ids, values, rules)


@dataclass
class LinkResult:
    pairs: pa.Table
    model: Model | None
    candidate_pairs: int
    stats: dict = field(default_factory=dict)


def _levels(
    comparisons: list[Comparison], values: list[FieldValues], li: np.ndarray, ri: np.ndarray, dedupe: bool = True
) -> np.ndarray:
    out = np.empty((len(li), len(comparisons)), dtype=np.int8)
    for f, comp in enumerate(comparisons):
        out[:, f] = comp.levels(values[f], li, ri, dedupe=dedupe)
    return out


def train(
    prepared: Prepared,
    comparisons: list[Comparison],
    levels: np.ndarray,
    li: np.ndarray,
    ri: np.ndarray,
    config: LinkConfig,
) -> Model:
    """u from random pairs (exact level from value frequencies); m by one EM session per blocking rule, leaving out
    the rule's own fields; the random-pair prior by fixed point."""
    rng = np.random.default_rng(config.seed)
    nl, nr = len(prepared.left_ids), len(prepared.right_ids)
    n_random = int(min(config.u_pairs, nl * nr))
    rl, rr = rng.integers(0, nl, n_random), rng.integers(0, nr, n_random)
    u = estimate_u(_levels(comparisons, prepared.values, rl, rr, dedupe=False), comparisons, prepared.values)
    index = {f.name: i for i, f in enumerate(config.fields)}
    sessions = []
    for (lc, rc), rule in zip(prepared.rules, config.blocking, strict=True):
        a, b = lc[li], rc[ri]
        sessions.append(((a == b) & (a >= 0), {index[k.field] for k in rule}))
    return fit(
        levels,
        sessions,
        u,
        comparisons,
        all_pairs=float(nl) * float(nr),
        ceiling=float(min(nl, nr)),
        iterations=config.em_iterations,
        tolerance=config.em_tolerance,
    )


def run(prepared: Prepared, config: LinkConfig, *, encoded: bool, model: Model | None = None) -> LinkResult:
    """Blocking, comparison, training (unless a model is given), prediction and clustering on prepared sides."""
    comparisons = [Comparison.of(f, encoded) for f in config.fields]
    li, ri, rule = candidate_pairs(prepared.rules, len(prepared.right_ids), config.max_pairs)
    if len(li) == 0:
        return LinkResult(_empty_pairs(), model, 0)
    levels = _levels(comparisons, prepared.values, li, ri)
    if model is None:
        model = train(prepared, comparisons, levels, li, ri, config)
    partial = partial_weights(levels, model)
    tf = tf_adjustments(levels, comparisons, prepared.values, model, li)
    weight = match_weight(partial, tf, model)
    prob = probability(weight)
    keep = np.flatnonzero(prob >= config.threshold)
    if config.clustering == "one_to_one" and len(keep):
        keep = keep[one_to_one(li[keep], ri[keep], weight[keep])]
    rule_texts = [config.rule_text(i) for i in range(len(config.blocking))]
    columns = {
        "left_id": arrow_strings(prepared.left_ids[li[keep]].tolist()),
        "right_id": arrow_strings(prepared.right_ids[ri[keep]].tolist()),
        "match_probability": arrow_numbers(prob[keep]),
        "match_weight": arrow_numbers(weight[keep]),
        "evidence": arrow_strings(evidence(keep, levels, partial, tf, comparisons, model, rule_texts, rule)),
    }
    pairs = pa.table(columns)
    if config.clustering == "components":
        pairs = _with_clusters(pairs)
    stats = {"candidate_pairs": int(len(li)), "over_threshold": int((prob >= config.threshold).sum())}
    return LinkResult(pairs, model, int(len(li)), stats)


def _empty_pairs() -> pa.Table:
    empty = np.zeros(0)
    return pa.table(
        {
            "left_id": arrow_strings([]),
            "right_id": arrow_strings([]),
            "match_probability": arrow_numbers(empty),
            "match_weight": arrow_numbers(empty),
            "evidence": arrow_strings([]),
        }
    )


def _with_clusters(pairs: pa.Table) -> pa.Table:
    """Adds `cluster_id`: the connected component of the pair (records from both sides), named by its smallest key."""
    a = ["l:" + x for x in pairs["left_id"].to_pylist()]
    b = ["r:" + x for x in pairs["right_id"].to_pylist()]
    ids = cluster_ids([], a, b, "cluster")
    return pairs.append_column("cluster_id", arrow_strings([ids[x] for x in a]))


def link(
    left,
    right,
    config: LinkConfig,
    *,
    encoded: bool = False,
    keystore=None,
    model: Model | None = None,
) -> LinkResult:
    """Link two tables (pandas or Arrow); the result holds the pairs, the trained model and counts."""
    if encoded:
        if keystore is None:
            raise ValueError("encoded linkage needs a key store")
        encoders = Encoders(config, keystore)
        prepared = prepare_encoded(
            encode_side(left, config, "left", encoders=encoders),
            encode_side(right, config, "right", encoders=encoders),
            config,
        )
    else:
        prepared = prepare_plain(left, right, config)
    return run(prepared, config, encoded=encoded, model=model)


def link_tables(left, right, config: LinkConfig, encoded: bool = False, keystore=None) -> pa.Table:
    """Pairs at or over the threshold: left_id, right_id, match_probability, match_weight, evidence (JSON)."""
    return link(left, right, config, encoded=encoded, keystore=keystore).pairs


def f1_score(pairs: pa.Table, truth: set[tuple[str, str]]) -> dict[str, float]:
    """Precision, recall and F1 of found pairs against the true pairs."""
    found = set(zip(pairs["left_id"].to_pylist(), pairs["right_id"].to_pylist(), strict=True))
    tp = len(found & truth)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "pairs": len(found)}

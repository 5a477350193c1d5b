"""Drawing a chart once per content: the SVG of a Vega-Lite spec, kept while the spec stays the same.

vl-convert draws a spec into SVG as a function of the spec (data included: altair puts the figures in it), the
locale options and vl-convert's own version; the programme report's nine charts cost about a second of CPU on every
refresh, also when no figure changed (a corrected name in a BRP re-delivery). Inside `kept_in(folder)` each SVG is
kept in `folder` under the SHA-256 of all three, and a spec drawn before is read back instead of drawn again. At the
end of the block every file the block did not use is removed, so the folder holds one report's charts.

vl-convert names gradients per process (`gradient_0`, `gradient_1`, ...): an SVG kept from another process could
reuse a name a chart drawn in this one has, and a page would then fill one chart with the other's gradient. So every
SVG, kept or not, names its gradients after its spec's digest: the same spec gives the same SVG in any process, two
specs never share a name. The SVGs hold what the report shows (suppressed counts are drawn as "<5"), no more.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib.metadata import version
from pathlib import Path
from typing import Any

import vl_convert

from hubcore.durable import write_whole

_kept: ContextVar[tuple[Path, set[str]] | None] = ContextVar("kept_chart_svgs", default=None)
_GRADIENT = re.compile(r"\bgradient_(\d+)\b")


def _digest(spec: dict[str, Any], options: dict[str, str]) -> str:
    content = {"spec": spec, "options": options, "vl-convert": version("vl-convert-python")}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _own_gradient_names(svg: str, digest: str) -> str:
    names: dict[str, str] = {}
    return _GRADIENT.sub(lambda m: names.setdefault(m.group(0), f"chart-{digest[:16]}-gradient-{len(names)}"), svg)


def vegalite_svg(spec: dict[str, Any], **options: str) -> str:
    """`vl_convert.vegalite_to_svg(spec, **options)` with gradients named after the spec, read from the kept
    folder when this spec was drawn before (inside `kept_in`)."""
    digest = _digest(spec, options)
    kept = _kept.get()
    path = None if kept is None else kept[0] / f"{digest}.svg"
    if kept is not None and path is not None:
        kept[1].add(path.name)
        if path.is_file():
            return path.read_text(encoding="utf-8")
    svg = _own_gradient_names(vl_convert.vegalite_to_svg(spec, **options), digest)
    if path is not None:
        write_whole(path, svg.encode("utf-8"))  # a killed run leaves no half SVG under a digest
    return svg


@contextmanager
def kept_in(folder: Path) -> Iterator[None]:
    """Inside: SVGs are kept in (and read back from) `folder`; afterwards only those used inside remain."""
    folder.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    token = _kept.set((folder, used))
    try:
        yield
    finally:
        _kept.reset(token)
        for path in folder.iterdir():
            if path.name not in used:
                path.unlink(missing_ok=True)

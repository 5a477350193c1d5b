"""The council's PDF: the report page printed by headless Chromium, the same engine that shows the page.

We chose Chromium's print to PDF over WeasyPrint because the hub already depends on Debian's chromium (the privacy
report is tested in it), it renders the Vega-Lite SVG exactly as the browser does, and it needs no extra native
libraries (WeasyPrint brings Pango and its fonts). Page breaks come from the page's print CSS: one chart a page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run")


class RendererMissing(RuntimeError):
    """No Chromium on this machine: the PDF cannot be printed (the HTML and data.json are still written)."""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RendererMissing(
            "Debian's chromium is missing: `make browser` installs it as root (or apt-get install chromium)"
        )
    return found


def run_chromium(url: str, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """One headless Chromium run on `url` with a private profile, so parallel runs do not share state."""
    with tempfile.TemporaryDirectory(prefix="rgw-chromium-") as profile:
        cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def print_pdf(page: Path, pdf: Path) -> Path:
    """Print `page` to `pdf` (A4, the page's own margins, no browser header or footer); raises on failure."""
    tmp = pdf.with_name(f".{pdf.name}.part")
    done = run_chromium(page.resolve().as_uri(), f"--print-to-pdf={tmp}", "--no-pdf-header-footer")
    if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"chromium could not print {page} to PDF: {done.stderr[-1500:]}")
    tmp.replace(pdf)
    return pdf


def reuse_or_print_pdf(page: Path, pdf: Path, previous_page: Path, previous_pdf: Path) -> bool:
    """Print `page` to `pdf`, unless the report folder being replaced holds a PDF printed from the very same page
    (byte for byte, but for the names Vega gives its gradients, numbered per process: the figures, the charts and the
    date are all in the page): that PDF is copied instead, and True says so.

    The page changes only when the warehouse's figures or the code do, while the hub refreshes the report after every
    delivery; a refresh that changed no figure (a corrected name, a meldpunten delivery outside the report's year)
    used to start Chromium again, a second or two of the refresh."""
    if (
        previous_page.is_file()
        and previous_pdf.is_file()
        and previous_pdf.stat().st_size > 0
        and _canonical(previous_page.read_bytes()) == _canonical(page.read_bytes())
    ):
        tmp = pdf.with_name(f".{pdf.name}.part")
        shutil.copyfile(previous_pdf, tmp)
        tmp.replace(pdf)
        return True
    print_pdf(page, pdf)
    return False


def _canonical(page: bytes) -> bytes:
    """The page with Vega's gradient ids renumbered in order of appearance: vl-convert counts them per process, so
    the same chart drawn twice in one process is `gradient_0` and then `gradient_1`, a renaming Chromium cannot see."""
    ids: dict[bytes, bytes] = {}
    return re.sub(rb"gradient_\d+", lambda m: ids.setdefault(m.group(), b"gradient_%d" % len(ids)), page)

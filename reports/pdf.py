"""The council's PDF: the report page printed by headless Chromium, the same engine that shows the page.

We chose Chromium's print to PDF over WeasyPrint because the hub already depends on Debian's chromium (the privacy
report is tested in it), it renders the Vega-Lite SVG exactly as the browser does, and it needs no extra native
libraries (WeasyPrint brings Pango and its fonts). Page breaks come from the page's print CSS: one chart a page.
"""

from __future__ import annotations

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

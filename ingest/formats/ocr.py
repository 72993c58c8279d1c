"""Optional OCR of pages without a text layer, with Debian's `tesseract-ocr` when installed.

The tesseract binary is run as a subprocess on each page rendered by pdfium (300 dpi): no
Python binding to build, and nothing happens unless the user installed it. A page it cannot
read comes back empty, and the PDF loader reports it like any page without text.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

_TIMEOUT_S = 300


@dataclass(frozen=True)
class Ocr:
    binary: str
    languages: str = "eng"
    dpi: int = 300

    @classmethod
    def find(cls, languages: str = "eng") -> Ocr | None:
        """The installed tesseract, or None when there is none."""
        binary = shutil.which("tesseract")
        return cls(binary, languages) if binary else None

    def read_image(self, image: bytes) -> str:
        """Text of one image (PNG bytes); "" when tesseract fails on it."""
        try:
            done = subprocess.run(
                [self.binary, "stdin", "stdout", "-l", self.languages],
                input=image,
                capture_output=True,
                timeout=_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout.decode("utf-8", errors="replace") if done.returncode == 0 else ""

    def read_pdf_pages(self, data: bytes, indices: Sequence[int]) -> list[str]:
        """Text of the 0-based pages `indices` of a PDF, rendered by pdfium."""
        import io

        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(data)
        try:
            texts = []
            for i in indices:
                page = pdf[i]
                image = page.render(scale=self.dpi / 72).to_pil()
                png = io.BytesIO()
                image.save(png, format="PNG")
                page.close()
                texts.append(self.read_image(png.getvalue()))
        finally:
            pdf.close()
        return texts

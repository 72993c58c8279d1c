"""HTML as Markdown-ish text: headings become `#` lines so chunking sees the structure."""

from __future__ import annotations

from ingest.formats.common import Parsed, clean_text, decode_text


def load(data: bytes) -> Parsed:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else None
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.replace_with(f"\n\n{'#' * level} {heading.get_text(' ', strip=True)}\n\n")
    for pre in soup.find_all("pre"):
        pre.replace_with(f"\n\n```\n{pre.get_text()}\n```\n\n")
    body = soup.body or soup
    return Parsed(text=clean_text(body.get_text("\n")), title=title)

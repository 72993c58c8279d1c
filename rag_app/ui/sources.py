"""Opening a cited source from the chat page: the passage under its heading path, and the
page of a PDF as an image with the passage marked, or the document of any other type as text.

A click names an answer of this session and a citation number, never a file. The server
looks the passage up among the answers it gave this session (`CitedAnswers`, kept in the
session's state, which the browser cannot write), then the passage's document among the
collection's records, and opens only the path the store recorded; anything else is refused.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from PIL import Image

from rag_app.errors import InvalidInput, UserError
from rag_app.store import DocumentRecord
from rag_app.types import Passage
from rag_app.ui.page_image import render_cited_page
from rag_app.ui.render import cite_button
from rag_app.ui.safe_markdown import message_html

KEPT_ANSWERS = 200
"""Answers of a session whose citations still open; the oldest are forgotten first."""
DOCUMENT_CHARS = 100_000
"""Text of a document shown beside its passage; a longer one is cut, saying so."""

_CITATION = re.compile(r"\[(\d+)\]")

# Runs once, when the sources panel is on the page: a click on any citation button (in an
# answer or in the panel) sends the answer's key and the number, read from its class name
# (`render.cite_button`), to the server. One listener per page, replaced if the panel mounts
# again.
CITE_JS = """
if (window.ragCiteListener) document.removeEventListener('click', window.ragCiteListener);
window.ragCiteListener = (event) => {
  const cite = event.target.closest('.rag-cite');
  if (!cite) return;
  event.preventDefault();
  event.stopPropagation();
  for (const name of cite.classList) {
    const found = name.match(/^rag-cite-([0-9a-f]+)-([0-9]+)$/);
    if (found) trigger('cite', {answer: found[1], n: found[2]});
  }
};
document.addEventListener('click', window.ragCiteListener, true);
"""


@dataclass(frozen=True)
class CitedAnswer:
    collection: str
    passages: dict[int, Passage]


@dataclass
class CitedAnswers:
    """The citations of a session's answers, each answer under a random key."""

    answers: dict[str, CitedAnswer] = field(default_factory=dict)

    def add(self, collection: str, passages: list[Passage]) -> str:
        key = secrets.token_hex(8)
        self.answers[key] = CitedAnswer(collection, {p.n: p for p in passages})
        while len(self.answers) > KEPT_ANSWERS:
            del self.answers[next(iter(self.answers))]
        return key

    def numbers(self, key: str) -> set[int]:
        answer = self.answers.get(key)
        return set(answer.passages) if answer else set()

    def find(self, key: object, n: object) -> tuple[str, Passage]:
        """The collection and passage of citation `n` of answer `key`, as a click sent them."""
        answer = self.answers.get(str(key))
        number = str(n)
        if answer is None or not number.isdigit() or int(number) not in answer.passages:
            raise InvalidInput("that citation is not one of this conversation's answers")
        return answer.collection, answer.passages[int(number)]


def clickable_citations(message: str, key: str, numbers: set[int]) -> str:
    """A message's HTML with each `[n]` it cites as a button that opens the source; text in
    code is left alone."""
    if not numbers:
        return message
    soup = BeautifulSoup(message, "html.parser")
    for text in list(soup.find_all(string=_CITATION)):
        if text.find_parent(["code", "pre"]) is not None:
            continue
        pieces: list[NavigableString | Tag] = []
        last = 0
        for match in _CITATION.finditer(text):
            if int(match[1]) not in numbers:
                continue
            pieces.append(NavigableString(text[last : match.start()]))
            button = BeautifulSoup(cite_button(key, int(match[1])), "html.parser").button
            assert button is not None
            pieces.append(button)
            last = match.end()
        if pieces:
            text.replace_with(*pieces, NavigableString(text[last:]))
    return str(soup)


@dataclass(frozen=True)
class SourceView:
    html: str
    """Heading, what is shown and the passage; for a type other than PDF, the document."""
    image: Image.Image | None = None
    """The cited PDF page."""


def _document_html(path: Path, max_bytes: int) -> str:
    """The document as ingest reads it (Markdown-ish), rendered so it loads nothing."""
    from ingest.loaders import load_document

    text = load_document(path, max_bytes).text
    cut = len(text) > DOCUMENT_CHARS
    note = (
        f'<div class="rag-note">The first {DOCUMENT_CHARS:,} characters of the document:</div>'
        if cut
        else ""
    )
    return f'{note}<div class="rag-document">{message_html(text[:DOCUMENT_CHARS])}</div>'


def open_source(
    records: Mapping[str, DocumentRecord], passage: Passage, max_bytes: int
) -> SourceView:
    """What opening `passage`'s source shows; its document must be one of `records`."""
    record = records.get(passage.source)
    if record is None:
        raise InvalidInput("that document is no longer in the collection")
    path = Path(record.source)
    head = (
        f'<div class="rag-opened-head"><span class="rag-n">[{passage.n}]</span> '
        f"<b>{html.escape(passage.heading)}</b> · {html.escape(path.name)}</div>"
    )
    quoted = f'<blockquote class="rag-passage">{html.escape(passage.text)}</blockquote>'
    image = None
    if not path.is_file():
        body = '<div class="rag-note">The file is no longer where it was ingested from.</div>'
    elif record.doc_type == "pdf" and passage.page:
        page = render_cited_page(path, passage.page, passage.text)
        image = page.image
        said = (
            f"Page {page.number}, the passage marked in yellow."
            if page.marked
            else f"Page {page.number}. The passage was not found in the page's text layer, so "
            "the page is shown unmarked."
        )
        body = f'<div class="rag-note">{said}</div>'
    else:
        try:
            body = _document_html(path, max_bytes)
        except UserError as err:  # the file changed into something unreadable
            said = html.escape(f"The document cannot be read now: {err}")
            body = f'<div class="rag-note">{said}</div>'
    return SourceView(f'<div class="rag-opened">{head}{quoted}{body}</div>', image)

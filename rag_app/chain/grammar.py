"""A GBNF grammar that lets the local model write only cited sentences, or the abstain sentence.

Told to cite, the 1.5B model still left sentences uncited, and an uncited sentence cannot be
checked, so the support check withheld whole answers for it. llama.cpp samples only tokens the
grammar allows, so here every sentence ends with one or more valid `[n]` (n no greater than the
number of passages) before its full stop. OpenAI-compatible endpoints take no GBNF; there the
support check after the fact is the only guard.
"""

from __future__ import annotations

import json

MAX_SENTENCES = 4
"""The prompt asks for 1-3 sentences; one more leaves room without letting it ramble."""


def citation_grammar(passages: int, abstain_text: str) -> str:
    """Sentences of text that hold no bracket, newline or sentence stop (a stop followed by a
    lower-case letter or digit stays inside: "4.5", "e.g", "app.py"; one followed by a capital
    would start an uncited sentence, "text.This"), each closed by its citations and a stop."""
    if passages < 1:
        raise ValueError("a citation grammar needs at least one passage")
    numbers = " | ".join(json.dumps(str(n)) for n in range(1, passages + 1))
    more = "".join(' (" " sentence)?' for _ in range(MAX_SENTENCES - 1))
    return "\n".join(
        [
            f"root ::= abstain | sentence{more}",
            f"abstain ::= {json.dumps(abstain_text)}",
            'sentence ::= body " " cite+ [.!?]',
            "body ::= [^ \\[\\].!?\\n] bodychar*",
            "bodychar ::= [^\\[\\].!?\\n] | [.!?] [a-z0-9]",
            f'cite ::= "[" ({numbers}) "]"',
        ]
    )

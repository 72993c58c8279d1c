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
    """Sentences of text that hold no bracket, newline or sentence stop, each closed by its
    citations, written before the stop ("text [1].") or after it ("text. [1]"). A stop that
    the sentence splitter would not end a sentence at stays inside: one followed by anything
    but a space, a capital or another stop ("4.5", "app.py", "et al., 2019", "(Sect. 2.1)"),
    or by a space and a lower-case letter ("e.g. here"). Forbidding "al.," made the model
    write "et al. ertl9" where it wanted "et al., 2019".

    The second form matters: with only the first, a model that ended a sentence its own way
    ("text.") could go on only with a lower-case letter or digit, and wrote on, inside that one
    sentence, until `llm_max_tokens` cut it (5 of 23 answerable ARAGOG questions at f22e9ab
    hit the cap; with this form none of them did).
    Now the stop it wants to write is allowed, and the citation it left out is the only
    continuation; a capital straight after a stop ("text.This") still is not."""
    if passages < 1:
        raise ValueError("a citation grammar needs at least one passage")
    numbers = " | ".join(json.dumps(str(n)) for n in range(1, passages + 1))
    more = "".join(' (" " sentence)?' for _ in range(MAX_SENTENCES - 1))
    return "\n".join(
        [
            f"root ::= abstain | sentence{more}",
            f"abstain ::= {json.dumps(abstain_text)}",
            'sentence ::= body (" " cite+ stop | stop " "? cite+)',
            "stop ::= [.!?]",
            "body ::= [^ \\[\\].!?\\n] bodychar*",
            'bodychar ::= [^\\[\\].!?\\n] | [.!?] [^ \\n\\[\\].!?A-Z] | [.!?] " " [a-z]',
            f'cite ::= "[" ({numbers}) "]"',
        ]
    )

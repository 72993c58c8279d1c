from rag_app.config import Settings
from rag_app.store import CollectionStore


def test_the_keyword_index_knows_how_many_children_hold_each_word(ingested: Settings) -> None:
    with CollectionStore(ingested) as store:
        index = store.bm25()
        children = store.state.children()
        frequencies = index.document_frequencies(["compost", "tomato", "sourdough"])
    holding = sum("compost" in c.search_text().lower() for c in children)
    assert index.documents == len(children)
    assert frequencies["compost"] == holding > 0 and frequencies["sourdough"] == 0

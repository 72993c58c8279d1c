"""Trial for issue 22: RAGAS's test-set generator against LlamaIndex's question-context pair
generation, on the same sampled chunks, through the same local LLM. Prints questions per minute
and the questions themselves (judged by hand in README.md).

Usage: RAG_HOME=... python eval/results/questions/trial.py COLLECTION N_CHUNKS {ragas|llamaindex}
The LlamaIndex side needs `pip install --no-deps llama-index-llms-langchain==0.9.0`, which is not
a project dependency (the trial's outcome is why).
"""

from __future__ import annotations

import json
import random
import sys
import time

from rag_app.config import Settings
from rag_app.models.llm import make_chat_model
from rag_app.store import CollectionStore
from rag_app.types import Chunk


def sample(collection: str, n: int) -> tuple[list[Chunk], Settings]:
    settings = Settings(collection=collection)
    store = CollectionStore(settings)
    children = [c for c in store.state.children() if len(c.text.split()) > 60]
    random.Random(0).shuffle(children)
    return children[:n], settings


def run_llamaindex(chunks: list[Chunk], settings: Settings) -> list[tuple[str, str]]:
    from llama_index.core.evaluation import DatasetGenerator
    from llama_index.core.schema import TextNode
    from llama_index.llms.langchain import LangChainLLM

    llm = LangChainLLM(llm=make_chat_model(settings))
    out = []
    for chunk in chunks:
        gen = DatasetGenerator(
            [TextNode(text=chunk.search_text())], llm=llm, num_questions_per_chunk=2
        )
        for q in gen.generate_questions_from_nodes():
            out.append((chunk.id, q))
    return out


def run_ragas(chunks: list[Chunk], settings: Settings) -> list[tuple[str, str]]:
    from langchain_core.documents import Document
    from ragas.embeddings import LangchainEmbeddingsWrapper
    from ragas.llms import LangchainLLMWrapper
    from ragas.run_config import RunConfig
    from ragas.testset import Testset, TestsetGenerator
    from ragas.testset.synthesizers.single_hop.specific import SingleHopSpecificQuerySynthesizer

    from rag_app.models.embeddings import get_embedder

    llm = LangchainLLMWrapper(make_chat_model(settings))
    emb = LangchainEmbeddingsWrapper(get_embedder(settings.embedding_model))
    gen = TestsetGenerator(llm=llm, embedding_model=emb)
    docs = [Document(page_content=c.search_text(), metadata={"id": c.id}) for c in chunks]
    testset = gen.generate_with_chunks(
        docs,
        testset_size=len(chunks) * 2,
        query_distribution=[(SingleHopSpecificQuerySynthesizer(llm=llm), 1.0)],
        run_config=RunConfig(timeout=600, max_workers=1, max_retries=1),
        raise_exceptions=False,
    )
    assert isinstance(testset, Testset)
    return [("?", str(s.eval_sample.user_input)) for s in testset.samples]


if __name__ == "__main__":
    collection, n, which = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    chunks, settings = sample(collection, n)
    started = time.monotonic()
    questions = (run_ragas if which == "ragas" else run_llamaindex)(chunks, settings)
    minutes = (time.monotonic() - started) / 60
    print(
        json.dumps(
            {
                "library": which,
                "chunks": n,
                "questions": len(questions),
                "minutes": round(minutes, 2),
                "per_minute": round(len(questions) / minutes, 2),
            }
        )
    )
    for cid, q in questions:
        print(cid, "|", q)

"""Dense and sparse retrieval, fusion, reranking and parent expansion."""

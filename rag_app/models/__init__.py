"""Local models resolved by name: the bi-encoder, the LLM and (later) the cross-encoder."""

"""Evaluation suite: retrieval metrics on BEIR folders and RAGAS on question sets."""

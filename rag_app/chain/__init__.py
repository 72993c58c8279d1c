"""Prompting, the LLM call and citation checking."""

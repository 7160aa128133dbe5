"""Question answering with cited passages over a collection of news articles.

Data flows one way: articles -> passages -> index -> retrieval -> answer -> citations.
The public entry point is :class:`rag.engine.Engine`.
"""

from rag import config as _config  # noqa: F401  (sets up offline tiktoken before anything imports it)

__version__ = "0.1.0"

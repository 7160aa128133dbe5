"""Question answering with cited passages over a collection of news articles.

Data flows one way: articles -> passages -> index -> retrieval -> answer -> citations.
The public entry point is :class:`rag.engine.Engine`.
"""

__version__ = "0.1.0"

"""Errors the user can act on. Each message says what to do next."""


class RagError(Exception):
    """Base class: the message is shown to the user as one line."""


class IndexMissingError(RagError):
    pass


class IndexBrokenError(RagError):
    pass


class ArticleError(RagError):
    """An article file that cannot be ingested (binary, empty, too large, unknown type)."""


class QuestionError(RagError):
    """An empty or oversized question."""


class IndexBusyError(RagError):
    pass


class EmbeddingServiceError(RagError):
    """An embedding service (--embed-url) that cannot be reached or answers wrongly."""


class PassagesMissingError(IndexBrokenError):
    """Passages the manifest names are not in Chroma: another process changed the index under a
    question (asked again on a fresh view), or Chroma lost them (`rag ingest` repairs it)."""

"""The shipped corpus, as the tests name it."""

from rag.config import DEFAULT_ARTICLES

ARTICLES = DEFAULT_ARTICLES
FIFTH = "2022-07-04_fifth-joint-meeting"
SEVENTH = "2023-11-20_seventh-joint-meeting_bilingual"

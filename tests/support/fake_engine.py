"""An engine stand-in for the app's unit tests: records its calls, returns a fixed result or raises."""

from __future__ import annotations

from rag.errors import QuestionError


def result(answer="Yuan Jiajun presided. [1] Wang Xiaohui attended. [2]", answered=True, text=None):
    text = text or "Yuan Jiajun presided. Wang Xiaohui attended."
    return {
        "question": "Who attended?", "answer": answer, "answered": answered, "timings_ms": {"retrieve": 3, "answer": 1},
        "citations": [
            {"n": 1, "article_id": "a", "title": "T1", "date": "2023-11-20", "lang": "en", "source": "a.txt",
             "text": text, "score": 0.8, "passage_id": "a:en:0", "highlights": [[0, 21]]},
            {"n": 2, "article_id": "a", "title": "T2", "date": None, "lang": "zh", "source": "a.txt",
             "text": text, "score": 0.7, "passage_id": "a:en:1", "highlights": [[22, 44]]},
        ],
    }


class FakeResult:
    def __init__(self, data):
        self.data = data

    def to_json(self, details=False):
        return self.data


class FakeEngine:
    def __init__(self, settings, fail=None):
        self.settings = settings
        self.fail = fail
        self.calls = []

    def validate_question(self, q):
        if not q.strip():
            raise QuestionError("the question is empty; type a question about the articles")
        return q.strip()

    def ask(self, q, top_k=None, history=None):
        self.calls.append((q, top_k, history))
        if self.fail:
            raise self.fail
        return FakeResult(result())

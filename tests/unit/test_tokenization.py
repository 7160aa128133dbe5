import math

import pytest

from rag.lang.tokenization import tokenize
from rag.store.bm25 import BM25Index


def test_english_is_lowercased_stemmed_and_stopworded():
    assert tokenize("Who ATTENDED the Meetings?") == ["attend", "meet"]


def test_chinese_gives_characters_and_bigrams():
    toks = tokenize("袁家军主持")
    assert {"袁", "家", "军", "主", "持"} <= set(toks)
    assert {"袁家", "家军", "军主", "主持"} <= set(toks)
    assert tokenize("袁家军主持", bigrams_only=True) == ["袁家", "家军", "军主", "主持"]


def test_mixed_text_and_numbers():
    toks = tokenize("川渝1000千伏 UHV project in 2023")
    assert "1000" in toks and "2023" in toks and "uhv" in toks and "千伏" in toks and "project" in toks


def test_a_chinese_query_matches_a_chinese_passage():
    # The default BM25 tokenizer turns a Chinese clause into one token, so nothing matches;
    # ours must give overlapping grams.
    q = set(tokenize("谁主持了会议"))
    p = set(tokenize("重庆市委书记袁家军主持会议并讲话"))
    assert {"主持", "会议"} <= q & p


CORPUS = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "cats and dogs meet",
    "袁家军主持会议",
    "王晓晖出席会议",
]


def reference_bm25(query, docs, k1=1.5, b=0.75):
    """Lucene BM25, written out from the formula, as the reference."""
    toks = [tokenize(d) for d in docs]
    n = len(toks)
    avgdl = sum(map(len, toks)) / n
    q = tokenize(query)
    scores = []
    for t in toks:
        s = 0.0
        for term in set(q):
            df = sum(term in d for d in toks)
            if df == 0:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            tf = t.count(term)
            # Lucene 8+ drops the constant (k1 + 1) from the numerator; bm25s follows it.
            s += idf * tf / (tf + k1 * (1 - b + b * len(t) / avgdl))
        scores.append(s)
    return scores


@pytest.mark.parametrize("query", ["cat mat", "dogs sat", "会议 主持", "袁家军", "nothing matches"])
def test_bm25_index_matches_reference_implementation(query, tmp_path):
    ids = [f"p{i}" for i in range(len(CORPUS))]
    index = BM25Index.build(ids, [tokenize(d) for d in CORPUS])
    index.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25")
    expected = reference_bm25(query, CORPUS)
    got = dict(loaded.search(tokenize(query), k=len(ids)))
    for pid, exp in zip(ids, expected):
        assert got.get(pid, 0.0) == pytest.approx(exp, rel=1e-4, abs=1e-6)
    ranked = [pid for pid, _ in loaded.search(tokenize(query), k=2)]
    assert ranked == [pid for pid, e in sorted(zip(ids, expected), key=lambda x: -x[1]) if e > 0][:2]


def test_bm25_search_can_be_restricted():
    ids = [f"p{i}" for i in range(len(CORPUS))]
    index = BM25Index.build(ids, [tokenize(d) for d in CORPUS])
    assert [pid for pid, _ in index.search(tokenize("会议"), k=5, allowed={"p4"})] == ["p4"]
    assert index.idf("zzz") is None and index.idf("会议") > 0

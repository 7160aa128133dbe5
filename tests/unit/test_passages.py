import pytest

from rag.ingest.chunking import chunk_document, count_tokens, split_sentences
from rag.ingest.loading import Document, read_article
from tests.support.corpus import ARTICLES, SEVENTH


def doc(text: str, lang: str = "en") -> Document:
    return Document("a", lang, "T", None, "a.txt", None, text)


def sentences(text: str) -> list[str]:
    return [text[s.start:s.end] for s in split_sentences(text)]


def test_english_sentences_respect_abbreviations_and_initials():
    text = ("Mr. Wang met the delegation of Fudi Co., Ltd. at 9 a.m. on Monday. It went well! "
            "Did J. Smith attend? Yes (i.e., he did).\nA new paragraph")
    assert sentences(text) == [
        "Mr. Wang met the delegation of Fudi Co., Ltd. at 9 a.m. on Monday.",
        "It went well!",
        "Did J. Smith attend?",
        "Yes (i.e., he did).",
        "A new paragraph",
    ]


def test_chinese_sentences_split_without_spaces():
    text = "重庆市委书记袁家军主持会议并讲话。四川省委书记王晓晖出席会议！会议听取了汇报？是的"
    assert sentences(text) == ["重庆市委书记袁家军主持会议并讲话。", "四川省委书记王晓晖出席会议！", "会议听取了汇报？", "是的"]


def test_chinese_quotes_stay_with_their_sentence():
    text = "他说：“要加快发展。”随后会议结束。"
    assert sentences(text) == ["他说：“要加快发展。”", "随后会议结束。"]


@pytest.mark.parametrize("size", [40, 100, 160, 250])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_chunks_keep_offsets_sentences_and_budget(size, lang):
    article = read_article(ARTICLES / f"{SEVENTH}.txt")
    d = next(x for x in article.documents if x.lang == lang)
    passages = chunk_document(d, size, overlap_sentences=1)
    assert passages
    covered = set()
    for p in passages:
        assert d.text[p.start:p.end] == p.text
        assert count_tokens(p.text) <= size + 8 * len(p.sentences)  # joins may add a token or two
        for s, e in p.sentences:
            assert 0 <= s < e <= len(p.text)
            covered.update(range(p.start + s, p.start + e))
    # every character of every sentence is in some passage's sentences (long ones cut in pieces)
    for sent in split_sentences(d.text):
        missing = [i for i in range(sent.start, sent.end) if i not in covered and not d.text[i].isspace()]
        assert not missing, d.text[sent.start:sent.end]


def test_overlap_repeats_the_last_sentence():
    text = " ".join(f"Sentence number {i} is here." for i in range(30))
    ps = chunk_document(doc(text), 30, overlap_sentences=1)
    for a, b in zip(ps, ps[1:]):
        last = a.text[a.sentences[-1][0]:a.sentences[-1][1]]
        assert b.text.startswith(last)
    no_overlap = chunk_document(doc(text), 30, overlap_sentences=0)
    assert sum(len(p.sentences) for p in no_overlap) == 30


def test_a_sentence_longer_than_the_budget_is_cut_at_clauses():
    text = "，".join(["成渝地区双城经济圈建设取得显著成效"] * 30) + "。"
    ps = chunk_document(doc(text, "zh"), 50, overlap_sentences=0)
    assert len(ps) > 3
    assert all(count_tokens(p.text) <= 60 for p in ps)
    assert "".join(p.text for p in ps) == text


def test_a_long_run_without_punctuation_is_cut_by_tokens():
    text = "x" * 3000
    ps = chunk_document(doc(text), 64, overlap_sentences=0)
    assert all(count_tokens(p.text) <= 64 for p in ps)
    assert "".join(p.text for p in ps) == text


def test_tiny_budget_is_refused():
    with pytest.raises(ValueError):
        chunk_document(doc("a"), 4)

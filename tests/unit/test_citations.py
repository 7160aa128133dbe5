from rag.answer.citations import CitationList, check, markers, renumber
from rag.types import Hit


def hit(pid: str, article="a") -> Hit:
    return Hit(pid, f"text of {pid}", {"article_id": article, "title": "T", "date": "2023-01-01", "lang": "en",
                                      "source": f"{article}.txt"}, score=0.5, dense=0.8)


def test_numbers_follow_first_use_and_repeat_for_the_same_passage():
    cites = CitationList()
    assert [cites.cite(hit("p2")), cites.cite(hit("p1")), cites.cite(hit("p2"), (0, 4))] == [1, 2, 1]
    items = cites.items()
    assert [c.passage_id for c in items] == ["p2", "p1"]
    assert items[0].highlights == [(0, 4)]


def test_check_finds_dangling_unused_and_out_of_order_markers():
    cites = CitationList()
    cites.cite(hit("p1"))
    cites.cite(hit("p2"))
    items = cites.items()
    assert check("A [1]. B [2].", items) == []
    assert "[3] has no citation" in check("A [1]. B [2]. C [3].", items)
    assert "citation 2 is not used" in check("A [1].", items)
    assert any("order" in p for p in check("A [2]. B [1].", items))


def test_renumber_orders_by_first_use_and_drops_unknown_markers():
    cites = CitationList()
    for p in ("p1", "p2", "p3"):
        cites.cite(hit(p))
    text, items = renumber("B [3]. A [1]. Ghost [9]. B again [3].", cites.items())
    assert text == "B [1]. A [2]. Ghost . B again [1]."
    assert [(c.n, c.passage_id) for c in items] == [(1, "p3"), (2, "p1")]
    assert check(text, items) == []
    assert markers(text) == [1, 2, 1]

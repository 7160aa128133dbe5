import pytest

from rag.retrieve.hybrid import Mode, fuse, rrf
from rag.store.chroma import cosine_from_chroma


def test_rrf_against_hand_computed_values():
    scores = rrf({"a": ["x", "y", "z"], "b": ["y", "w"]}, k=60)
    assert scores["x"] == pytest.approx(1 / 61)
    assert scores["y"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["z"] == pytest.approx(1 / 63)
    assert scores["w"] == pytest.approx(1 / 62)
    assert max(scores, key=scores.get) == "y"


def test_same_language_passages_come_first():
    # "en1" is first in both lists, but the question is Chinese: the Chinese passages,
    # found lower down, move ahead of it.
    scores = fuse(["en1", "zh1", "en2", "zh2"], ["en1", "en2", "zh2", "zh1"], same_language={"zh1", "zh2"})
    order = sorted(scores, key=scores.get, reverse=True)
    assert order[:2] == ["zh1", "zh2"] or order[:2] == ["zh2", "zh1"]
    assert order.index("en1") < order.index("en2")


def test_weights_scale_a_list():
    scores = rrf({"a": ["x"], "b": ["y"]}, k=60, weights={"b": 2.0})
    assert scores["y"] == pytest.approx(2 * scores["x"])


@pytest.mark.parametrize("mode", list(Mode))
def test_modes_parse(mode):
    assert Mode.parse(mode.value) is mode


def test_unknown_mode_lists_the_valid_ones():
    with pytest.raises(ValueError, match="vector, bm25, hybrid"):
        Mode.parse("sparse")


def test_cosine_from_chroma_similarity():
    import math
    assert cosine_from_chroma(math.exp(-0.25)) == pytest.approx(0.75)

import pytest

from rag.questions import Kind, analyse, anchors_in_text, proper_names


@pytest.mark.parametrize("text,kind", [
    ("Who attended the seventh meeting?", Kind.WHO),
    ("谁主持了第七次会议座谈会？", Kind.WHO),
    ("Where was the fifth session held?", Kind.WHERE),
    ("第七次会议在哪里举行？", Kind.WHERE),
    ("When did the delegation visit Chongqing?", Kind.WHEN),
    ("On which dates did the meetings take place?", Kind.WHEN),
    ("How many people attended?", Kind.QUANTITY),
    ("2023年上半年生产总值增长了多少？", Kind.QUANTITY),
    ("Which plans were reviewed?", Kind.LIST),
    ("会议书面审议了哪些事项？", Kind.LIST),
    ("Why did they meet?", Kind.WHY),
    ("What did Wang Xiaohui say?", Kind.OTHER),
])
def test_kind(text, kind):
    assert analyse(text).kind is kind


@pytest.mark.parametrize("text,anchors", [
    ("Who attended the seventh meeting?", {"ord:7"}),
    ("Who attended the 7th meeting?", {"ord:7"}),
    ("第七次会议在哪里举行？", {"ord:7"}),
    ("第十二次会议", {"ord:12"}),
    ("the twenty-first meeting in 2024", {"num:2024"}),
    ("first-hand information on the second half", set()),
    ("6月26日举行", {"num:6", "num:26"}),
    ("The 1,000 kV project", {"num:1000"}),
])
def test_anchors(text, anchors):
    assert anchors_in_text(text) == anchors


def test_anchor_description_names_the_thing():
    q = analyse("Who attended the eighth meeting?")
    assert q.anchor_text["ord:8"] == "the eighth meeting"


def test_proper_names_skip_sentence_starts_question_words_and_acronyms():
    assert proper_names("Who met Emmanuel Macron in Paris with the NDRC?") == ["Emmanuel", "Macron", "Paris"]


def test_follow_up_borrows_the_subject_of_the_previous_question():
    first = analyse("Who attended the seventh meeting?")
    follow = analyse("Where was it held?", previous=first)
    assert follow.anchors == {"ord:7"}
    assert "seventh" in follow.context
    independent = analyse("Where was the fifth session held?", previous=first)
    assert independent.anchors == {"ord:5"} and not independent.context


def test_chinese_follow_up():
    first = analyse("谁主持了第七次会议座谈会？")
    assert analyse("它在哪里举行？", previous=first).anchors == {"ord:7"}


def test_language():
    assert analyse("Who?").lang == "en"
    assert analyse("谁主持了会议？").lang == "zh"

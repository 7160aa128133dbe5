import pytest

from rag.answer.questions import analyse, proper_names
from rag.lang.anchors import anchors_in_text
from rag.types import Kind


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
    ("为什么两地要合作？", Kind.WHY),
    ("四川地区将五月艾称之为什么？", Kind.OTHER),  # "called what": 为 + 什么 ends the question
    ("How old is Huang Qiang?", Kind.QUANTITY),
    ("How high is the highest point in Warsaw?", Kind.QUANTITY),
    ("What did Wang Xiaohui say?", Kind.OTHER),
])
def test_kind(text, kind):
    assert analyse(text).kind is kind


@pytest.mark.parametrize("text,anchors", [
    ("Who attended the seventh meeting?", {"ord:7", "ord:7:meeting"}),
    ("Who attended the 7th meeting?", {"ord:7", "ord:7:meeting"}),
    ("第七次会议在哪里举行？", {"ord:7", "ord:7:meeting"}),
    ("第十二次会议", {"ord:12", "ord:12:meeting"}),
    ("the Sixth Chongqing Municipal Congress of the CPC", {"ord:6", "ord:6:congress"}),
    ("the seventh Party-Government Meeting on", {"ord:7", "ord:7:meeting"}),
    ("the seventh of them", {"ord:7"}),
    ("the twenty-first meeting in 2024", {"ord:21", "ord:21:meeting", "num:2024"}),  # ordinals of any size
    ("first-hand information on the second half", set()),
    ("6月26日举行", {"num:6", "num:26"}),
    ("The 1,000 kV project", {"num:1000"}),
])
def test_anchors(text, anchors):
    assert anchors_in_text(text) == anchors


def test_anchor_description_names_the_thing():
    q = analyse("Who attended the eighth meeting?")
    assert q.anchor_text["ord:8:meeting"] == "the eighth meeting"
    assert analyse("第八次会议在哪里举行？").anchor_text["ord:8:meeting"] == "第八次会议"


@pytest.mark.parametrize("question,article,matches", [
    ("Who attended the fifth session?", "the Fifth Session of the Joint Meeting was held", True),
    ("第五次会议在哪里举行？", "the Fifth Session of the Joint Meeting was held", True),
    ("第六次会议在哪里举行？", "follows the plans of the Sixth Chongqing Municipal Congress", False),
    ("Who spoke at the sixth congress?", "follows the plans of the Sixth Chongqing Municipal Congress", True),
    ("What happened at the seventh one?", "the seventh Party-Government Meeting", True),
])
def test_an_ordinal_counts_a_kind_of_event(question, article, matches):
    assert (analyse(question).anchors <= anchors_in_text(article)) is matches


def test_proper_names_skip_sentence_starts_question_words_and_acronyms():
    assert proper_names("Who met Emmanuel Macron in Paris with the NDRC?") == ["Emmanuel", "Macron", "Paris"]


def test_follow_up_borrows_the_subject_of_the_previous_question():
    first = analyse("Who attended the seventh meeting?")
    follow = analyse("Where was it held?", previous=first)
    assert follow.anchors == {"ord:7:meeting"}
    assert "seventh" in follow.context
    independent = analyse("Where was the fifth session held?", previous=first)
    assert independent.anchors == {"ord:5:meeting"} and not independent.context


def test_chinese_follow_up():
    first = analyse("谁主持了第七次会议座谈会？")
    assert analyse("它在哪里举行？", previous=first).anchors == {"ord:7:meeting"}


def test_language():
    assert analyse("Who?").lang == "en"
    assert analyse("谁主持了会议？").lang == "zh"

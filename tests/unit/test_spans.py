"""Short answers: candidate spans, list items, and the model's use (rag/answer/short_answer.py, span_candidates.py, who_lists.py)."""

import pytest

from rag.answer import short_answer
from rag.answer.questions import analyse
from rag.answer.span_candidates import candidate_spans
from rag.answer.who_lists import list_items
from rag.types import Answer, Citation, ShortAnswer, ShortItem


def texts(sentence, lang="en"):
    return [s.text for s in candidate_spans(sentence, lang)]


def test_dates_and_figures_come_out_exactly_as_written():
    got = texts("On June 29, 2022, the plan cost $1,200.5 million, up 45% from 2021.")
    for want in ("June 29, 2022", "$1,200.5 million", "45%", "2021"):
        assert want in got
    assert "June 29, 2022," not in got  # the clause's comma is not part of the date
    assert not any(t.startswith(("the ", "on ")) or t.endswith((" the", " of")) for t in got)


def test_spans_do_not_cross_a_sentence_stop_and_offsets_match():
    sentence = "Wang Xiaohui attended. Hu Henghua spoke."
    for s in candidate_spans(sentence, "en"):
        assert sentence[s.start:s.end] == s.text
        assert not ("Xiaohui" in s.text and "Henghua" in s.text and len(s.text) < 30)


def test_types_follow_the_text():
    by_text = {s.text: s.types for s in candidate_spans("Yuan Jiajun met 300 people in Bishan on June 26.", "en")}
    assert "name" in by_text["Yuan Jiajun"]
    assert "number" in by_text["300 people"]
    assert "date" in by_text["June 26"]


def test_chinese_spans_from_the_tagger():
    got = texts("2023年6月26日，四川省党政代表团来渝考察。", "zh")
    assert "2023年6月26日" in got
    assert "四川省党政代表团" in got


def lists(sentence, lang="en"):
    return {s.text: [sentence[a:b] for a, b in s.items] for s in candidate_spans(sentence, lang) if s.items}


@pytest.mark.parametrize("sentence, lang, whole, items", [
    ("Hu Henghua and Huang Qiang made reports on the economy.", "en", "Hu Henghua and Huang Qiang",
     ["Hu Henghua", "Huang Qiang"]),
    ("It was attended by Chen Min'er, Wang Xiaohui, Hu Henghua and Huang Qiang on June 29.", "en",
     "Chen Min'er, Wang Xiaohui, Hu Henghua and Huang Qiang", ["Chen Min'er", "Wang Xiaohui", "Hu Henghua", "Huang Qiang"]),
    ("Denmark, Iceland and Norway were settled.", "en", "Denmark, Iceland and Norway", ["Denmark", "Iceland", "Norway"]),
    ("黄强、胡衡华围绕成渝中部地区高质量发展作交流发言。", "zh", "黄强、胡衡华", ["黄强", "胡衡华"]),
    ("王晓晖提出要推动成渝中线高铁、渝西高铁等项目提速建设。", "zh", "成渝中线高铁、渝西高铁", ["成渝中线高铁", "渝西高铁"]),
    # "&" inside a name
    ("They visited Guangyang Island and Chang'an Auto Global R&D Center.", "en",
     "Guangyang Island and Chang'an Auto Global R&D Center", ["Guangyang Island", "Chang'an Auto Global R&D Center"]),
    # quoted terms are items whatever their words
    ("They should pursue “Integration” and “high quality” as two priorities.", "en",
     "Integration” and “high quality", ["Integration", "high quality"]),
    # names in apposition: the apposition is not an item
    ("He gave guidance to Meishan, an important node city in the area, and Yibin, a central city.", "en",
     "Meishan, an important node city in the area, and Yibin", ["Meishan", "Yibin"]),
    # the first name past its title, as well as the whole segment
    ("四川省领导施小琳、田庆盈、胡云参加会议。", "zh", "施小琳、田庆盈、胡云", ["施小琳", "田庆盈", "胡云"]),
    ("四川省领导施小琳、田庆盈、胡云参加会议。", "zh", "四川省领导施小琳、田庆盈、胡云", ["四川省领导施小琳", "田庆盈", "胡云"]),
    # a short bracket qualifies its item, it does not end the list
    ("代表团考察了弗迪锂电池有限公司、西部(重庆)科学城先进数据中心、秀湖生态区等地。", "zh",
     "弗迪锂电池有限公司、西部(重庆)科学城先进数据中心、秀湖生态区",
     ["弗迪锂电池有限公司", "西部(重庆)科学城先进数据中心", "秀湖生态区"]),
    ("The cities include Aachen (Germany), Liège (Belgium) and Maastricht.", "en",
     "Aachen (Germany), Liège (Belgium) and Maastricht", ["Aachen (Germany)", "Liège (Belgium)", "Maastricht"]),
])
def test_an_enumeration_is_one_candidate_with_its_items(sentence, lang, whole, items):
    got = lists(sentence, lang)
    assert got[whole] == items
    span = next(s for s in candidate_spans(sentence, lang) if s.text == whole)
    assert "list" in span.types and sentence[span.start:span.end] == whole


@pytest.mark.parametrize("sentence, lang", [
    ("In 2022, Chen Min'er met the delegation.", "en"),  # a date and a name are not a list
    ("1994年，他在北京工作。", "zh"),  # a Chinese comma ends a clause, not an item
    ("Wang Xiaohui attended. Hu Henghua spoke.", "en"),
    ("He said \"yes\" and left.", "en"),  # a quote inside an item ends the enumeration
    # a person and the title in apposition to the name are not two items, and an "and" inside
    # the title does not make a third
    ("Wu Hao, Secretary General of the National Development and Reform Commission, was invited.", "en"),
])
def test_no_enumeration_across_kinds_or_clauses(sentence, lang):
    assert lists(sentence, lang) == {}


def test_an_enumeration_gives_a_list_short_answer_with_each_items_offsets():
    passage = "Intro. Hu Henghua and Huang Qiang made reports."
    sentence = "Hu Henghua and Huang Qiang made reports."
    span = next(s for s in candidate_spans(sentence, "en") if s.items)
    got = short_answer.as_short(span, {"citation": 3, "start": passage.index(sentence)})
    assert got.kind == "list" and got.text == "Hu Henghua, Huang Qiang"
    assert [passage[i.start:i.end] for i in got.items] == ["Hu Henghua", "Huang Qiang"]
    assert {i.citation for i in got.items} == {3}


def test_the_people_a_sentence_names_are_one_candidate_past_their_titles():
    from rag.answer.who_lists import people_span

    en = ("Hu Henghua, Mayor of Chongqing Municipal People's Government, and Huang Qiang, Governor of "
          "the People's Government of Sichuan Province, made a report respectively.")
    span = people_span(en, "en")
    assert [en[a:b] for a, b in span.items] == ["Hu Henghua", "Huang Qiang"] and "list" in span.types
    zh = "四川省委副书记、省长黄强,重庆市委副书记、市长胡衡华围绕推动高质量发展作交流发言。"
    assert [zh[a:b] for a, b in people_span(zh, "zh").items] == ["黄强", "胡衡华"]
    assert people_span("Yuan Jiajun presided over the meeting.", "en") is None  # one person is no list


@pytest.mark.parametrize("question, explains", [
    ("Why did the delegation visit Chongqing?", True),
    ("How did Wang Xiaohui describe the vision?", True),
    ("What did Yuan Jiajun say about the economy?", True),
    ("为什么两地要合作？", True),
    ("医院更名为什么？", False),  # 为 + 什么 at the end: "renamed as what", a name answers
    ("How old was Chopin when he moved?", False),
    ("How many aspects are there?", False),
    ("When was the meeting held?", False),
    ("Who said the two sides should cooperate?", False),
    ("两地怎样推进合作？", True),
    ("袁家军提出要加快构建怎样的新格局？", False),  # 怎样的 + a noun: "what kind of", a phrase answers
    ("这是一座怎么样的城市？", False),
])
def test_explanatory_questions_get_no_short_answer(question, explains):
    assert short_answer.explanatory(analyse(question)) is explains


def _answer(passage: str, sentence: str, lang: str = "en") -> Answer:
    start = passage.index(sentence)
    cite = Citation(1, "p1", "a1", "t", None, lang, "s.txt", passage, 1.0)
    return Answer(text=sentence + " [1]", answered=True, citations=[cite],
                  sentences=[{"text": sentence, "citation": 1, "passage_id": "p1", "start": start,
                              "end": start + len(sentence), "p": 0.9}])


def test_list_items_are_the_people_of_the_asked_role():
    passage = ("Intro. Yuan Jiajun, Secretary of the CPC Chongqing Municipal Committee, presided over the meeting, "
               "and Wang Xiaohui, Secretary of the CPC Sichuan Provincial Committee, attended the meeting.")
    sentence = passage[len("Intro. "):]
    ans = _answer(passage, sentence)
    presided = list_items(analyse("Who presided over the meeting?"), ans)
    assert [i.text for i in presided] == ["Yuan Jiajun"]
    attended = list_items(analyse("Who attended the meeting?"), ans)
    assert [i.text for i in attended] == ["Yuan Jiajun", "Wang Xiaohui"]
    for item in attended:  # offsets are in the cited passage
        assert passage[item.start:item.end] == item.text


def test_chinese_list_items_follow_roles_and_list_marks():
    passage = "四川省领导施小琳、田庆盈，重庆市领导陈鸣波、罗蔺、郑向东出席。"
    got = list_items(analyse("哪些领导出席了会议？"), _answer(passage, passage, "zh"))
    assert [i.text for i in got] == ["施小琳", "田庆盈", "陈鸣波", "罗蔺", "郑向东"]


def test_the_shipped_model_picks_the_date_of_a_when_question():
    q = analyse("When was the fifth session held?")
    passage = "On June 29, the Fifth Session of the Joint Meeting was held in Chongqing."
    ans = _answer(passage, passage)
    model = short_answer.load()
    got = short_answer.short_answer(q, ans, model.spans, {"fifth": 3.0, "session": 2.0, "held": 1.0})
    assert got is not None and got.text == "June 29"
    assert passage[got.items[0].start:got.items[0].end] == "June 29"


def test_no_short_answer_when_abstained():
    ans = Answer(text="The articles do not say.", answered=False)
    assert short_answer.short_answer(analyse("When?"), ans, short_answer.load().spans, {}) is None


def test_the_expected_f1_of_one_answer_per_event_is_the_mean_of_the_events():
    first = ShortAnswer([ShortItem("Chongqing", 1, 0, 9)], 0.9, expected_f1=0.9)
    second = ShortAnswer([ShortItem("Bishan", 2, 0, 6)], 0.4, expected_f1=0.5)
    both = short_answer.per_event([first, second])
    assert both.text == "Chongqing, Bishan"
    assert both.confidence == 0.4 and both.expected == pytest.approx(0.7)
    assert short_answer.per_event([first, None]) is None


def test_a_question_about_two_events_gets_one_short_answer_per_event():
    fifth = "On June 29, the Fifth Session of the Joint Meeting was held in Chongqing."
    seventh = "On June 26, the seventh meeting was held in Bishan District."
    cites = [Citation(1, "p1", "art5", "t", None, "en", "s.txt", fifth, 1.0),
             Citation(2, "p2", "art7", "t", None, "en", "s.txt", seventh, 1.0)]
    ans = Answer(text=f"{fifth} [1] {seventh} [2]", answered=True, citations=cites,
                 sentences=[{"text": fifth, "citation": 1, "passage_id": "p1", "start": 0, "end": len(fifth), "p": 0.9},
                            {"text": seventh, "citation": 2, "passage_id": "p2", "start": 0, "end": len(seventh),
                             "p": 0.8}])
    q = analyse("On which dates were the fifth and the seventh meetings held?")
    weights = {"fifth": 3.0, "seventh": 3.0, "meeting": 1.0, "held": 1.0}
    spans = short_answer.load().spans
    got = short_answer.short_answer(q, ans, spans, weights, events=[{"art5"}, {"art7"}])
    assert got.kind == "list" and [(i.text, i.citation) for i in got.items] == [("June 29", 1), ("June 26", 2)]
    # Without the events, one answer: one of the dates.
    one = short_answer.short_answer(q, ans, spans, weights)
    assert one.kind != "list" and one.text in ("June 29", "June 26")


def _two_events(fifth: str, seventh: str) -> Answer:
    cites = [Citation(1, "p1", "art5", "t", None, "en", "s.txt", fifth, 1.0),
             Citation(2, "p2", "art7", "t", None, "en", "s.txt", seventh, 1.0)]
    return Answer(text=f"{fifth} [1] {seventh} [2]", answered=True, citations=cites,
                  sentences=[{"text": fifth, "citation": 1, "passage_id": "p1", "start": 0, "end": len(fifth), "p": 0.9},
                             {"text": seventh, "citation": 2, "passage_id": "p2", "start": 0, "end": len(seventh),
                              "p": 0.8}])


def test_what_two_events_share_is_a_span_both_hold_not_each_events_answer():
    fifth = "At the fifth meeting, Chen Min'er spoke first, and then Wang Xiaohui spoke on cooperation."
    seventh = "At the seventh meeting, Wang Xiaohui spoke first, and then Yuan Jiajun spoke on cooperation."
    ans = _two_events(fifth, seventh)
    q = analyse("Which Party secretary spoke at both the fifth and the seventh meetings?")
    assert q.intersect
    weights = {"parti": 2.0, "secretari": 2.0, "spoke": 1.0, "fifth": 3.0, "seventh": 3.0, "meet": 1.0}
    spans = short_answer.load().spans
    got = short_answer.short_answer(q, ans, spans, weights, events=[{"art5"}, {"art7"}])
    # Whatever the model ranks first, it is one text that both sentences hold, cited once.
    assert got is not None and got.kind == "span" and len(got.items) == 1
    assert got.text in fifth and got.text in seventh
    item = got.items[0]
    assert fifth[item.start:item.end] == got.text and item.citation == 1
    # Asked per event (no "both"), each event gets its own answer: the union of two.
    each = short_answer.short_answer(analyse("Which Party secretary spoke first at the fifth and the seventh meetings?"), ans, spans,
                                     weights, events=[{"art5"}, {"art7"}])
    # (each event's answer may be one item or a list of them, as the model ranks: the fifth's come
    # first, cited to the fifth, then the seventh's)
    cited = [i.citation for i in each.items] if each is not None else []
    assert cited == sorted(cited) and set(cited) == {1, 2}, each


def test_two_events_with_nothing_in_common_fall_back_to_the_best_span_overall():
    fifth = "June 29."
    seventh = "Bishan."
    pairs = [short_answer.spans_of(analyse("When?"), _two_events(fifth, seventh), {}, arts) for arts in ({"art5"}, {"art7"})]
    assert short_answer.in_common(pairs, short_answer.load().spans, 0.0) is None



@pytest.mark.parametrize("a, b, cjk", [
    ("fourth growth engine", "fourth growth engine in China", False),
    ("Chengdu-Chongqing Twin-Hub Mega-Region", "Twin-Hub", False),
    ("June 29, 2022", "2022", False),
    ("Wu Hao", "National Development and Reform Commission", False),
    ("第四增长极", "全国第四增长极", True),
    ("1994年", "1994年5月", True),
    ("iPhone手机", "iPhone", True),
])
def test_the_overlap_of_two_spans_is_squads_and_cmrcs_f1(a, b, cjk):
    from rag.eval.squad_metrics import token_f1  # the reference: the metric the choice optimises
    got = short_answer.overlap_f1(short_answer.overlap_tokens(a), short_answer.overlap_tokens(b))
    assert got == pytest.approx(token_f1(a, [b], cjk))


def test_the_expected_f1_choice_takes_what_hesitant_spans_share():
    texts = ["the fourth growth engine in China", "fourth growth engine", "three roles", "growth engine"]
    p = [0.30, 0.26, 0.28, 0.16]
    assert short_answer.choice(p, texts, None)[0] == 0  # no sharpness: the most probable
    assert texts[short_answer.choice(p, texts, 1.0)[0]] == "fourth growth engine"
    # A confident model keeps its first choice: a high sharpness leaves the top span's weight alone.
    assert short_answer.choice([0.9, 0.04, 0.03, 0.03], texts, 2.0)[0] == 0


def test_the_short_answer_is_the_span_the_choice_picks():
    q = analyse("When was the fifth session held?")
    passage = "On June 29, the Fifth Session of the Joint Meeting was held in Chongqing."
    model = short_answer.load()
    spans = short_answer.spans_of(q, _answer(passage, passage), {"fifth": 3.0, "session": 2.0, "held": 1.0})
    ranked = short_answer.rank(model.spans, [c for c, _ in spans])
    for sharpness in (None, 1.0, 2.0):
        got = short_answer.short_answer(q, _answer(passage, passage), model.spans,
                                        {"fifth": 3.0, "session": 2.0, "held": 1.0}, sharpness=sharpness)
        k, _ = short_answer.choice([c.p for c in ranked], [c.text for c in ranked], sharpness)
        assert got.text == ranked[k].text



@pytest.mark.parametrize("sharpness", [None, 1.5])
def test_the_models_sharpness_survives_its_file(sharpness):
    shipped = short_answer.load()
    again = short_answer.ShortModel.from_json(
        short_answer.ShortModel(shipped.spans, 0.05, {}, sharpness).to_json())
    assert again.sharpness == sharpness and again.min_probability == 0.05


def test_the_choice_reports_its_expected_f1_against_the_spans_distribution():
    texts = ["June 29", "June 29, 2022", "Chongqing"]
    p = [0.5, 0.3, 0.2]
    # "June 29" against each: 1, F1("June 29", "June 29, 2022") = 2·2/(2+3) = 0.8, 0.
    k, expected = short_answer.choice(p, texts, 1.0)
    assert k == 0 and expected == pytest.approx(0.5 + 0.3 * 0.8)
    k, expected = short_answer.choice(p, texts, None)  # the most probable, weighed with p itself
    assert k == 0 and expected == pytest.approx(0.74)
    assert short_answer.choice([0.01], ["alone"], 1.5) == (0, 1.0)


@pytest.mark.parametrize("confidence, expected_f1, ratio, held", [
    (0.9, 0.8, 1.0, False),   # 0.72 against 0.1
    (0.4, 0.8, 1.0, True),    # 0.32 against 0.6
    (0.4, 0.8, 0.5, False),   # 0.32 against 0.3: a lower ratio withholds less
    (0.6, 0.5, 1.0, True),    # 0.30 against 0.40: a hesitant span on fair evidence
    (0.6, 0.5, 0.5, False),   # 0.30 against 0.20
    (0.2, 1.0, None, False),  # no ratio: never withheld
    (None, 0.1, 1.0, False),  # no confidence (a cross-lingual answer): nothing to weigh
])
def test_a_short_answer_is_withheld_when_stating_none_is_expected_to_score_more(confidence, expected_f1, ratio,
                                                                                held):
    short = ShortAnswer([ShortItem("x", 1, 0, 1)], 0.3, expected_f1=expected_f1)
    assert short_answer.withheld(short, confidence, ratio) is held
    # A list of names has no span distribution: its own confidence (1.0) stands for its expected F1.
    names = ShortAnswer([ShortItem("A", 1, 0, 1), ShortItem("B", 1, 2, 3)], 1.0, "list")
    assert short_answer.withheld(names, 0.3, 1.0) and not short_answer.withheld(names, 0.6, 1.0)


def test_the_models_withhold_ratio_survives_its_file():
    shipped = short_answer.load()
    for ratio in (None, 0.75):
        again = short_answer.ShortModel.from_json(
            short_answer.ShortModel(shipped.spans, 0.0, {}, 1.5, ratio).to_json())
        assert again.withhold_ratio == ratio and again.sharpness == 1.5


def _features(question, sentence, lang, weights):
    from rag.answer.span_features import span_features

    spans = candidate_spans(sentence, lang)
    span_features(analyse(question), sentence, spans, weights, lang=lang)
    return {s.text: s.features for s in spans}


@pytest.mark.parametrize("question, lang, before, after", [
    ("Who founded the Acme Company?", "en", [], ["found", "acm", "compani"]),
    ("In 1990, what did Smith found?", "en", ["1990"], ["smith", "found"]),
    ("明爱中学位于哪个国家？", "zh", ["明爱", "中学", "位于"], ["国家"]),
])
def test_the_question_words_on_either_side_of_its_question_word(question, lang, before, after):
    from rag.answer.span_features import _norm_tokens, question_sides

    got_before, got_after = question_sides(analyse(question), _norm_tokens(question), lang)
    # In the question's order, each word's tokens (stemmed; Chinese by bigrams within the word).
    assert [min(t) for t in got_before] == before and [min(t) for t in got_after] == after


def test_a_span_in_the_place_of_the_question_word_is_told_apart():
    question = "Who founded the Acme Company?"
    weights = dict.fromkeys(["found", "acm", "compani"], 1.0)
    by_text = _features(question, "John Smith founded the Acme Company in 1990.", "en", weights)
    subject, year = by_text["John Smith"], by_text["1990"]
    # "founded", the word after "Who", comes right after the subject (the place of "Who"), five words before the year.
    assert subject["next_after_wh"] == 1.0 and subject["after_wh_right"] == 1.0
    assert subject["left_after_wh"] == 0.0 and subject["right_after_wh"] > 0.0
    assert year["next_after_wh"] == 0.0 and year["after_wh_left"] == 1 / 5 and year["left_after_wh"] > 0.0


def test_the_noun_a_what_question_asks_for_marks_the_span_next_to_it():
    by_text = _features("What river flows through Cologne?", "The Rhine river flows through Cologne.", "en",
                        {"river": 2.0, "flow": 1.0, "cologn": 3.0})
    assert by_text["Rhine"]["asked_next"] == 1.0
    assert by_text["Rhine river"]["asked_last"] == 1.0
    assert by_text["Cologne"]["asked_next"] == 0.0 and by_text["Cologne"]["asked_last"] == 0.0


def test_the_asked_noun_skips_the_names_and_figures_before_it():
    # "Which Sichuan Party secretary" asks for a secretary, not for Sichuan.
    by_text = _features("Which Sichuan Party secretary spoke at both meetings?",
                        "Party secretary Wang Xiaohui spoke in Sichuan.", "en", {"secretari": 2.0, "spoke": 1.0})
    assert by_text["Wang Xiaohui"]["asked_prev"] == 1.0
    assert by_text["Sichuan"]["asked_prev"] == 0.0 and by_text["Sichuan"]["asked_in"] == 0.0
    none = _features("What did Wang Xiaohui say?", "Wang Xiaohui said the plan works.", "en", {"said": 1.0})
    assert all(f.get("asked_prev", 0.0) == 0.0 and f.get("asked_in", 0.0) == 0.0 for f in none.values())


def test_a_chinese_span_in_the_place_of_the_question_word():
    weights = {"明爱": 2.0, "中学": 1.0, "位于": 1.0}
    by_text = _features("明爱中学位于哪个国家？", "明爱中学位于新加坡宝塔街。", "zh", weights)
    assert by_text["新加坡"]["prev_before_wh"] == 1.0 and by_text["新加坡"]["before_wh_left"] == 1.0
    assert by_text["明爱"]["before_wh_left"] == 0.0


@pytest.mark.parametrize("span, named", [
    ("National Development and Reform Commission", True),
    ("Reform Commission", True),  # a part of the name is named too
    ("Wu Hao", False),
    ("Commission", False),  # one initial is no evidence
    ("Secretary General of the National Development", False),
])
def test_a_name_the_question_gives_by_its_initials(span, named):
    from rag.answer.span_features import named_by_initials

    assert named_by_initials(span, {"NDRC"}) is named


def test_a_name_given_by_its_initials_counts_as_a_word_of_the_question():
    question = "Which NDRC official joined as an invited guest?"
    sentence = "Wu Hao, Secretary General of the National Development and Reform Commission, was invited."
    by_text = _features(question, sentence, "en", {"ndrc": 3.0, "offici": 1.0, "join": 1.0, "invit": 1.0})
    assert by_text["National Development and Reform Commission"]["in_q"] == 1.0
    assert by_text["Wu Hao"]["in_q"] == 0.0


@pytest.mark.parametrize("question, sentence, lang, want", [
    ("第七次会议座谈会是什么时候举行的？", "6月26日，两省市在重庆市璧山区举行第七次会议座谈会。", "zh", "date"),
    ("When did the Normans conquer England?", "The Normans conquered England in 1066.", "en", "number"),
])
def test_a_when_question_keeps_the_spans_that_state_a_time(question, sentence, lang, want):
    q = analyse(question)
    pairs = [(c, {}) for c in candidate_spans(sentence, lang)]
    kept = short_answer.states_time(q, pairs)
    assert kept and len(kept) < len(pairs) and all(want in c.types for c, _ in kept)
    # The clause that names the seventh meeting holds a figure ("第七次"), not a date: it is no time.
    assert not any(c.text.startswith("两省市") for c, _ in kept)
    assert [c.text for c, _ in short_answer.spans_of(q, _answer(sentence, sentence, lang), {})] == [
        c.text for c, _ in kept]
    assert short_answer.states_time(analyse("Where was the meeting held?"), pairs) == pairs

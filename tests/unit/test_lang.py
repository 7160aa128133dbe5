"""The language packs: one script detector, and one interface per language."""

import dataclasses

import pytest

import rag.lang as language
from rag.lang import en, zh
from rag.lang.anchors import anchors_in_text


@pytest.mark.parametrize("text,lang", [
    ("Who attended the meeting?", "en"), ("谁出席了会议？", "zh"), ("袁家军 met Hervé Martin in 重庆", "zh"),
    ("The Chongqing (重庆) municipal government met on Monday", "en"), ("2024", "en"), ("", "en"),
])
def test_detect(text, lang):
    assert language.detect(text) == lang
    assert language.pack_of(text).code == lang


def test_cjk_near():
    assert language.cjk_near("会议!开始", 2)
    assert not language.cjk_near("Stop! Now", 4)
    assert language.has_cjk("a 一 b") and not language.has_cjk("abc")


@pytest.mark.parametrize("numeral,value", [
    ("四十", 40), ("二十一", 21), ("二〇二三", 2023), ("一百零二", 102), ("三万五千", 35000), ("十", 10),
    ("两千", 2000), ("12", 12), ("零", 0), ("一两", 2), ("abc", None), ("", None),
])
def test_chinese_numerals(numeral, value):
    assert zh.parse_numeral(numeral) == value


@pytest.mark.parametrize("ordinal,value", [
    ("seventh", 7), ("twenty-first", 21), ("one hundred and second", 102), ("fortieth", 40), ("40", 40), ("green", None),
])
def test_english_ordinals(ordinal, value):
    assert en.parse_ordinal(ordinal) == value


def test_ordinals_of_both_languages_are_anchors():
    assert {"ord:40", "ord:40:meeting"} <= anchors_in_text("第四十次会议")
    assert "ord:21" in anchors_in_text("第二十一届")
    assert "ord:21:meeting" in anchors_in_text("the twenty-first meeting")


def test_months():
    assert en.find_months("On 5 March and in May") == {3, 5}
    assert zh.find_months("6月26日至12月") == {6, 12}
    assert len(en.MONTHS) == len(zh.MONTHS) == 12


def test_every_pack_has_the_same_interface():
    kinds = {"quantity", "who", "when", "where", "why", "list"}
    for code in language.LANGS:
        pack = language.pack(code)
        assert pack.code == code and dataclasses.is_dataclass(pack)
        assert set(pack.question_kinds) == kinds
        assert pack.stop_words and pack.sentence_end and pack.length("一二三 word") > 0

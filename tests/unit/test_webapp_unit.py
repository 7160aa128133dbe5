"""The app's rendering and helpers without a server or a model: escaping, citation links,
streaming, uploads and feedback."""

from __future__ import annotations

import json
import re

import gradio as gr
import pytest

from rag.app import feedback
from rag.app.web import render as webapp
from rag.app.web.controller import ChatApp
from rag.app.web.render import answer_chunks, answer_html, chat_messages, highlight_html, link_markers, question_html
from rag.app.web.server import parse_auth
from rag.errors import ArticleError, IndexMissingError, RagError
from rag.ingest import uploads
from tests.support.fake_engine import FakeEngine, result

EVIL = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'


def test_article_and_user_text_is_escaped_everywhere():
    r = result(answer=f"He wrote {EVIL}. [1]", text=f"He wrote {EVIL}.")
    r["citations"][0]["title"] = EVIL
    r["citations"][0]["source"] = EVIL
    r["citations"] = r["citations"][:1]
    out = answer_html(r, "m1", show_scores=True) + question_html(EVIL)
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in out
    assert "onerror=&quot;window.__xss=1&quot;" in out


def test_highlights_mark_the_cited_sentences():
    html = highlight_html("ab <cd> ef\n\ngh", [[3, 7], [5, 9], [100, 200]])
    assert html == 'ab <mark>&lt;cd&gt; e</mark>f<span class="rag-p"></span>gh'


def test_markers_link_to_their_passage_only_when_cited():
    out = link_markers("x [1] y [7]", {1: "m1-c1"})
    assert out == 'x <a class="rag-marker" href="#m1-c1" title="passage 1">[1]</a> y [7]'
    html = answer_html(result(), "m9")
    assert 'href="#m9-c1"' in html and 'id="m9-c1"' in html and 'id="m9-c2"' in html


def test_abstention_has_a_badge_and_closest_passages():
    r = result(answer="The articles do not mention the eighth meeting. The closest passages are [1] [2].",
               answered=False)
    html = answer_html(r, "m2")
    assert "No answer in the articles" in html and "Closest passages (2)" in html and "rag-abstained" in html
    assert "No answer" not in answer_html(result(), "m3")


def test_scores_only_when_asked():
    assert "score 0.800" in answer_html(result(), "m4", show_scores=True)
    assert "score" not in answer_html(result(), "m4", show_scores=False)


def test_answer_streams_in_sentence_chunks():
    assert answer_chunks("A b. [1] C d [2] [3] E. [3]") == ["A b. [1]", "C d [2] [3]", "E. [3]"]
    assert answer_chunks("甲。 [1]乙。 [2]") == ["甲。 [1]", "乙。 [2]"]
    assert len(answer_chunks("The closest passages are [1] [2] [3].")) == 1
    partial = answer_html(result(), "m5", upto=1)
    assert "Yuan Jiajun presided." in partial and "Wang Xiaohui attended" not in partial
    assert "rag-sources" not in partial


@pytest.fixture
def settings(tmp_path):
    from rag.config import Settings

    return Settings(index_dir=tmp_path / "index")


def test_chat_streams_and_passes_the_earlier_questions(settings):
    engine = FakeEngine(settings)
    app = ChatApp(engine, settings, stream_delay=0)
    steps = list(app.chat("Who attended the seventh meeting?", [], 4, False))
    assert len(steps) >= 3  # pending, partial, final
    assert "Searching" in steps[0][0][1]["content"]
    messages, turns, box = steps[-1]
    assert box == "" and "rag-sources" in messages[1]["content"]
    steps = list(app.chat("Where was it held?", turns, 4, False))
    assert engine.calls[-1] == ("Where was it held?", 4, ["Who attended the seventh meeting?"])
    assert len(steps[-1][1]) == 2


class KnobEngine(FakeEngine):
    """Records the answer settings that the chat hands over with a question."""

    def ask(self, q, top_k=None, history=None, **knobs):
        self.knobs = knobs
        return super().ask(q, top_k, history)


@pytest.mark.parametrize("min_conf, withhold, handed", [
    (None, None, {}),  # nothing set: the server's settings
    (-1, -1, {}),  # negative: the server's too (the API's way to say "default")
    (0.2, 0, {"min_confidence": 0.2, "short_withhold": 0.0}),  # 0: never withhold a phrase
    ("0.5", 2.5, {"min_confidence": 0.5, "short_withhold": 2.5}),
])
def test_chat_hands_its_answer_settings_to_the_engine(settings, min_conf, withhold, handed):
    engine = KnobEngine(settings)
    list(ChatApp(engine, settings, stream_delay=0).chat("Who?", [], 5, False, min_conf, withhold))
    assert engine.knobs == handed


@pytest.mark.parametrize("min_conf, withhold, message", [
    (1.5, None, "min_confidence must be a number from 0 to 1, not 1.5"),
    (None, "lots", "the withhold factor must be a number from 0 to 100, not 'lots'"),
    (None, 10**5000, "the withhold factor must be a number from 0 to 100, not a number that large"),
    (None, float("nan"), "the withhold factor must be a number from 0 to 100, not nan"),
], ids=["confidence above 1", "not a number", "thousands of digits", "nan"])
def test_bad_answer_settings_are_a_usage_message(settings, min_conf, withhold, message):
    engine = KnobEngine(settings)
    with pytest.raises(gr.Error, match=re.escape(message)):
        list(ChatApp(engine, settings, stream_delay=0).chat("Who?", [], 5, False, min_conf, withhold))
    assert not engine.calls


@pytest.mark.parametrize("min_conf, withhold, expected", [
    (-1, None, (None, None)),  # the form's and /evaluate's way to say "the server's"
    (-1, -1, (None, None)),
    (0.3, 0, (0.3, 0.0)),  # 0: never withhold a phrase
    ("0.5", "2.5", (0.5, 2.5)),
])
def test_an_evaluation_run_takes_both_answer_settings(min_conf, withhold, expected):
    from rag.app.web.eval_sets import run_options

    o = run_options("hybrid", 5, min_conf, True, False, 5, withhold)
    assert (o.min_confidence, o.short_withhold) == expected


@pytest.mark.parametrize("min_conf, withhold, message", [
    (3, None, "min_confidence must be a number from 0 to 1, not 3"),
    (-1, 101, "the withhold factor must be a number from 0 to 100, not 101"),
    (-1, "x" * 500, "the withhold factor must be a number from 0 to 100, not 'xxxx"),
])
def test_an_evaluation_refuses_bad_answer_settings(min_conf, withhold, message):
    from rag.app.web.eval_sets import run_options

    with pytest.raises(RagError, match=re.escape(message)) as err:
        run_options("hybrid", 5, min_conf, True, False, 5, withhold)
    assert len(str(err.value)) < 120  # a client's long value is quoted cut short


def test_an_evaluation_job_answers_and_records_with_its_withhold_factor(settings):
    from rag.eval.jobs import EvalOptions, Job, RunEngine

    class Recorder(KnobEngine):
        def short_withhold(self, model=None, given=None):
            return ("given", given)

    engine = Recorder(settings)
    run = RunEngine(engine, Job("j", "set", 0), [], EvalOptions(short_withhold=0.0))
    run.ask("Who?")
    assert engine.knobs["short_withhold"] == 0.0
    assert run.short_withhold() == ("given", 0.0)  # what the run's record says it answered with
    assert RunEngine(engine, Job("j", "set", 0), [], EvalOptions()).short_withhold() == ("given", None)


def test_chat_reports_errors_to_the_user(settings):
    app = ChatApp(FakeEngine(settings), settings, stream_delay=0)
    with pytest.raises(gr.Error, match="empty"):
        list(app.chat("   ", [], 5, False))
    app = ChatApp(FakeEngine(settings, IndexMissingError("no articles are indexed")), settings, stream_delay=0)
    messages, turns, _ = list(app.chat("hi?", [], 5, False))[-1]
    assert "no articles are indexed" in messages[1]["content"] and turns[0]["error"]
    # a failed turn is not a follow-up's context
    engine = FakeEngine(settings)
    list(ChatApp(engine, settings, stream_delay=0).chat("next?", turns, 5, False))
    assert engine.calls[-1][2] == []


def test_rerender_follows_the_scores_setting(settings):
    app = ChatApp(FakeEngine(settings), settings, stream_delay=0)
    _, turns, _ = list(app.chat("q?", [], 5, False))[-1]
    assert "score 0.800" in chat_messages(turns, True)[1]["content"]


def test_vote_is_appended_to_feedback_jsonl(settings):
    app = ChatApp(FakeEngine(settings), settings, stream_delay=0)
    _, turns, _ = list(app.chat("q?", [], 5, False))[-1]
    app.like(turns, gr.LikeData(None, {"index": 1, "value": "x", "liked": False}))
    app.like(turns, gr.LikeData(None, {"index": 1, "value": "x", "liked": True}))
    entries = feedback.read(settings.index_dir)
    assert [e["vote"] for e in entries] == ["down", "up"]
    assert entries[0]["question"] == "Who attended?" and entries[0]["citations"][0]["passage_id"] == "a:en:0"
    line = (settings.index_dir / "feedback.jsonl").read_text("utf-8").splitlines()[0]
    assert json.loads(line)["top_k"] == 5


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\evil.md", "evil.md"),
    ("会议 报道 (1).HTML", "会议-报道-1.html"),
    (".hidden.txt", "hidden.txt"),
])
def test_upload_names_stay_inside_the_uploads_folder(name, expected):
    assert uploads.safe_name(name) == expected


def test_rejected_uploads_write_nothing(tmp_path):
    index = tmp_path / "index"
    cases = {"a.pdf": b"%PDF", "b.txt": b"", "c.txt": b"\x00\x01binary" * 10, "d.html": b"<html></html>"}
    for name, data in cases.items():
        src = tmp_path / name
        src.write_bytes(data)
        with pytest.raises(ArticleError):
            uploads.accept(src, name, index, 1000)
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000)
    with pytest.raises(ArticleError, match="limit"):
        uploads.accept(big, "big.txt", index, 1000)
    assert not uploads.uploads_dir(index).exists() or not any(uploads.uploads_dir(index).iterdir())


def test_accepted_upload_can_be_undone(tmp_path):
    index = tmp_path / "index"
    src = tmp_path / "x.txt"
    src.write_text("A Title\n\nThe Glimmerbrook Water Summit was held in Lanternfield.\n")
    acc = uploads.accept(src, "x.txt", index, 10_000)
    assert acc.created and acc.path == index / "uploads" / "x.txt" and acc.path.read_bytes() == src.read_bytes()
    uploads.undo(acc)
    assert not acc.path.exists()
    acc = uploads.accept(src, "x.txt", index, 10_000)
    src2 = tmp_path / "x2.txt"
    src2.write_text("A Title\n\nAn updated text about the summit.\n")
    acc2 = uploads.accept(src2, "x.txt", index, 10_000)
    # issue 11, case 10: another article of the same name is stored beside it, never over it
    assert acc2.created and acc2.renamed and acc2.path.name == "x-2.txt"
    uploads.undo(acc2)
    assert not acc2.path.exists() and acc.path.read_bytes() == src.read_bytes()
    again = uploads.accept(src, "x.txt", index, 10_000)
    assert not again.created and again.path == acc.path  # the same bytes: nothing to do


def test_auth_parsing():
    assert parse_auth("alice:pa:ss") == ("alice", "pa:ss")
    assert parse_auth(None) is None
    for bad in ["alice", ":pw", "alice:"]:
        with pytest.raises(ValueError):
            parse_auth(bad)


def test_short_answer_is_bold_first_escaped_and_marked_in_its_passage():
    result = {"answered": True, "answer": "On June 29, it met. [1]", "confidence": 0.9,
              "short_answer": {"text": "<b>June 29</b>", "kind": "span", "confidence": 0.8,
                               "items": [{"text": "<b>June 29</b>", "citation": 1, "start": 3, "end": 10}]},
              "citations": [{"n": 1, "title": "T", "lang": "en", "text": "On June 29, it met.",
                             "highlights": [[0, 19]]}]}
    out = webapp.answer_html(result, "m1")
    assert out.index("rag-short-answer") < out.index("rag-answer-text")
    assert "<strong>&lt;b&gt;June 29&lt;/b&gt;</strong>" in out
    assert 'href="#m1-c1"' in out.split("rag-answer-text")[0]
    assert '<mark class="rag-short">June 29</mark>' in out
    assert out.count("<mark>") >= 2  # the rest of the cited sentence stays highlighted


def test_no_short_answer_block_for_an_abstention():
    result = {"answered": False, "answer": "The articles do not say.", "short_answer": None, "citations": []}
    assert "rag-short-answer" not in webapp.answer_html(result, "m1")


def test_history_entry_carries_the_short_answer_for_follow_ups():
    turn = {"question": "Where was the fifth meeting held?", "result": {"short_answer": {"text": "Chongqing"}}}
    assert webapp.history_entry(turn) == "Where was the fifth meeting held? Chongqing"
    assert webapp.history_entry({"question": "q", "result": {"short_answer": None}}) == "q"
    people = {"question": "Who attended?", "result": {"short_answer": {"text": "A, B, C", "kind": "list"}}}
    assert webapp.history_entry(people) == "Who attended?"


def test_a_withheld_short_answer_is_said_so_above_the_sentences():
    result = {"answered": True, "answer": "It met in <Chongqing>. [1]", "confidence": 0.55, "short_answer": None,
              "short_answer_withheld": True,
              "citations": [{"n": 1, "title": "T", "lang": "en", "text": "It met in <Chongqing>.", "highlights": []}]}
    out = webapp.answer_html(result, "m1")
    assert "rag-short-withheld" in out and "rag-short-answer" not in out
    assert out.index("rag-short-withheld") < out.index("rag-answer-text")
    assert "&lt;Chongqing&gt;" in out and "<Chongqing>" not in out
    assert "No short answer" in out
    assert "不给出简短答案" in webapp.answer_html({**result, "question": "胡衡华毕业于哪所大学？"}, "m1")
    assert "rag-short-withheld" not in webapp.answer_html({**result, "short_answer_withheld": False}, "m1")
    assert "rag-short-withheld" not in webapp.answer_html({**result, "answered": False}, "m1")

"""rag.eval.datasets: every question-set format from a tiny file written here, the errors users see
(with line numbers), sampling, the articles a public set brings, and `rag eval` refusing a bad
file before it builds or runs anything (no model is loaded in this module)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.app.cli import main
from rag.eval.corpus import corpus_folder, write_articles
from rag.eval.datasets import load_dataset, load_questions, sample
from rag.eval.gate import load_thresholds
from rag.eval.runner import DEFAULT_QUESTIONS
from rag.eval.types import EvalError


def write(path: Path, content) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False), "utf-8")
    return path


def squad(version: str = "v2.0") -> dict:
    impossible = version == "v2.0"
    qas = [{"id": "a1", "question": "Where is Normandy?",
            "answers": [{"text": "France", "answer_start": 0}, {"text": "France", "answer_start": 5},
                        {"text": "in France", "answer_start": 3}]}]
    if impossible:
        qas[0]["is_impossible"] = False
        qas.append({"id": "a2", "question": "Who founded Paris?", "answers": [],
                    "plausible_answers": [{"text": "Rollo", "answer_start": 0}], "is_impossible": True})
    return {"version": version, "data": [
        {"title": "Normans", "paragraphs": [
            {"context": "Normandy is in France.", "qas": qas},
            {"context": "Rollo led the Norse.", "qas": [{"id": "a3", "question": "Who led the Norse?",
                                                          "answers": [{"text": "Rollo", "answer_start": 0}]}]}]},
        {"title": "Steam_engine", "paragraphs": [
            {"context": "Newcomen built one in 1712.", "qas": [
                {"id": "b1", "question": "When was it built?", "answers": [{"text": "1712", "answer_start": 22}]}]}]},
    ]}


CMRC = [
    {"context_id": "TRIAL_1", "title": "红楼梦", "context_text": "《红楼梦》的作者是曹雪芹。",
     "qas": [{"query_id": "T1_Q1", "query_text": "红楼梦的作者是谁？", "answers": ["曹雪芹", "曹雪芹"]}]},
    {"context_id": "TRIAL_2", "title": "红楼梦", "context_text": "它成书于十八世纪。",
     "qas": [{"query_id": "T1_Q2", "query_text": "红楼梦成书于何时？", "answers": ["十八世纪"]}]},
    {"context_id": "TRIAL_3", "title": "长江", "context_text": "长江全长6300公里。",
     "qas": [{"query_id": "T2_Q1", "query_text": "长江有多长？", "answers": ["6300公里"]}]},
]


def test_squad_v2_articles_questions_and_unanswerable(tmp_path):
    ds = load_dataset(write(tmp_path / "dev.json", squad("v2.0")))
    assert ds.format == "squad" and ds.name == "dev"
    assert [(aid, title) for aid, title, _ in ds.articles] == [("normans", "Normans"), ("steam_engine", "Steam engine")]
    assert ds.articles[0][2] == "Normandy is in France.\n\nRollo led the Norse."  # paragraphs joined
    q = {x.id: x for x in ds.questions}
    assert list(q) == ["a1", "a2", "a3", "b1"]
    assert q["a1"].answerable and q["a1"].gold_short == ("France", "in France")  # duplicates dropped
    assert q["a1"].gold_facts == (("France", "in France"),) and q["a1"].gold_articles == ("normans",)
    assert q["a1"].language == "en" and q["a1"].category == "answerable"
    # is_impossible wins; plausible answers are not gold
    assert not q["a2"].answerable and q["a2"].gold_facts == () and q["a2"].category == "unanswerable"


def test_squad_v11_without_is_impossible_all_answerable(tmp_path):
    ds = load_dataset(write(tmp_path / "v11.json", squad("v1.1")))
    assert [q.id for q in ds.questions] == ["a1", "a3", "b1"]
    assert all(q.answerable for q in ds.questions)


def test_squad_written_on_one_line_is_not_taken_for_jsonl(tmp_path):
    # json.dumps writes the whole document on one line, as the public files are.
    ds = load_dataset(write(tmp_path / "one_line.json", squad()))
    assert ds.format == "squad" and len(ds.questions) == 4


def test_cmrc_list_layout_and_titles_shared_by_paragraphs(tmp_path):
    ds = load_dataset(write(tmp_path / "trial.json", CMRC))
    assert ds.format == "cmrc"
    assert [(aid, text) for aid, _, text in ds.articles] == [
        ("红楼梦", "《红楼梦》的作者是曹雪芹。\n\n它成书于十八世纪。"), ("长江", "长江全长6300公里。")]
    q = ds.questions[0]
    assert (q.id, q.language, q.answerable, q.gold_short, q.gold_articles) == (
        "T1_Q1", "zh", True, ("曹雪芹",), ("红楼梦",))


def test_cmrc_data_layout(tmp_path):
    ds = load_dataset(write(tmp_path / "dev.json", {"version": "v1.0", "data": CMRC}))
    assert ds.format == "cmrc" and [q.id for q in ds.questions] == ["T1_Q1", "T1_Q2", "T2_Q1"]


def test_csv_answers_separated_by_bar_and_language_detected(tmp_path):
    path = write(tmp_path / "qa.csv", "question,answers,answerable\n"
                                      "Who led the Norse?,Rollo|Hrólfr,\n"
                                      "长江有多长？,6300公里,true\n"
                                      "Who founded Paris?,,false\n")
    ds = load_dataset(path)
    assert ds.format == "qa" and ds.articles is None
    a, b, c = ds.questions
    assert (a.id, a.gold_facts, a.language, a.answerable) == ("q0001", (("Rollo", "Hrólfr"),), "en", True)
    assert (b.language, b.gold_short) == ("zh", ("6300公里",))
    assert (c.answerable, c.category, c.gold_facts) == (False, "unanswerable", ())


def test_jsonl_with_answers_list(tmp_path):
    path = write(tmp_path / "qa.jsonl", "\n".join(json.dumps(d, ensure_ascii=False) for d in [
        {"id": "x1", "question": "Who led the Norse?", "answers": ["Rollo", "Hrólfr"], "category": "who"},
        {"id": "x2", "question": "谁写了红楼梦？", "answer": "曹雪芹", "language": "zh"},
        {"id": "x3", "question": "Who founded Paris?", "answers": []},
    ]) + "\n")
    ds = load_dataset(path)
    x1, x2, x3 = ds.questions
    assert x1.gold_facts == (("Rollo", "Hrólfr"),) and x1.category == "who" and x1.language == "en"
    assert x2.gold_short == ("曹雪芹",) and x2.language == "zh"
    assert not x3.answerable


def test_our_own_set_still_loads_with_its_fields():
    qs = load_questions(DEFAULT_QUESTIONS)
    assert len(qs) == 135 and sum(q.answerable for q in qs) == 101
    assert all(q.gold_passages for q in qs if q.answerable)


@pytest.mark.parametrize("name,content,where", [
    ("bad.jsonl", '{"question": "a?", "answer": "b"}\n\n{"question": "c?", "answer": \n', ":3: not valid JSON"),
    ("bad2.jsonl", '{"question": "a?", "answer": "b"}\n["not", "an", "object"]\n', ":2: each line must be one JSON object"),
    ("bad3.jsonl", '{"question": "a?", "answer": "b"}\n{"question": "", "answer": "b"}\n', ":2: no question"),
    ("bad.csv", "question,answer,answerable\nWho?,Rollo,true\nWhen?,,true\n", ":3: answerable but no answer"),
    ("bad2.csv", "question,answer,answerable\nWho?,Rollo,maybe\n", ":2: answerable must be true or false"),
    ("bad.json", '{"data": [\n {"title": "x",\n  "paragraphs": [}\n]}', ":3: not valid JSON"),
    ("ours.jsonl", '{"id": "q1", "question": "a?", "language": "en", "category": "who", "answerable": true, '
                   '"gold_facts": [["x"]]}\n{"id": "q1", "question": "b?", "language": "en", "category": "who", '
                   '"answerable": true, "gold_facts": [["y"]]}\n', "duplicate question id 'q1'"),
])
def test_malformed_files_name_the_line(tmp_path, name, content, where):
    with pytest.raises(EvalError) as exc:
        load_dataset(write(tmp_path / name, content))
    assert where in str(exc.value) and str(tmp_path / name) in str(exc.value)


def test_missing_empty_and_unknown_json(tmp_path):
    with pytest.raises(EvalError, match="not found"):
        load_dataset(tmp_path / "nope.json")
    with pytest.raises(EvalError, match="holds no questions"):
        load_dataset(write(tmp_path / "empty.jsonl", "\n\n"))
    with pytest.raises(EvalError, match="must be SQuAD"):
        load_dataset(write(tmp_path / "other.json", "{\n \"rows\": []\n}"))


def test_sample_first_n_or_seeded_draw():
    qs = load_questions(DEFAULT_QUESTIONS)
    assert sample(qs, 5, None) == qs[:5]
    a, b, c = sample(qs, 10, 1), sample(qs, 10, 1), sample(qs, 10, 2)
    assert a == b and a != c and len(a) == 10
    assert [qs.index(q) for q in a] == sorted(qs.index(q) for q in a)  # file order kept
    assert sample(qs, None, 1) == qs and sample(qs, 500, 1) == qs


def test_write_articles_rewrites_only_changes_and_drops_stale(tmp_path):
    ds = load_dataset(write(tmp_path / "dev.json", squad()))
    folder = write_articles(ds, tmp_path / "articles")
    files = sorted(p.name for p in folder.glob("*.md"))
    assert files == ["normans.md", "steam_engine.md"]
    assert (folder / "normans.md").read_text("utf-8").startswith("# Normans\n\nNormandy is in France.")
    (folder / "stale.md").write_text("# old\n")
    before = (folder / "normans.md").stat().st_mtime_ns
    write_articles(ds, folder)
    assert not (folder / "stale.md").exists() and (folder / "normans.md").stat().st_mtime_ns == before
    # A different text is a different corpus: a new folder, a new index.
    changed = squad()
    changed["data"][1]["paragraphs"][0]["context"] = "Newcomen built one in 1712 near Dudley."
    ds2 = load_dataset(write(tmp_path / "dev.json", changed))
    assert corpus_folder(ds, tmp_path) != corpus_folder(ds2, tmp_path)
    assert corpus_folder(ds, tmp_path).name == f"dev-{ds.corpus_key}"


def test_thresholds_cannot_gate_lower_is_better_metrics(tmp_path):
    with pytest.raises(EvalError, match="false_abstention cannot be gated"):
        load_thresholds(write(tmp_path / "t.json", {"false_abstention": 0.1}))
    assert load_thresholds(write(tmp_path / "ok.json", {"answer_recall": 0.5})) == {"answer_recall": 0.5}


# -- `rag eval` on a bad file: one line, exit 1, nothing built ----------------------------------

def test_eval_bad_file_one_error_line_and_nothing_run(tmp_path):
    bad = write(tmp_path / "bad.jsonl", '{"question": "a?", "answer": "b"}\n{"question": "c?", "answer": \n')
    result = CliRunner().invoke(main, ["eval", str(bad), "--index-dir", str(tmp_path / "index"),
                                       "--report", str(tmp_path / "report")])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and f"{bad}:2: not valid JSON" in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "index").exists() and not (tmp_path / "report").exists()


def test_eval_missing_file_and_bad_thresholds_before_anything_runs(tmp_path):
    result = CliRunner().invoke(main, ["eval", str(tmp_path / "missing.json"), "--index-dir", str(tmp_path / "i")])
    assert result.exit_code == 1 and "not found" in result.stderr
    good = write(tmp_path / "dev.json", squad())
    result = CliRunner().invoke(main, ["eval", str(good), "--index-dir", str(tmp_path / "i"),
                                       "--thresholds", str(write(tmp_path / "t.json", {"hit@50": 1}))])
    assert result.exit_code == 1 and "unknown metrics: hit@50" in result.stderr
    assert not (tmp_path / "i").exists()


@pytest.mark.parametrize("command", [["eval"], ["ask", "Who?"], ["serve"]])
@pytest.mark.parametrize("flag, value", [("--min-confidence", "1.5"), ("--short-withhold", "-1"),
                                         ("--short-withhold", "often")])
def test_answer_settings_out_of_range_are_a_usage_error(command, flag, value, tmp_path):
    result = CliRunner().invoke(main, command + [flag, value, "--index-dir", str(tmp_path / "i")])
    assert result.exit_code == 2 and flag in result.stderr
    assert not (tmp_path / "i").exists()


def test_min_confidence_reaches_the_settings(monkeypatch, tmp_path):
    from rag.app.cli import options
    from rag.errors import RagError

    seen = {}

    def fake_make_engine(**overrides):
        seen.update(overrides)
        raise RagError("stop here")

    monkeypatch.setattr(options, "make_engine", fake_make_engine)
    result = CliRunner().invoke(main, ["ask", "Who?", "--min-confidence", "0.25", "--short-withhold", "0"])
    assert result.exit_code == 1 and seen["min_confidence"] == 0.25 and seen["short_withhold"] == 0

    import rag.app.web.server

    def fake_serve(**kwargs):
        seen["serve"] = kwargs
    monkeypatch.setattr(rag.app.web.server, "serve", fake_serve)
    assert CliRunner().invoke(main, ["serve", "--min-confidence", "0.5"]).exit_code == 0
    assert seen["serve"]["min_confidence"] == 0.5

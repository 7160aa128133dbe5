"""The Evaluation tab's components and events (call `build` within the app's gr.Tabs), its
styles, and the ?ask=QUESTION links that open a failed question in the chat.

Endpoints for programs (gradio_client):
    /evaluate      question set ("shipped", a saved set's name, or "" with a file), file, retrieval,
                   top_k, min_confidence (-1: the server's), baseline, short_withhold (-1: the server's)
                   -> the run's summary (run_id, metrics, ...)
    /eval_runs     -> the saved runs, newest first (id, time, settings, headline numbers)
    /eval_result   run id (or "latest") -> that run's results.json
    /eval_compare  run A, run B -> question by question (fixed, broke, same) and metric changes
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from rag.app.web.controller import lower_priority
from rag.app.web.eval_controller import LIST_OUTPUTS, RESULT_OUTPUTS, EvalTab
from rag.app.web.eval_render import ALL, ASK_PARAM
from rag.app.web.eval_sets import SET_TYPES, SHIPPED
from rag.eval import comparison as eval_compare
from rag.eval import drafts as feedback_drafts

CSS = """
.rag-eval-table { border-collapse: collapse; font-size: .9em; margin: 4px 0 10px; }
.rag-eval-table th, .rag-eval-table td { border-bottom: 1px solid var(--border-color-primary); padding: 3px 8px;
  text-align: right; vertical-align: top; }
.rag-eval-table th:first-child, .rag-eval-table td:first-child { text-align: left; }
.rag-eval-table td.rag-text { text-align: left; max-width: 420px; }
.rag-better { color: #15803d; font-weight: 600; }
.rag-worse { color: #b91c1c; font-weight: 600; }
.rag-even { opacity: .6; }
.rag-eval-bar { width: 100%; height: 14px; }
.rag-eval-progress { font-size: .95em; }
.rag-eval-ok { color: #15803d; }
.rag-eval-bad { color: #b91c1c; }
.rag-kind { display: inline-block; font-size: .78em; padding: 0 6px; border-radius: 999px; margin: 1px 2px;
  background: #fee2e2; color: #991b1b; border: 1px solid #fca5a5; white-space: nowrap; }
.rag-eval-why { font-size: .8em; opacity: .75; }
.rag-status-fixed { color: #15803d; font-weight: 600; }
.rag-status-broke { color: #b91c1c; font-weight: 600; }
"""

def build(app, settings, llm_label: str | None, nice: int = 10) -> EvalTab:
    """The tab's components and events, inside the app's gr.Tabs (call it within `with gr.Tabs()`)."""
    tab = EvalTab(app.engine, settings, initializer=lambda: lower_priority(nice))
    max_mb = settings.max_article_bytes / 1e6
    c: dict[str, Any] = {}
    with gr.Tab("Evaluation", id="evaluation") as eval_tab:
        with gr.Row():
            with gr.Column(scale=3):
                gr.Markdown("### Run a question set\nOur JSONL, plain CSV or JSONL with `question` and `answer`, "
                            f"SQuAD or CMRC JSON; up to {max_mb:.0f} MB. A file with an error is refused with "
                            "its line, and nothing is run.")
                question_set = gr.Dropdown(tab.set_choices(), value=SHIPPED, label="Question set",
                                           elem_id="rag-eval-set")
                set_file = gr.File(file_count="single", file_types=SET_TYPES, label="Upload a question set",
                                   elem_id="rag-eval-file")
                set_status = gr.HTML(elem_id="rag-eval-set-status")
            with gr.Column(scale=2):
                retrieval = gr.Radio(["hybrid", "vector", "bm25"], value="hybrid", label="Retrieval", elem_id="rag-eval-retrieval")
                top_k = gr.Slider(1, 20, value=min(20, settings.top_k), step=1, label="Passages retrieved (top-k)",
                                  elem_id="rag-eval-top-k")
                min_conf = gr.Slider(0.0, 1.0, value=round(app.default_min_confidence(), 3), step=0.005,
                                     label="Minimum confidence to answer", elem_id="rag-eval-min-confidence")
                factor = app.default_short_withhold()
                withhold = gr.Slider(0.0, max(3.0, factor), value=round(factor, 2), step=0.25,
                                     label="How sure a short answer must be", elem_id="rag-eval-short-withhold",
                                     info="0 always states the phrase; higher: fewer, surer ones")
                use_llm = gr.Checkbox(True, label=f"Use the language model ({llm_label})" if llm_label else "",
                                      visible=bool(llm_label))
                baseline = gr.Checkbox(True, label="Also run the llama-index baseline (embeds the articles again)",
                                       elem_id="rag-eval-baseline")
                with gr.Row():
                    run = gr.Button("Run the evaluation", variant="primary", elem_id="rag-eval-run")
                    cancel = gr.Button("Cancel", variant="stop", elem_id="rag-eval-cancel")
        status = gr.HTML(elem_id="rag-eval-status")
        gr.Markdown("### Results")
        with gr.Row():
            c["run_pick"] = gr.Dropdown([], label="Run shown", elem_id="rag-eval-run-pick", scale=3)
            c["download"] = gr.DownloadButton("Download the report (zip)", elem_id="rag-eval-download", scale=1)
        c["metrics"] = gr.HTML(elem_id="rag-eval-metrics")
        c["chart"] = gr.Image(label="Scores by category and language", show_label=True, interactive=False,
                              elem_id="rag-eval-chart", format="png", height=420)
        c["groups"] = gr.HTML(elem_id="rag-eval-groups")
        gr.Markdown("### Failed questions\n*Ask in chat* opens the question in the chat, in a new browser tab.")
        with gr.Row():
            c["f_category"] = gr.Dropdown([ALL], value=ALL, label="Category", elem_id="rag-eval-f-category")
            c["f_language"] = gr.Dropdown([ALL], value=ALL, label="Language", elem_id="rag-eval-f-language")
            c["f_kind"] = gr.Dropdown([ALL, *eval_compare.KINDS], value=ALL, label="Reason", elem_id="rag-eval-f-kind")
        c["failed"] = gr.HTML(elem_id="rag-eval-failed")
        gr.Markdown("### Saved runs")
        c["runs"] = gr.HTML(elem_id="rag-eval-runs")
        with gr.Row():
            c["cmp_a"] = gr.Dropdown([], label="Run A", elem_id="rag-eval-cmp-a")
            c["cmp_b"] = gr.Dropdown([], label="Run B", elem_id="rag-eval-cmp-b")
            compare = gr.Button("Compare A → B", elem_id="rag-eval-compare-btn")
        comparison = gr.HTML(elem_id="rag-eval-compare")
        with gr.Accordion("Draft a question set from thumbs-down answers", open=False, elem_id="rag-eval-drafts-acc"):
            gr.Markdown("Each thumbs-down answer in the feedback log becomes a question with the answer that was "
                        "marked wrong. Fill in the expected answer (facts separated by `;`, forms of one fact by "
                        "`|`) or set answerable to false; clear a question to leave it out. Saved sets are "
                        "checked like an upload and can be run from *Question set*.")
            load_drafts = gr.Button("Load the thumbs-down answers", elem_id="rag-eval-drafts-load")
            drafts = gr.Dataframe(headers=feedback_drafts.COLUMNS, datatype=["str"] * len(feedback_drafts.COLUMNS),
                                  interactive=True, wrap=True, elem_id="rag-eval-drafts", value=[])
            drafts_state = gr.State([])
            with gr.Row():
                draft_name = gr.Textbox("feedback-draft", label="Save as", elem_id="rag-eval-draft-name", scale=3)
                save_draft = gr.Button("Save as a question set (JSONL)", elem_id="rag-eval-draft-save", scale=1)
            draft_status = gr.HTML(elem_id="rag-eval-draft-status")
            draft_file = gr.DownloadButton("Download the JSONL", visible=False, elem_id="rag-eval-draft-download")

        # Programs: the same runs through named endpoints (kept out of sight in the page).
        with gr.Column(visible=False):
            api_set = gr.Textbox()
            api_file = gr.File(file_count="single")
            api_retrieval = gr.Textbox()
            api_top_k = gr.Number()
            api_min_conf = gr.Number()
            api_baseline = gr.Checkbox()
            api_withhold = gr.Number(-1)
            api_out = gr.JSON()
            api_trigger = gr.Button()
            gr.api(tab.runs_api, api_name="eval_runs")
            gr.api(tab.result_api, api_name="eval_result")
            gr.api(tab.compare_api, api_name="eval_compare")

    results = [c[k] for k in RESULT_OUTPUTS]
    listing = [c[k] for k in LIST_OUTPUTS]
    private = dict(api_visibility="private")
    # One evaluation at a time on the server, browser and API together: the runner runs its jobs
    # one after the other. The page's Run is not held in Gradio's queue as well, so that a run
    # waiting for another one is a job ("Waiting for the evaluation before this one…") that its
    # Cancel finds.
    one = dict(concurrency_limit=1, concurrency_id="evaluation")
    set_file.upload(tab.check_upload, [set_file], [set_status, question_set], **private)
    set_file.clear(lambda: "", None, [set_status], **private, queue=False)
    run.click(tab.run_ui, [question_set, set_file, retrieval, top_k, min_conf, withhold, use_llm, baseline],
              [status, *results, *listing], **private)
    # Cancel stops the job, not the Run event: the event, still running, then shows the end
    # ("Cancelled after ...") as its last word. With Gradio cancelling the event, a progress
    # update already on its way could land after the cancel's message and stay there (seen once
    # in CI: "6 of 135 questions ... about 33 s left" after Cancel).
    cancel.click(tab.cancel_ui, None, [status], **private)
    c["run_pick"].input(tab.show_run, [c["run_pick"]], results, **private)
    for f in ("f_category", "f_language", "f_kind"):
        c[f].input(tab.filter_failed, [c["run_pick"], c["f_category"], c["f_language"], c["f_kind"]],
                   [c["failed"]], **private)
    compare.click(tab.compare_ui, [c["cmp_a"], c["cmp_b"]], [comparison], **private)
    load_drafts.click(tab.drafts_load, None, [drafts, draft_status, drafts_state], **private)
    save_draft.click(tab.drafts_save, [drafts, draft_name, drafts_state], [draft_status, draft_file, question_set],
                     **private)
    eval_tab.select(tab.refresh, None, [*listing, *results, question_set], **private)

    api_trigger.click(tab.evaluate_api, [api_set, api_file, api_retrieval, api_top_k, api_min_conf, api_baseline,
                                         api_withhold],
                      [api_out], api_name="evaluate", **one)
    return tab


# Runs in the page on load: with ?ask=QUESTION (a failed question's link), the question is put
# in the chat box and asked, as if typed. Nothing reaches the server on an ordinary load, so a
# user's first question never races with it. The text goes in through the textarea's value
# (never as HTML) and is checked by the server like any question.
ASK_JS = """() => {
  const q = new URLSearchParams(window.location.search).get("%s");
  if (!q) return;
  let tries = 0;
  const go = () => {
    const box = document.querySelector("#rag-question textarea");
    const ask = document.querySelector("#rag-ask");
    if (!box || !ask) { if (tries++ < 50) setTimeout(go, 100); return; }
    box.value = q.slice(0, 4000);
    box.dispatchEvent(new Event("input", {bubbles: true}));
    setTimeout(() => ask.click(), 100);
  };
  go();
}""" % ASK_PARAM


def wire_chat_link(demo) -> None:
    """A page opened with ?ask=QUESTION (a failed question's link) shows the chat with it asked."""
    demo.load(None, None, None, js=ASK_JS, api_visibility="private", queue=False)

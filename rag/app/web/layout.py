"""The chat app's page (Gradio Blocks): the Chat and Articles tabs, the Evaluation tab
(rag.app.web.eval_layout), the styles, and the events wired to ChatApp (rag.app.web.controller).

Endpoints for programs (gradio_client):
    /ask     question (, top_k) -> the JSON of `rag ask --json`
    /upload  one .txt/.md/.html file (gradio_client.handle_file) -> the ingest summary
    /evaluate, /eval_runs, /eval_result, /eval_compare: the Evaluation tab (rag.app.web.eval_layout)
"""

from __future__ import annotations

import gradio as gr

from rag.app.web import eval_layout
from rag.app.web.controller import MAX_TOP_K, ChatApp
from rag.app.web.render import chat_messages
from rag.config import Settings

# Asks are thread-safe in the engine and take tens of milliseconds of CPU; 8 at once keeps
# a shared instance responsive without letting one burst starve the machine.
CONCURRENCY = 8
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".markdown"]

EXAMPLES = [
    "Who attended the seventh meeting?",
    "谁主持了第七次会议座谈会？",
    "Where was the fifth session held?",
    "When was the fifth joint meeting held?",
    "第七次会议在哪里举行？",
]

CSS = """
.rag-question { white-space: normal; }
.rag-answer-text { line-height: 1.6; }
.rag-answer-text a.rag-marker { text-decoration: none; font-weight: 600; padding: 0 1px;
  color: var(--color-accent); }
.rag-answer-text a.rag-marker:hover { text-decoration: underline; }
.rag-badge { display: inline-block; font-size: 0.8em; font-weight: 700; letter-spacing: .02em;
  padding: 2px 10px; border-radius: 999px; margin-bottom: 6px;
  background: #fef3c7; color: #92400e; border: 1px solid #f59e0b; }
.rag-abstained .rag-answer-text { font-style: italic; opacity: .85; }
.rag-error { color: #b91c1c; }
.rag-pending { opacity: .7; font-style: italic; }
.rag-sources { margin-top: 10px; }
.rag-sources > summary { cursor: pointer; font-weight: 600; font-size: .9em; opacity: .8; }
.rag-cite { border-left: 3px solid var(--color-accent); padding: 4px 10px; margin: 8px 0;
  border-radius: 4px; background: var(--background-fill-secondary); scroll-margin-top: 80px; }
.rag-abstained .rag-cite { border-left-color: #f59e0b; }
.rag-cite:target { outline: 2px solid var(--color-accent); }
.rag-cite-head { font-weight: 600; font-size: .95em; line-height: 1.35; }
.rag-cite-n { color: var(--color-accent); margin-right: 4px; }
.rag-cite-meta { font-size: .8em; opacity: .75; margin: 2px 0 4px; }
.rag-cite-text { font-size: .92em; line-height: 1.5; }
.rag-cite-text mark { background: rgba(250, 204, 21, .45); color: inherit; padding: 0 1px; border-radius: 2px; }
.rag-p { display: block; height: .45em; }
.rag-timing { font-size: .75em; opacity: .6; margin-top: 6px; }
.rag-mode { font-size: .8em; opacity: .8; margin-top: 6px; }
.rag-confidence { font-size: .8em; opacity: .75; margin-bottom: 4px; }
.rag-confidence.rag-low { opacity: 1; color: #b45309; font-weight: 600; }
.rag-warning { font-size: .85em; color: #92400e; margin-top: 6px; }
.rag-checking { background: #e0f2fe; color: #075985; border-color: #38bdf8; }
.rag-draft-text { opacity: .65; font-style: italic; }
#rag-articles td, #rag-articles th { font-family: var(--font); }
.rag-upload-ok { color: #15803d; }
.rag-upload-bad { color: #b91c1c; }
.rag-short-answer { font-size: 1.08em; margin: 2px 0 6px; }
.rag-short-withheld { font-size: .92em; margin: 2px 0 6px; color: #92400e; }
.rag-cite-text mark.rag-short { background: rgba(34, 197, 94, .45); font-weight: 600; }
"""

def build_app(engine, settings: Settings | None = None, *, stream_delay: float = 0.04) -> gr.Blocks:
    """The Blocks of the app, queued for CONCURRENCY simultaneous users. Launch it with
    rag.app.web.server.launch."""
    app = ChatApp(engine, settings, stream_delay)
    top_k_default = min(MAX_TOP_K, app.settings.top_k)
    max_mb = app.settings.max_article_bytes / 1e6

    llm_label = getattr(engine, "llm_label", None) if getattr(app.settings, "llm_configured", False) else None
    if llm_label:
        intro = (f"Answers are written by {llm_label} from the retrieved passages. Each sentence's citation is "
                 "checked against its passage before it is shown; sentences that fail are left out, and when "
                 "none pass, sentences quoted from the articles are shown instead.")
    else:
        intro = "Answers are sentences quoted from the articles; each [n] links to the passage it comes from."
    with gr.Blocks(title="News articles: questions and answers", analytics_enabled=False) as demo:
        gr.Markdown("## Questions about the news articles\n" + intro)
        turns = gr.State([])
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row():
                    with gr.Column(scale=4):
                        chatbot = gr.Chatbot(
                            label="Conversation", show_label=False, elem_id="rag-chat", height="72vh",
                            min_height=420, layout="panel",
                            render_markdown=False, sanitize_html=True, latex_delimiters=[],
                            examples=[{"text": q} for q in EXAMPLES],
                            placeholder="Ask about the news articles, in English or Chinese. Try one of these:",
                        )
                        with gr.Row():
                            box = gr.Textbox(placeholder="Ask a question about the articles…", show_label=False,
                                             scale=5, autofocus=True, elem_id="rag-question", max_lines=4)
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="rag-ask")
                    with gr.Column(scale=1, min_width=220):
                        gr.Markdown("### Settings")
                        top_k = gr.Slider(1, MAX_TOP_K, value=top_k_default, step=1, label="Passages retrieved (top-k)")
                        show_scores = gr.Checkbox(False, label="Show retrieval scores")
                        min_conf = gr.Slider(0.0, 1.0, value=round(app.default_min_confidence(), 3), step=0.005,
                                             label="Minimum confidence to answer", elem_id="rag-min-confidence",
                                             info="Below it the tool says the articles do not answer")
                        factor = app.default_short_withhold()
                        withhold = gr.Slider(0.0, max(3.0, factor), value=round(factor, 2), step=0.25,
                                             label="How sure a short answer must be", elem_id="rag-short-withhold",
                                             info="0 always states the phrase in bold; higher: fewer, surer ones")
                        clear = gr.Button("New conversation")
                        gr.Markdown("Follow-up questions such as *Where was it held?* use the earlier "
                                    "questions of this conversation. Use the thumbs under an answer to tell us whether it helped.")
            with gr.Tab("Articles", id="articles") as articles_tab:
                stats = gr.HTML()
                table = gr.Dataframe(headers=["Title", "Date", "Languages", "Passages", "File"],
                                     datatype=["str", "str", "str", "number", "str"], interactive=False,
                                     wrap=True, elem_id="rag-articles",
                                     column_widths=["46%", "11%", "13%", "9%", "21%"])
                gr.Markdown(f"### Add articles\n.txt, .md or .html, up to {max_mb:.0f} MB each. They are "
                            "indexed right away and can be asked about when the upload finishes.")
                files = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, label="Article files",
                                elem_id="rag-upload")
                add = gr.Button("Add to the index", variant="primary", elem_id="rag-add")
                upload_status = gr.HTML(elem_id="rag-upload-status")
            eval_layout.build(app, app.settings, llm_label, getattr(app.settings, "upload_nice", 10))

        # Programs upload one file at a time through these: kept out of sight in the page.
        with gr.Column(visible=False):
            api_file = gr.File(file_count="single")  # types checked by uploads.accept, with a clearer message
            api_summary = gr.JSON()
            api_trigger = gr.Button()

        ask_inputs = [box, turns, top_k, show_scores, min_conf, withhold]
        ask_outputs = [chatbot, turns, box]
        # One pool of CONCURRENCY slots for every way of asking, browser or API.
        asking = dict(concurrency_limit=CONCURRENCY, concurrency_id="ask")
        box.submit(app.chat, ask_inputs, ask_outputs, api_visibility="private", **asking)
        send.click(app.chat, ask_inputs, ask_outputs, api_visibility="private", **asking)
        chatbot.example_select(_example_text, None, box, api_visibility="private", queue=False).then(
            app.chat, ask_inputs, ask_outputs, api_visibility="private", **asking)
        chatbot.like(app.like, [turns], None, api_visibility="private")
        chatbot.clear(lambda: [], None, turns, api_visibility="private", queue=False)
        clear.click(lambda: ([], []), None, [chatbot, turns], api_visibility="private", queue=False)
        show_scores.change(chat_messages, [turns, show_scores], chatbot, api_visibility="private", queue=False)

        add.click(app.upload_ui, [files], [upload_status, table, stats, files], api_visibility="private",
                  concurrency_limit=1, concurrency_id="ingest")
        api_trigger.click(app.upload_api, [api_file], [api_summary], api_name="upload",
                          concurrency_limit=1, concurrency_id="ingest")
        gr.api(app.ask_api, api_name="ask", **asking)
        eval_layout.wire_chat_link(demo)  # ?ask=QUESTION links from the Evaluation tab
        demo.load(app.articles_view, None, [table, stats], api_visibility="private")
        articles_tab.select(app.articles_view, None, [table, stats], api_visibility="private")

    demo.queue(default_concurrency_limit=CONCURRENCY)
    return demo


def _example_text(evt: gr.SelectData) -> str:
    return evt.value["text"] if isinstance(evt.value, dict) else str(evt.value)

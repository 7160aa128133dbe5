"""The Gradio app: `layout` builds the page, `controller` handles its events and API endpoints,
`render` turns results into escaped HTML, `server` starts it; the Evaluation tab likewise
(`eval_layout`, `eval_controller`, `eval_render`, `eval_sets`)."""

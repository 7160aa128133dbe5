"""Stage 4, the extractive answer: what the question asks, the trained reader that picks the
sentences and decides abstention, lists and intersections, the short answer, the citations.
Entry point: `extractive.answer`. News vocabulary and reply texts are data (`vocab/`), the trained
weights too (`models/`)."""

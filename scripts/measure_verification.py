"""Measure the claim-to-passage cosine that rag.generate.verify uses as its threshold.

    .venv/bin/python scripts/measure_verification.py [--index-dir DIR]

Positives: hand-written paraphrases of what the articles say, each paired with the passage that
says it (found by a key phrase), plus the gold spans of eval/questions.jsonl (short fragments,
as a model compresses a sentence) paired with the passages that hold them.
Negatives: the same claims paired with the other passages retrieved for them (same topic,
often the same article) that do not hold the key phrase.
Prints the score distributions and, for candidate thresholds, the share of positives kept and
of negatives rejected, for claims in the passage's language and across languages.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from rag.config import DEFAULT_ARTICLES, PROJECT_ROOT, Settings
from rag.engine import Engine
from rag.generate.evidence import evidence_sentences

# (claim, key phrase of the passage that supports it)
PARAPHRASES = [
    ("Yuan Jiajun chaired the seventh meeting and gave a speech.", "Yuan Jiajun, Secretary of the CPC Chongqing Municipal Committee, presided"),
    ("Wang Xiaohui, Sichuan's Party secretary, attended the meeting and spoke.", "Wang Xiaohui, Secretary of the CPC Sichuan Provincial Committee, attended and addressed"),
    ("The seventh meeting took place in Bishan District.", "In Bishan District, the sides held the seventh"),
    ("The Sichuan delegation visited Chongqing on June 26.", "On June 26, the delegation"),
    ("The fifth session was held in Chongqing on June 29.", "On June 29, the Fifth Session"),
    ("Chen Min'er presided over the fifth session and addressed it.", "Chen Min'er, Secretary of the CPC Chongqing Municipal Committee, presided over"),
    ("Major projects include the Chengdu-Chongqing Middle Line railway and a 1000 kV UHV AC power line.", "Chengdu-Chongqing Middle Line"),
    ("Improving cooperation mechanisms was called the cornerstone.", "Improving cooperation mechanisms should be the cornerstone"),
    ("The delegation toured Chongqing Fudi Lithium Battery Co., Ltd. and the Xiuhu Eco-Zone.", "Fudi Lithium"),
    ("Wang Fengchao, the Mayor of Chengdu, was among the attendees.", "Wang Fengchao, Mayor of Chengdu"),
    ("The two sides will build the Chengdu-Chongqing Comprehensive Science Center and Western China Science City.", "Comprehensive Science Center"),
    ("Sichuan and Chongqing hope to grow together into the fourth engine of China's economy.", "fourth engine"),
    ("Delegates reviewed the list of key cooperation items for the second half of 2023.", "key cooperation items for 2H of 2023"),
    ("Hu Henghua is the Mayor of Chongqing.", "Hu Henghua, Deputy Secretary of the CPC Chongqing Municipal Committee and Mayor"),
    ("Hu Henghua reported on Chongqing's economic and social progress at the fifth session.", "Hu Henghua reported the progress"),
    ("Before the session, a ceremony launched the Bashu Culture and Tourism Corridor.", "Launching Ceremony for Major Events"),
    ("The Sichuan delegation visited Guangyang Island and the Chang'an Auto Global R&D Center.", "Guangyang Island"),
    ("Chen stressed strengthening the synergy of the two core cities.", "Chen stressed the need to further strengthen the synergy"),
    ("The plan is a 1+2+N architecture with Chengdu and Chongqing as two hubs.", "1+2+N"),
    ("Wang Xiaohui said the fast development of the central area could be a priority.", "Wang Xiaohui pointed out that a priority could be"),
    # Chinese claims, Chinese passages
    ("袁家军主持了会议并发表讲话。", "重庆市委书记袁家军主持会议并讲话"),
    ("第七次会议座谈会在璧山区举行。", "在重庆市璧山区举行"),
    ("四川省党政代表团6月26日来重庆考察。", "6月26日,四川省党政代表团来渝考察"),
    ("代表团参观了秀湖生态区和弗迪锂电池公司。", "秀湖生态区"),
    ("王晓晖希望把成渝中部地区加快崛起作为战略重点。", "王晓晖指出,希望两省市把研究推动成渝中部地区加快崛起"),
    # across languages
    ("The seventh meeting was held in Bishan District of Chongqing.", "在重庆市璧山区举行"),
    ("Yuan Jiajun presided over the meeting.", "重庆市委书记袁家军主持会议并讲话"),
    ("第五次会议在重庆举行，陈敏尔主持。", "On June 29, the Fifth Session"),
    ("代表团参观了广阳岛。", "Guangyang Island"),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index-dir", type=Path, default=Path("/tmp/llm-idx"))
    args = ap.parse_args()
    engine = Engine(Settings(index_dir=args.index_dir))
    try:
        engine.require_index()
    except Exception:
        engine.ingest([DEFAULT_ARTICLES])
    pairs: list[tuple[str, str, object, bool]] = []  # kind, claim, hit, positive
    for claim, key in PARAPHRASES:
        hits = engine.ask(claim, top_k=8, llm=False).retrieved
        others = engine.ask(key, top_k=8, llm=False).retrieved
        seen = set()
        for h in hits + others:
            if h.id in seen:
                continue
            seen.add(h.id)
            pairs.append(("paraphrase", claim, h, key in h.text))
        if not any(key in h.text for h in hits + others):
            print("no passage found for", key)
    for line in (PROJECT_ROOT / "eval" / "questions.jsonl").read_text("utf-8").splitlines():
        q = json.loads(line)
        for span in q.get("gold_passages", [])[:1]:
            if len(span) < 25:
                continue
            hits = engine.ask(q["question"], top_k=5, llm=False).retrieved
            for h in hits:
                pairs.append(("gold span", span, h, span in h.text))
    scores = {}
    for kind, claim, hit, pos in pairs:
        ev = evidence_sentences(hit)
        units = [s for _, s in ev] + [hit.text[a[0][0]:b[0][1]] for a, b in zip(ev, ev[1:])]
        vecs = engine.text_vectors([claim] + units)
        best = float((vecs[1:] @ vecs[0]).max())
        cross = any("\u4e00" <= ch <= "\u9fff" for ch in claim) != (hit.lang == "zh")
        scores.setdefault((kind, "cross" if cross else "same", pos), []).append(best)
    for key in sorted(scores):
        v = np.array(scores[key])
        print(f"{key[0]:<11} {key[1]:<6} {'supporting' if key[2] else 'other':<11} n={len(v):<4} "
              f"p5={np.percentile(v, 5):.3f} p25={np.percentile(v, 25):.3f} p50={np.median(v):.3f} "
              f"p95={np.percentile(v, 95):.3f}")
    for lang in ("same", "cross"):
        pos = np.array(sum((scores.get((k, lang, True), []) for k in ("paraphrase", "gold span")), []))
        neg = np.array(sum((scores.get((k, lang, False), []) for k in ("paraphrase", "gold span")), []))
        if not len(pos):
            continue
        print(f"\n{lang} language: {len(pos)} supporting pairs, {len(neg)} other pairs")
        for t in (0.76, 0.78, 0.80, 0.82, 0.83, 0.84, 0.85, 0.86, 0.88):
            print(f"  threshold {t:.2f}: keeps {np.mean(pos >= t):.1%} of supported claims, "
                  f"rejects {np.mean(neg < t):.1%} of claims against other passages")


if __name__ == "__main__":
    main()

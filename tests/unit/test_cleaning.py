
import pytest

import rag.lang as language
from rag.errors import ArticleError
from rag.ingest import cleaning
from rag.ingest.loading import find_article_files, read_article
from tests.support.corpus import ARTICLES, FIFTH, SEVENTH


def test_shipped_fifth_article_is_cleaned():
    a = read_article(ARTICLES / f"{FIFTH}.txt")
    assert a.article_id == FIFTH
    [doc] = a.documents
    assert doc.lang == "en"
    assert doc.title.startswith("Fifth Session of Chongqing-Sichuan Party and Government Joint Meeting")
    assert doc.date == "2022-07-04"
    assert "9de6ca53751c4000bcb3f2a2c2b12044" not in doc.text  # image file name
    assert "Local News" not in doc.text  # navigation
    assert "Tech community hails" not in doc.text  # link to another story
    assert "10:31" not in doc.text
    assert doc.text.rstrip().endswith("some central agencies in Sichuan.")


def test_shipped_bilingual_article_splits_into_two_documents():
    a = read_article(ARTICLES / f"{SEVENTH}.txt")
    by_lang = {d.lang: d for d in a.documents}
    assert set(by_lang) == {"en", "zh"}
    en, zh = by_lang["en"], by_lang["zh"]
    assert en.article_id == zh.article_id == SEVENTH
    assert en.doc_id != zh.doc_id
    assert "Seventh" in en.title and "第七次会议" in zh.title
    assert en.date == zh.date == "2023-11-20"
    assert en.outlet == "Chongqing Daily"
    for debris in ("Copyright", "ICP", "地址", "国内发行", "微信公众号", "Source/", "文/重庆日报", "双语"):
        assert debris not in en.text and debris not in zh.text, debris
    assert "袁家军" not in en.text and "Yuan Jiajun" not in zh.text
    assert all(language.detect(p) == "zh" for p in zh.text.split("\n\n"))
    assert "Addressed by Yuan Jiajun" in en.text  # the deck is article text, kept


@pytest.mark.parametrize("line", [
    "Copyright 2000-2023 Cqworld.cn All Rights Reserved. 渝ICP备:05006161",
    "地址:重庆市渝中区学田湾正街1号广场大厦11F",
    "国内发行:重庆市报刊发行局",
    "0123456789abcdef0123 (2)",
    "photo_2023.jpg",
    "© 2024 Some Paper",
])
def test_debris_lines_are_dropped(line):
    body = "The mayor opened the new bridge across the river on Monday, officials said in a statement."
    out = cleaning.clean_lines(["A Bridge Opens Across the River", body, line])
    assert line not in [p.text for p in out.paragraphs]
    assert out.paragraphs[-1].text == body


def test_source_line_becomes_metadata():
    body = "The mayor opened the new bridge across the river on Monday, officials said in a statement."
    out = cleaning.clean_lines(["A Bridge Opens Across the River", body, "Source: Xinhua"])
    assert out.outlet == "Xinhua"
    assert all("Xinhua" not in p.text for p in out.paragraphs)


@pytest.mark.parametrize("text,iso", [
    ("2022-07-04 02:21", "2022-07-04"),
    ("2023/11/20", "2023-11-20"),
    ("2023年11月20日", "2023-11-20"),
    ("June 26, 2023", "2023-06-26"),
    ("26 June 2023", "2023-06-26"),
    ("no date here", None),
    ("2023-02-30", None),
])
def test_parse_date(text, iso):
    assert cleaning.parse_date(text) == iso


def test_markdown_and_html_articles(tmp_path):
    md = tmp_path / "bridge.md"
    md.write_text("# A Bridge Opens\n\n*2024-03-01*\n\nThe mayor opened the new bridge across the river on "
                  "Monday, officials said in a statement to the press.\n\n![photo](x.jpg)\n", "utf-8")
    [doc] = read_article(md).documents
    assert doc.title == "A Bridge Opens"
    assert doc.date == "2024-03-01"
    assert "photo" not in doc.text and "x.jpg" not in doc.text

    html = tmp_path / "tunnel.html"
    html.write_text("<html><head><title>Site | Tunnel</title><script>alert(1)</script></head><body>"
                    "<nav>Home News</nav><article><h1>A Tunnel Opens</h1><time datetime='2024-05-06'>May</time>"
                    "<p>The governor opened the long tunnel under the mountain on Tuesday, the provincial office said.</p>"
                    "<p>隧道全长十二公里，于周二正式通车，省政府办公室在声明中表示。</p></article>"
                    "<footer>Copyright 2024</footer></body></html>", "utf-8")
    a = read_article(html)
    assert {d.lang for d in a.documents} == {"en", "zh"}
    en = next(d for d in a.documents if d.lang == "en")
    assert en.title == "A Tunnel Opens" and en.date == "2024-05-06"
    assert "alert" not in en.text and "Home News" not in en.text and "Copyright" not in en.text


@pytest.mark.parametrize("content,reason", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"\xff\xfe\x00\x00garbage", "binary"),
    (b"\n\n   \n", "no article text"),
])
def test_unusable_files_are_rejected_with_a_reason(tmp_path, content, reason):
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    with pytest.raises(ArticleError, match=reason):
        read_article(f)


def test_oversized_file_is_rejected(tmp_path):
    f = tmp_path / "big.txt"
    f.write_text("word " * 1000)
    with pytest.raises(ArticleError, match="limit"):
        read_article(f, max_bytes=100)


def test_find_article_files_reports_other_types(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.pdf").write_bytes(b"%PDF")
    (tmp_path / ".hidden.txt").write_text("x")
    files, skipped = find_article_files([tmp_path, tmp_path / "missing"])
    assert [f.name for f in files] == ["a.txt"]
    assert {p.name for p, _ in skipped} == {"b.pdf", "missing"}


@pytest.mark.parametrize("text,lang", [
    ("The meeting was held in Bishan.", "en"),
    ("会议在璧山区举行。", "zh"),
    ("袁家军王晓晖讲话 黄强胡衡华作交流发言", "zh"),
    ("双语 Bilingual edition of the newspaper", "en"),
    ("2023", "en"),
])
def test_language_detection(text, lang):
    assert language.detect(text) == lang

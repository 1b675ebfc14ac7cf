"""Hostile documents, built in memory, and a way to read each one in a child process.

The corpus (:data:`CASES`) is what an upload can throw at the reader and the parser: list
numbering bombs (a Roman start of 99999999999999999999, a letter start of 5,000,000, counters
that climb, a label pattern of 100,000 "%1", a chain of 100,000 styles), table bombs (spans
and grids of billions of columns, a merged cell repeated down thousands of rows), zip bombs
(200 MB of XML in 600 KB, a part that lies about its size, 20,000 parts, a 100 MB image,
XML hidden in a ".png"), entity tricks (billion laughs, XXE to /etc/passwd and to the network),
nesting beyond libxml2's depth and just within it (200,000 runs 80 tables deep), broken
numbering definitions, and text: 50,000 lines, one 10 MB line, one paragraph of 50,000 wrapped
lines, a 1 MB paragraph of sentences, 18,000 list items, markdown quotes nested 400,000 deep,
emphasis and bullets that made regexes quadratic.

Each :class:`Hostile` says what must come out: ``refused`` (a :class:`~bot.errors.PlanError`
whose Vietnamese message holds ``expect``) or ``read`` (``expect`` is in the text read,
``absent`` is not, and the parse gives at least ``tasks`` tasks).

:func:`run_isolated` reads one document the way an upload is read (``check_upload``,
``load_plan_bytes``, ``parse_lines``) in a child process under an address-space limit
(``resource.setrlimit(RLIMIT_AS)``) and a CPU-time guard, and reports the outcome, the time
and the peak RSS: tests/test_hostile.py asserts the outcomes, bench/hostile.py prints the
figures. The bounds themselves are the code's limits (bot/plans/source.py), not timers here.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEMORY_LIMIT = 1024 * 1024 * 1024
"""Address space a child may use (RLIMIT_AS): 1 GiB. Reading the largest .docx allowed takes
about 450 MB; the bombs of issue 12 took 0.8 to 8.8 GB."""
CPU_GUARD_SECONDS = 600
"""RLIMIT_CPU of a child: only there so that a regression fails instead of hanging the suite
(the parser stops itself after MAX_PARSE_SECONDS)."""

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CONTENT_TYPES = (
    _XML_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Default Extension="png" ContentType="image/png"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.styles+xml"/>'
    '<Override PartName="/word/numbering.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.numbering+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    _XML_HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    f'relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
_DOCUMENT_RELS = (
    _XML_HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    f'relationships"><Relationship Id="rId1" Type="{_REL}/styles" Target="styles.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/numbering" Target="numbering.xml"/>'
    f'<Relationship Id="rId3" Type="{_REL}/image" Target="media/image1.png"/>'
    "</Relationships>"
)
_STYLES = _XML_HEAD + f'<w:styles xmlns:w="{W_NS}"></w:styles>'
_EMPTY_NUMBERING = _XML_HEAD + f'<w:numbering xmlns:w="{W_NS}"></w:numbering>'
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
TASK = "Giao Sở Y tế chủ trì, phối hợp với Sở Tài chính báo cáo trước ngày 15/12/2023."


def paragraph(text: str, *, num_id: str | None = None, ilvl: str | None = None,
              style: str | None = None) -> str:
    """A w:p with one run; numPr and pStyle only when given."""
    props = ""
    if style is not None:
        props += f'<w:pStyle w:val="{style}"/>'
    if num_id is not None or ilvl is not None:
        props += "<w:numPr>"
        props += f'<w:ilvl w:val="{ilvl}"/>' if ilvl is not None else ""
        props += f'<w:numId w:val="{num_id}"/>' if num_id is not None else ""
        props += "</w:numPr>"
    ppr = f"<w:pPr>{props}</w:pPr>" if props else ""
    return f'<w:p>{ppr}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def document_xml(body: str, *, doctype: str = "") -> str:
    return (_XML_HEAD + doctype + f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body>'
            "</w:document>")


def numbering_xml(levels: str, *, num_id: str = "1", overrides: str = "") -> str:
    """One abstract numbering (``levels`` are its w:lvl elements) and one w:num using it."""
    return (_XML_HEAD + f'<w:numbering xmlns:w="{W_NS}"><w:abstractNum w:abstractNumId="1">'
            f'{levels}</w:abstractNum><w:num w:numId="{num_id}"><w:abstractNumId w:val="1"/>'
            f"{overrides}</w:num></w:numbering>")


def level(ilvl: str, start: str, fmt: str, text: str) -> str:
    return (f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>'
            f'<w:lvlText w:val="{text}"/></w:lvl>')


def docx_package(document: str, *, numbering: str = _EMPTY_NUMBERING, styles: str = _STYLES,
                 extra: Callable[[zipfile.ZipFile], None] | None = None,
                 image: bytes = PNG) -> bytes:
    """A minimal .docx: content types, relationships, document, styles, numbering, one image;
    ``extra`` writes more parts (streamed, so a bomb is never whole in memory)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("word/_rels/document.xml.rels", _DOCUMENT_RELS)
        archive.writestr("word/document.xml", document)
        archive.writestr("word/styles.xml", styles)
        archive.writestr("word/numbering.xml", numbering)
        archive.writestr("word/media/image1.png", image)
        if extra is not None:
            extra(archive)
    return buffer.getvalue()


def stream_part(archive: zipfile.ZipFile, name: str, head: bytes, chunk: bytes, total: int,
                tail: bytes = b"") -> None:
    """Write ``head``, ``chunk`` repeated up to ``total`` bytes, then ``tail`` as one part."""
    with archive.open(name, "w", force_zip64=True) as part:
        part.write(head)
        written = len(head)
        while written < total:
            part.write(chunk)
            written += len(chunk)
        part.write(tail)


# --- numbering ---------------------------------------------------------------------------------


def roman_start_bomb() -> bytes:
    """Upper Roman numbering starting at 99999999999999999999 (``_roman`` looped once per
    thousand: 8.8 GB in 90 s)."""
    numbering = numbering_xml(level("0", "99999999999999999999", "upperRoman", "%1."))
    body = "".join(paragraph(TASK, num_id="1", ilvl="0") for _ in range(3))
    return docx_package(document_xml(body), numbering=numbering)


def letter_start_bomb() -> bytes:
    """Lower-letter numbering starting at 5,000,000 (13 s)."""
    numbering = numbering_xml(level("0", "5000000", "lowerLetter", "%1)"))
    body = "".join(paragraph(TASK, num_id="1", ilvl="0") for _ in range(3))
    return docx_package(document_xml(body), numbering=numbering)


def counter_climb() -> bytes:
    """40,000 items of a lower-letter list: the labels grow ("aa", "aaa" …) to 1,539 letters,
    30 million characters in all."""
    numbering = numbering_xml(level("0", "1", "lowerLetter", "%1)"))
    body = "".join(paragraph("Báo cáo", num_id="1", ilvl="0") for _ in range(40_000))
    return docx_package(document_xml(body), numbering=numbering)


def level_text_bomb() -> bytes:
    """A label pattern of 100,000 "%1" (each a Roman number of 40 letters)."""
    numbering = numbering_xml(level("0", "32767", "upperRoman", "%1" * 100_000))
    body = "".join(paragraph(TASK, num_id="1", ilvl="0") for _ in range(50))
    return docx_package(document_xml(body), numbering=numbering)


def broken_numbering() -> bytes:
    """Numbering definitions that are not numbers: levels "abc" and 10^11, a start "x", an
    override "x", a paragraph level "abc", an unknown list."""
    levels = (level("abc", "1", "decimal", "%1.") + level("0", "x", "decimal", "%1.")
              + level("99999999999", "1", "decimal", "%1."))
    numbering = numbering_xml(levels, overrides=(
        '<w:lvlOverride w:ilvl="zz"><w:startOverride w:val="x"/></w:lvlOverride>'))
    body = (paragraph("Mục một: " + TASK, num_id="1", ilvl="0")
            + paragraph("Mục hai: Phòng Nội vụ báo cáo.", num_id="1", ilvl="abc")
            + paragraph("Mục ba: Phòng Tư pháp báo cáo.", num_id="1", ilvl="99999999999")
            + paragraph("Mục bốn: Phòng Văn hóa báo cáo.", num_id="77", ilvl="0"))
    return docx_package(document_xml(body), numbering=numbering)


def style_chain(paragraphs: int = 5_000) -> bytes:
    """100,000 styles, each based on the one before, the first numbered; ``paragraphs``
    paragraphs in the last one (each walked the whole chain: 5·10^8 steps for 5,000)."""
    count = 100_000
    styles = ['<w:style w:type="paragraph" w:styleId="s0"><w:pPr><w:numPr>'
              '<w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr></w:style>']
    styles += [f'<w:style w:type="paragraph" w:styleId="s{i}"><w:basedOn w:val="s{i - 1}"/>'
               "</w:style>" for i in range(1, count)]
    numbering = numbering_xml(level("0", "1", "decimal", "%1."))
    body = "".join(paragraph("Phòng Y tế báo cáo", style=f"s{count - 1}")
                   for _ in range(paragraphs))
    return docx_package(document_xml(body), numbering=numbering,
                        styles=_XML_HEAD + f'<w:styles xmlns:w="{W_NS}">{"".join(styles)}'
                        "</w:styles>")


# --- tables ------------------------------------------------------------------------------------


def _cell(text: str, props: str = "") -> str:
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{paragraph(text)}</w:tc>"


def grid_span_bomb() -> bytes:
    """A grid of 100,000 columns, spans of 2^31, rows skipping 10^9 and 10^11 columns."""
    grid = "<w:tblGrid>" + '<w:gridCol w:w="10"/>' * 100_000 + "</w:tblGrid>"
    row = ('<w:tr><w:trPr><w:gridBefore w:val="1000000000"/><w:gridAfter '
           'w:val="99999999999"/></w:trPr>'
           + _cell("Phòng Y tế", '<w:gridSpan w:val="2147483647"/>')
           + _cell("Báo cáo kết quả") + _cell("trước ngày 15/12/2023") + "</w:tr>")
    return docx_package(document_xml(f"<w:tbl>{grid}{row * 3}</w:tbl>" + paragraph(TASK)))


def merged_cell_bomb() -> bytes:
    """Ten cells of 20,000 characters, merged down 5,000 rows: 1 GB of text written in 1 MB."""
    long_text = ("Giao Sở Y tế chủ trì báo cáo. " * 700)[:20_000]
    first = "<w:tr>" + _cell(long_text, '<w:vMerge w:val="restart"/>') * 10 + "</w:tr>"
    rest = "<w:tr>" + _cell("", "<w:vMerge/>") * 10 + "</w:tr>"
    return docx_package(document_xml(f"<w:tbl>{first}{rest * 5_000}</w:tbl>"))


# --- zip ---------------------------------------------------------------------------------------

_PARA_BYTES = paragraph(TASK).encode() * 200


def zip_bomb(megabytes: int) -> bytes:
    """document.xml of ``megabytes`` MB of paragraphs, compressed about 330 times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        head = document_xml("").split("<w:body>")[0].encode() + b"<w:body>"
        stream_part(archive, "word/document.xml", head, _PARA_BYTES, megabytes * 1024 * 1024,
                    b"</w:body></w:document>")
    return buffer.getvalue()


def lying_zip() -> bytes:
    """A document.xml that inflates to 200 MB but whose zip directory says 2 KB."""
    data = zip_bomb(200)
    archive = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in archive.infolist():
            if info.filename != "word/document.xml":
                out.writestr(info.filename, archive.read(info.filename))
        head = document_xml("").split("<w:body>")[0].encode() + b"<w:body>"
        stream_part(out, "word/document.xml", head, _PARA_BYTES, 200 * 1024 * 1024,
                    b"</w:body></w:document>")
        out.filelist[-1].file_size = 2048  # written into the central directory at close
    return buffer.getvalue()


def many_parts() -> bytes:
    """A valid document plus 20,000 empty parts."""
    def extra(archive: zipfile.ZipFile) -> None:
        for i in range(20_000):
            archive.writestr(f"customXml/item{i}.bin", b"")

    return docx_package(document_xml(paragraph(TASK)), extra=extra)


def image_bomb() -> bytes:
    """A valid document whose image (a part python-docx loads whole) inflates to 100 MB."""
    def extra(archive: zipfile.ZipFile) -> None:
        stream_part(archive, "word/media/image2.png", PNG, b"\x00" * 65536, 100 * 1024 * 1024)

    return docx_package(document_xml(paragraph(TASK)), extra=extra)


def xml_in_png() -> bytes:
    """The document part named "image1.png" (the content type decides how it is read), 30 MB
    of XML once unzipped."""
    body = _PARA_BYTES * (30 * 1024 * 1024 // len(_PARA_BYTES))
    xml = document_xml("").split("<w:body>")[0].encode() + b"<w:body>" + body + \
        b"</w:body></w:document>"
    return docx_package(document_xml(paragraph(TASK)), image=xml)


# --- entities and nesting ----------------------------------------------------------------------


def billion_laughs() -> bytes:
    """Nine levels of ten entities each: 10^9 "lol" if anything expanded them."""
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    doctype = f"<!DOCTYPE w:document [{''.join(entities)}]>"
    body = paragraph(TASK) + "<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>"
    return docx_package(document_xml(body, doctype=doctype))


def xxe() -> bytes:
    """External entities: a local file, a network address, an external DTD."""
    doctype = ('<!DOCTYPE w:document SYSTEM "http://127.0.0.1:9/evil.dtd" ['
               '<!ENTITY secret SYSTEM "file:///etc/passwd">'
               '<!ENTITY remote SYSTEM "http://127.0.0.1:9/x">]>')
    body = (paragraph(TASK) + "<w:p><w:r><w:t>&secret;</w:t></w:r></w:p>"
            "<w:p><w:r><w:t>&remote;</w:t></w:r></w:p>")
    return docx_package(document_xml(body, doctype=doctype))


def deep_tables(depth: int) -> bytes:
    """Tables nested ``depth`` deep, a task in the innermost cell."""
    opening = "<w:tbl><w:tr><w:tc>" * depth
    closing = "</w:tc></w:tr></w:tbl>" * depth
    return docx_package(document_xml(opening + paragraph(TASK) + closing + paragraph(TASK)))


def deep_runs() -> bytes:
    """200,000 runs in a cell 80 tables deep, some in a text box's fallback (every text node
    looked up its 245 ancestors)."""
    fallback = ('<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-'
                'compatibility/2006"><mc:Choice Requires="wps"><w:t>hộp</w:t></mc:Choice>'
                "<mc:Fallback><w:t>HIDDEN</w:t></mc:Fallback></mc:AlternateContent>")
    runs = ("<w:r><w:t>ab </w:t></w:r>" * 99 + f"<w:r>{fallback}</w:r>") * 2_000
    opening = "<w:tbl><w:tr><w:tc>" * 80
    closing = "</w:tc></w:tr></w:tbl>" * 80
    return docx_package(document_xml(f"{opening}<w:p>{runs}</w:p>{closing}"
                                     + paragraph(TASK)))


def deep_content_controls(depth: int) -> bytes:
    """Content controls (w:sdt) nested ``depth`` deep, which the reader walks recursively."""
    opening = "<w:sdt><w:sdtContent>" * depth
    closing = "</w:sdtContent></w:sdt>" * depth
    return docx_package(document_xml(opening + paragraph(TASK) + closing))


# --- text --------------------------------------------------------------------------------------

_HEAD = "KẾ HOẠCH\nThực hiện nhiệm vụ năm 2023\n\nII. NHIỆM VỤ\n"


def fifty_thousand_lines() -> bytes:
    """50,000 lines, 4.7 MB (24 s before the limits)."""
    line = "Các phòng, ban chuyên môn thuộc UBND huyện rà soát, tổng hợp, báo cáo kết quả."
    return (_HEAD + "\n".join(f"{i}. {line}" for i in range(50_000))).encode()


def wrapped_paragraph() -> bytes:
    """One paragraph hard-wrapped on 50,000 lines, within the text limit (each line rebuilt the
    paragraph: quadratic)."""
    return (_HEAD + "1. Giao Sở Y tế chủ trì, phối hợp với\n"
            + "\n".join("các đơn vị tổ chức" for _ in range(50_000))
            + "\nvà báo cáo trước ngày 15/12/2023.\n").encode()


def ten_megabyte_line() -> bytes:
    return (_HEAD + "1. " + ("Giao Sở Y tế báo cáo " * 600_000)[:10_000_000]).encode()


def sentences_paragraph(chars: int = 400_000) -> bytes:
    """One paragraph of ``chars`` characters, one task per sentence (at 950,000 characters, the
    slowest shape within the text limit)."""
    count = chars // (len(TASK) + 1)
    return (_HEAD + "1. " + " ".join([TASK] * count)).encode()


def many_items(count: int = 8_000) -> bytes:
    """``count`` list items at four levels (18,000 fit in the text limit)."""
    items = [f"{'1.' * (i % 4 + 1)} Phòng Y tế báo cáo trước ngày 15/12/2023."
             for i in range(count)]
    return (_HEAD + "\n".join(items)).encode()


def markdown_line() -> bytes:
    """Lines that made the markdown and noise-tail regexes quadratic: 100,000 unclosed
    emphasis stars, a heading padded with 200,000 spaces, 300,000 bullets around a letter."""
    return "\n".join([
        "KẾ HOẠCH", "*a " * 100_000, "# Nhiệm vụ" + " " * 200_000 + "x",
        "•" * 150_000 + "x" + "•" * 150_000, "1. " + TASK]).encode()


def deep_quotes() -> bytes:
    """A markdown quote nested 400,000 deep (each level copied the line once more)."""
    return (_HEAD + "> " * 400_000 + TASK + "\n").encode()


def legacy_big() -> bytes:
    """3 MB of TCVN3 text: over the text limit before anything is converted."""
    from bot.plans.readers import encode_tcvn3

    return encode_tcvn3("Giao Sở Y tế báo cáo trước ngày 15/12/2023.\n" * 70_000)


@dataclass(frozen=True, slots=True)
class Hostile:
    """One hostile document and what reading it must give."""

    name: str
    filename: str
    build: Callable[[], bytes]
    outcome: str
    """"refused" (a PlanError), "read", or "read or refused" (libxml2 2.11+ refuses entity
    amplification itself, older versions leave the entities unexpanded)."""
    expect: str = ""
    """In the text read; for "refused", in the message (a Vietnamese one in any case)."""
    absent: str = ""
    """Not in the text read (an entity that must not be expanded)."""
    tasks: int = 0
    """Tasks the parse must give at least."""


TEXT_LIMIT = "ký tự văn bản"
UNZIPPED = "khi giải nén"
BROKEN = "bị hỏng"

CASES: tuple[Hostile, ...] = (
    Hostile("numbering: Roman start 10^20", "roman.docx", roman_start_bomb, "read",
            "DCCLXVII. Giao Sở Y tế", tasks=1),
    Hostile("numbering: letter start 5,000,000", "letters.docx", letter_start_bomb, "read",
            "ggggg) Giao Sở Y tế", tasks=1),
    Hostile("numbering: 40,000 climbing letters", "climb.docx", counter_climb, "refused",
            TEXT_LIMIT),
    Hostile("numbering: 100,000 %1 in a label", "label.docx", level_text_bomb, "read",
            "Giao Sở Y tế", tasks=1),
    Hostile("numbering: broken definitions", "broken.docx", broken_numbering, "read",
            "Mục bốn: Phòng Văn hóa báo cáo.", tasks=1),
    Hostile("numbering: 100,000 chained styles", "styles.docx", style_chain, "read",
            "5000. Phòng Y tế báo cáo"),
    Hostile("table: spans of 2^31 columns", "span.docx", grid_span_bomb, "read", "Phòng Y tế",
            tasks=1),
    Hostile("table: a merged cell down 5,000 rows", "merged.docx", merged_cell_bomb,
            "refused", TEXT_LIMIT),
    Hostile("zip: 200 MB of XML in 600 KB", "bomb.docx", lambda: zip_bomb(200), "refused",
            UNZIPPED),
    Hostile("zip: a part lying about its size", "lying.docx", lying_zip, "refused", BROKEN),
    Hostile("zip: 20,000 parts", "parts.docx", many_parts, "refused", UNZIPPED),
    Hostile("zip: an image of 100 MB", "image.docx", image_bomb, "refused", UNZIPPED),
    Hostile("zip: 30 MB of XML named .png", "png.docx", xml_in_png, "refused", "XML"),
    Hostile("xml: billion laughs", "laughs.docx", billion_laughs, "read or refused",
            "Giao Sở Y tế", absent="lollol"),
    Hostile("xml: external entities (XXE)", "xxe.docx", xxe, "read", "Giao Sở Y tế",
            absent="root:", tasks=1),
    Hostile("xml: tables nested 5,000 deep", "deep.docx", lambda: deep_tables(5_000),
            "refused", "lồng nhau"),
    Hostile("xml: tables nested 80 deep", "nested.docx", lambda: deep_tables(80), "read",
            "Giao Sở Y tế", tasks=1),
    Hostile("xml: 200,000 runs 80 tables deep", "runs.docx", deep_runs, "read", "ab ab hộp",
            absent="HIDDEN", tasks=1),
    Hostile("xml: content controls nested 120 deep", "sdt.docx",
            lambda: deep_content_controls(120), "read", "Giao Sở Y tế", tasks=1),
    Hostile("text: 50,000 lines, 4.7 MB", "lines.txt", fifty_thousand_lines, "refused",
            TEXT_LIMIT),
    Hostile("text: one 10 MB line", "line.txt", ten_megabyte_line, "refused", TEXT_LIMIT),
    Hostile("text: a paragraph of 50,000 lines", "wrapped.txt", wrapped_paragraph, "read",
            "và báo cáo trước ngày 15/12/2023", tasks=1),
    Hostile("text: a paragraph of 4,900 sentences", "sentences.txt", sentences_paragraph,
            "read", TASK, tasks=4_900),
    Hostile("text: 8,000 list items", "items.txt", many_items, "read", "Phòng Y tế",
            tasks=8_000),
    Hostile("markdown: stars, spaces, bullets", "markup.md", markdown_line, "read",
            "Giao Sở Y tế", tasks=1),
    Hostile("markdown: quotes 400,000 deep", "quotes.md", deep_quotes, "read", TASK, tasks=1),
    Hostile("text: 3 MB of TCVN3", "tcvn3.txt", legacy_big, "refused", TEXT_LIMIT),
)
"""The corpus the tests run."""

AT_THE_LIMITS: tuple[Hostile, ...] = (
    Hostile("numbering: 20,000 paragraphs, 100,000 styles", "styles20k.docx",
            lambda: style_chain(20_000), "read", "20000. Phòng Y tế báo cáo"),
    Hostile("text: a paragraph of 11,700 sentences", "sentences950k.txt",
            lambda: sentences_paragraph(950_000), "read", TASK, tasks=11_000),
    Hostile("text: 18,000 list items", "items18k.txt", lambda: many_items(18_000), "read",
            "Phòng Y tế", tasks=18_000),
    Hostile("docx: 15 MB of XML, 2.6 million paragraphs", "xml15mb.docx", lambda: docx_package(
        document_xml("<w:p/>" * (15 * 1024 * 1024 // 6))), "refused", TEXT_LIMIT),
    Hostile("zip: 1 GB of XML in 3 MB", "bomb1gb.docx", lambda: zip_bomb(1024), "refused",
            UNZIPPED),
)
"""Bigger shapes for bench/hostile.py (slower to build or read): the worst cases within the
limits, and the 1 GB zip bomb of issue 12."""


def run_isolated(case: Hostile, *, memory: int = MEMORY_LIMIT,
                 data: bytes | None = None) -> dict:
    """Read ``case`` in a child process limited to ``memory`` bytes of address space.

    Returns the child's report: ``outcome`` ("read", "refused", "memory" for a MemoryError,
    "crash" for any other exception, "died" when the child was killed), ``message``,
    ``lines``, ``tasks``, ``found``/``missing`` (``expect``/``absent`` in the text),
    ``seconds`` (reading and parsing, imports excluded), ``peak_mb`` and ``peak_vm_mb`` (peak
    resident and virtual memory of the child, imports included) and ``size`` (bytes of the
    file).
    """
    data = case.build() if data is None else data
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / case.filename
        path.write_bytes(data)
        request = {"path": str(path), "memory": memory, "expect": case.expect,
                   "absent": case.absent}
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "tests.hostile_files"], cwd=ROOT, env=env,
                              input=json.dumps(request), capture_output=True, text=True,
                              check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        report = {"outcome": "died", "message": f"exit {done.returncode}: {done.stderr[-2000:]}"}
    else:
        report = json.loads(lines[-1])
    report["size"] = len(data)
    return report


def _child(request: dict) -> dict:
    """Read one file as an upload is read, within the limits of ``request``."""
    import resource
    import time

    resource.setrlimit(resource.RLIMIT_AS, (request["memory"], request["memory"]))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_GUARD_SECONDS, CPU_GUARD_SECONDS))
    from bot.errors import PlanError
    from bot.importer import check_upload
    from bot.plans.parser import parse_lines
    from bot.plans.readers import load_plan_bytes

    path = Path(request["path"])
    data = path.read_bytes()
    report: dict = {}
    start = time.perf_counter()
    try:
        check_upload(path.name, len(data))
        text = load_plan_bytes(data, path.name)
        plan = parse_lines(list(text.lines), source=path.name)
    except PlanError as exc:
        report = {"outcome": "refused", "error": type(exc).__name__, "message": exc.message}
    except MemoryError:
        report = {"outcome": "memory", "message": "MemoryError"}
    except Exception as exc:  # any other failure is a bug the test must show
        report = {"outcome": "crash", "message": f"{type(exc).__name__}: {exc}"}
    else:
        joined = "\n".join(line.text for line in text.lines)
        report = {"outcome": "read", "lines": len(text.lines), "tasks": len(plan.tasks),
                  "found": bool(request["expect"]) and request["expect"] in joined,
                  "missing": not request["absent"] or request["absent"] not in joined}
    report["seconds"] = time.perf_counter() - start
    report.update(_peaks())
    return report


def _peaks() -> dict:
    """Peak resident and virtual memory of this process in MB (ru_maxrss would count the
    parent's memory too: Linux keeps it across exec)."""
    status = Path("/proc/self/status").read_text()
    values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {"peak_mb": int(values["VmHWM"].split()[0]) / 1024,
            "peak_vm_mb": int(values["VmPeak"].split()[0]) / 1024}


if __name__ == "__main__":
    print(json.dumps(_child(json.loads(sys.stdin.read())), ensure_ascii=False))

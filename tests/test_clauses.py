"""bot.plans.clauses: what one sentence of correspondence does — who speaks, who is asked to
act, or neither. Invented sentences in the shapes real letters use; each row is one shape."""

from __future__ import annotations

import pytest

from bot.plans.assign import same_body
from bot.plans.clauses import (
    ASSIGN,
    CLOSING,
    OPENER,
    PAST,
    PLAIN,
    SPEECH,
    analyse,
    sentences,
)
from bot.text import fold

ISSUER = "Ủy ban nhân dân tỉnh Hòa Bình"


def issuer_speaks(units: tuple[str, ...]) -> bool:
    """The speaker is the issuer (or its chairman): "UBND tỉnh", "Chủ tịch UBND tỉnh"."""
    if len(units) != 1:
        return False
    name = units[0]
    for title in ("Chủ tịch ", "đồng chí Chủ tịch ", "Phó Chủ tịch "):
        name = name.removeprefix(title)
    return same_body(name, ISSUER)


def first(text: str) -> object:
    (a, b), *_ = sentences(text)
    return analyse(text, a, b, issuer_speaks)[0]


# (sentence, kind, lead) — the lead as the clause reads it (back-references stay as written).
CASES = [
    # Request form: the speaker asks, the object acts.
    ("UBND tỉnh yêu cầu UBND các huyện, thành phố rà soát các khu dân cư.", ASSIGN,
     ("UBND các huyện, thành phố",)),
    ("Theo đó, UBND tỉnh yêu cầu các chủ đầu tư khẩn trương hoàn thiện hồ sơ.", ASSIGN,
     ("các chủ đầu tư",)),
    ("Giao Phòng Lao động - Thương binh và Xã hội thẩm định hồ sơ, trình UBND huyện.", ASSIGN,
     ("Phòng Lao động - Thương binh và Xã hội",)),
    ("Sở Nội vụ đề nghị Ban Dân tộc tỉnh tổng hợp danh sách.", ASSIGN, ("Ban Dân tộc tỉnh",)),
    ("Chủ tịch UBND tỉnh cũng yêu cầu Giám đốc Sở Xây dựng kiểm tra các công trình.", ASSIGN,
     ("Giám đốc Sở Xây dựng",)),
    ("Thực hiện Công văn số 12/BYT-DP ngày 02/3/2024 của Bộ Y tế, Trung tâm Y tế huyện đề nghị "
     "các Trạm Y tế xã, thị trấn rà soát đối tượng.", ASSIGN, ("các Trạm Y tế xã, thị trấn",)),
    ("Để kịp thời tổng hợp, đề nghị Phòng Nội vụ gửi báo cáo trước ngày 10/5/2024.", ASSIGN,
     ("Phòng Nội vụ",)),
    ("UBND tỉnh vừa ban hành Công văn số 812/UBND-ĐTXD chỉ đạo các chủ đầu tư đẩy nhanh tiến độ.",
     ASSIGN, ("các chủ đầu tư",)),
    ("Chính phủ yêu cầu 11 Bộ, cơ quan hoàn thiện hồ sơ.", ASSIGN, ("11 Bộ, cơ quan",)),
    # Subject form.
    ("Ủy ban nhân dân các huyện, thành phố chỉ đạo Trung tâm Y tế rà soát đối tượng.", ASSIGN,
     ("Ủy ban nhân dân các huyện, thành phố",)),
    ("Riêng UBND huyện Mai Châu hoàn thành trước ngày 15/9/2024.", ASSIGN,
     ("UBND huyện Mai Châu",)),
    ("Đồng thời, Sở Nông nghiệp và Phát triển nông thôn tổng hợp kết quả.", ASSIGN,
     ("Sở Nông nghiệp và Phát triển nông thôn",)),
    ("Định kỳ hằng tháng, UBND các xã báo cáo tiến độ về Phòng Kinh tế.", ASSIGN,
     ("UBND các xã",)),
    ("Sở Kế hoạch và Đầu tư có trách nhiệm tổng hợp, đề xuất điều chuyển vốn.", ASSIGN,
     ("Sở Kế hoạch và Đầu tư",)),
    # The request introduces the list that follows.
    ("UBND huyện đề nghị UBND các xã thực hiện các nội dung sau:", ASSIGN, ("UBND các xã",)),
    # Openers and speech of the speaker: nobody is assigned.
    ("Thực hiện Công văn số 2318/BYT-DP của Bộ Y tế, Ủy ban nhân dân tỉnh có ý kiến như sau:",
     OPENER, ()),
    ("Để chủ động phòng ngừa cháy, nổ, Chủ tịch Ủy ban nhân dân tỉnh yêu cầu:", OPENER, ()),
    ("Ngày 20/5/2024, đồng chí Chủ tịch UBND tỉnh chủ trì cuộc họp về công tác thi cử.", SPEECH,
     ()),
    ("Sau khi nghe các sở báo cáo, Chủ tịch UBND tỉnh kết luận như sau:", OPENER, ()),
    ("Ngày 12/3/2024, UBND tỉnh ban hành Công văn số 812/UBND-ĐTXD về việc giải ngân.", SPEECH,
     ()),
    # Past accounts and closing formulas.
    ("Phòng Kinh tế đã tổ chức hội chợ nông sản vào ngày 15/8/2024.", PAST, ()),
    ("Trước đó, Phó Thủ tướng đã có văn bản yêu cầu UBND tỉnh rà soát.", PAST, ()),
    ("Văn phòng UBND tỉnh thông báo để các cơ quan, đơn vị biết, thực hiện./.", CLOSING, ()),
    ("Đề nghị các đơn vị thực hiện nghiêm túc, đúng thời hạn./.", CLOSING, ()),
    # Plain sentences go on with the task before them.
    ("Hồ sơ gửi về Phòng Nội vụ chậm nhất ngày 15/11/2024.", PLAIN, ()),
    ("Tổ chức tốt các hoạt động tuyên truyền, văn hóa, văn nghệ, thể thao.", PLAIN, ()),
    ("Thực hiện tốt công tác tiếp công dân, tăng cường vai trò người đứng đầu cấp ủy, chính "
     "quyền trong việc giải quyết khiếu nại.", PLAIN, ()),
]


@pytest.mark.parametrize(("text", "kind", "lead"), CASES, ids=[fold(c[0])[:48] for c in CASES])
def test_clause(text: str, kind: str, lead: tuple[str, ...]) -> None:
    clause = first(text)
    assert clause.kind == kind, clause
    assert clause.lead == lead


def test_speaker_is_never_the_assignee() -> None:
    clause = first("UBND tỉnh yêu cầu UBND các huyện rà soát quy hoạch.")
    assert not any(same_body(u, ISSUER) for u in clause.lead)


def test_back_reference_is_marked_generic() -> None:
    clause = first("Sở Nội vụ đề nghị các cơ quan, đơn vị thực hiện như sau:")
    assert clause.kind == ASSIGN and clause.generic and clause.opens_list


def test_units_in_brackets_replace_a_generic_name() -> None:
    clause = first("Yêu cầu các đơn vị thi công (Trung tâm Kỹ thuật, Xí nghiệp Trắc địa 201) "
                   "hoàn thành trước ngày 30/6/2024.")
    assert clause.lead == ("Trung tâm Kỹ thuật", "Xí nghiệp Trắc địa 201")


def test_purpose_clause_brings_a_second_actor() -> None:
    text = ("Giao các sở, ban, ngành xây dựng dự toán, gửi về Sở Tài chính trước ngày 10/10/2024 "
            "để Sở Tài chính tổng hợp, báo cáo UBND tỉnh trước ngày 20/10/2024.")
    clauses = analyse(text, 0, len(text), issuer_speaks)
    assert [c.lead for c in clauses] == [("các sở, ban, ngành",), ("Sở Tài chính",)]
    assert text[clauses[1].start:].startswith("để Sở Tài chính")


def test_recipient_of_a_report_is_not_an_assignee() -> None:
    clause = first("UBND các xã báo cáo kết quả về Phòng Nông nghiệp trước ngày 20/12/2024.")
    assert clause.lead == ("UBND các xã",)


@pytest.mark.parametrize(("text", "spans"), [
    ("A b. C d; e f: G h.", [(0, 4), (5, 9), (10, 14), (15, 19)]),
    ("Giao Sở Y tế: chủ trì.", [(0, 22)]),
])
def test_sentences(text: str, spans: list[tuple[int, int]]) -> None:
    assert sentences(text) == spans


# blind4: a letter that asks ("vừa có văn bản đề nghị X chỉ đạo Y …"): X is asked, Y is the
# object of "chỉ đạo"; a letter that "chỉ đạo" its addressees is only told of.
@pytest.mark.parametrize(("text", "kind", "lead"), [
    ("Bộ Tài nguyên và Môi trường vừa có Văn bản đề nghị Ủy ban nhân dân các tỉnh, thành phố "
     "chỉ đạo Sở Tài nguyên và Môi trường khẩn trương hoàn thành báo cáo trước ngày 28/4/2017.",
     ASSIGN, ("Ủy ban nhân dân các tỉnh, thành phố",)),
    ("Ngày 06/5, Sở Giáo dục và Đào tạo có văn bản chỉ đạo các Trưởng Phòng Giáo dục và Đào tạo "
     "về điều chỉnh thời gian kiểm tra.", None, ()),
])
def test_letter_that_asks(text: str, kind: str | None, lead: tuple[str, ...]) -> None:
    clauses = analyse(text, 0, len(text), lambda units: False)
    asked = [c for c in clauses if c.kind == ASSIGN]
    if kind is None:
        assert not asked
    else:
        assert asked and asked[0].lead == lead


# blind4 m10: the clause that puts a decision in force is no task, even under an article
# that names units.
@pytest.mark.parametrize("text", [
    "Quyết định này có hiệu lực kể từ ngày ký ban hành./.",
    "Điều 2. Quyết định này có hiệu lực thi hành kể từ ngày ký.",
    "Quy chế này được áp dụng từ ngày 01/01/2025.",
])
def test_entry_into_force_is_closing(text: str) -> None:
    assert first(text).kind == CLOSING


def test_a_decision_in_force_gives_no_task_under_its_article() -> None:
    from bot.plans import parse_text

    plan = parse_text(
        "QUYẾT ĐỊNH:\n"
        "Điều 1. Ban hành kèm theo Quyết định này Quy chế hoạt động của Ban Chỉ đạo.\n"
        "Điều 2. Chánh Văn phòng Ủy ban nhân dân tỉnh, Giám đốc các Sở, Ban, ngành có liên quan "
        "căn cứ Quyết định thi hành.\n"
        "Quyết định này có hiệu lực kể từ ngày ký ban hành./.")
    assert [t.line for t in plan.tasks if t.lead] == [3]


# blind5 m13, blind4 m19, blind g24: "đã chỉ đạo"/"đã phân công" recount how work was handed
# out; "đã đề nghị"/"đã yêu cầu" still wait for an answer (blind g21, blind2 k22).
@pytest.mark.parametrize("text, kind", [
    ("UBND tỉnh đã chỉ đạo các sở, ban ngành, UBND các huyện tập trung giải quyết, trả lời "
     "cử tri.", PAST),
    ("Thủ tướng Chính phủ đã phân công các thành viên Chính phủ chuẩn bị báo cáo.", PAST),
    ("UBND tỉnh đã yêu cầu UBND các huyện hoàn thành trước ngày 30/6/2024.", ASSIGN),
    ("Đoàn ĐBQH tỉnh đã đề nghị Ủy ban MTTQ tỉnh chủ trì tổ chức hội nghị.", ASSIGN),
    ("UBND tỉnh chỉ đạo các sở, ngành tập trung giải quyết dứt điểm.", ASSIGN),
])
def test_handing_out_work_in_the_past_is_an_account(text: str, kind: str) -> None:
    assert first(text).kind == kind


# blind5 m07: a unit followed by the paper it wrote ("tại báo cáo số …") proposed; it is not
# asked to act.
def test_the_proposer_cited_with_its_report_is_no_assignee() -> None:
    text = ("Xét đề nghị của Văn phòng Đoàn đại biểu Quốc hội, HĐND và UBND thành phố tại báo "
            "cáo số 21/BC-VP ngày 23-7-2020, Chủ tịch UBND thành phố biểu dương Sở Tài chính.")
    assert all(c.kind != ASSIGN for c in analyse(text, 0, len(text), issuer_speaks))


# blind5 m24: "X vừa ký công văn gửi Y … và đề nghị Z …" is news of a letter: Z is asked.
@pytest.mark.parametrize("text, lead", [
    ("Bộ trưởng Bộ Giáo dục và Đào tạo vừa ký công văn gửi Chủ tịch UBND các tỉnh về việc điều "
     "chỉnh khung kế hoạch và đề nghị Chủ tịch UBND các tỉnh, thành phố xem xét cho học sinh đi "
     "học trở lại.", ("Chủ tịch UBND các tỉnh, thành phố",)),
    ("Giám đốc Sở Y tế vừa ký công văn gửi các huyện và đề nghị Trung tâm Y tế các huyện rà "
     "soát thuốc.",
     ("Trung tâm Y tế các huyện",)),
])
def test_news_of_a_signed_letter_names_its_addressees(text: str, lead: tuple[str, ...]) -> None:
    asked = [c for c in analyse(text, 0, len(text), lambda u: False) if c.kind == ASSIGN]
    assert asked and asked[0].lead == lead


# blind5 m23 (and m12): a connective ("Cùng với đó,") or a bracketed source of several words
# ("(Xây dựng) –") stands before the subject.
@pytest.mark.parametrize("text, lead", [
    ("Cùng với đó, Bộ Tài chính chủ trì, phối hợp với các Bộ, cơ quan, địa phương triển khai các "
     "giải pháp.", ("Bộ Tài chính",)),
    ("Song song với đó, Sở Y tế tăng cường kiểm tra.", ("Sở Y tế",)),
    ("(Xây dựng) – Chủ tịch UBND tỉnh Vĩnh Phúc yêu cầu các Sở, ngành tiếp tục rà soát các "
     "thủ tục.", ("các Sở, ngành",)),
])
def test_connective_or_source_before_the_subject(text: str, lead: tuple[str, ...]) -> None:
    asked = [c for c in analyse(text, 0, len(text), lambda u: False) if c.kind == ASSIGN]
    assert asked and asked[0].lead == lead

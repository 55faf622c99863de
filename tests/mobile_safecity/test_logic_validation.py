"""Form checks before sending, in Vietnamese and English, with the server's codes and sentences."""

from __future__ import annotations

import datetime as dt

import pytest

from api.identity import national_id as server_national_id
from mobile_safecity.logic.i18n import CATEGORY_NAMES, STATE_NAMES, STRINGS, tr
from mobile_safecity.logic.validation import (
    CCCD_PROVINCE_CODES,
    Registration,
    ReportForm,
    check_national_id,
    check_registration,
    check_report,
    check_sign_in,
    messages,
)

TODAY = dt.date(2026, 11, 25)
GOOD = Registration(national_id="079190001234", full_name="Trần Thị Bích Ngọc", date_of_birth="25/04/1990",
                    sex="FEMALE", phone="0912 000 111", password="Biển xanh 2026!")


def test_a_good_registration_passes() -> None:
    assert check_registration(GOOD, today=TODAY) == []


@pytest.mark.parametrize(("number", "code", "vi", "en"), [
    ("07909000123", "NATIONAL_ID_LENGTH", "Số định danh cá nhân gồm đúng 12 chữ số (không dùng số CMND 9 chữ số cũ).",
     "The citizen ID number has exactly 12 digits (old 9-digit ID card numbers are not accepted)."),
    ("07919000123A", "NATIONAL_ID_NOT_DIGITS", "Số định danh cá nhân chỉ được gồm chữ số.",
     "The citizen ID number may contain digits only."),
    ("999190001234", "NATIONAL_ID_UNKNOWN_PROVINCE",
     "Ba chữ số đầu (999) không phải mã tỉnh nơi đăng ký khai sinh hợp lệ.",
     "The first three digits (999) are not a known birth-registration province code."),
    ("079191001234", "NATIONAL_ID_YEAR_MISMATCH", "Chữ số thứ 5-6 (91) không khớp với năm sinh.",
     "Digits 5-6 (91) do not match the year of birth."),
    ("079090001234", "NATIONAL_ID_SEX_MISMATCH", "Chữ số thứ tư của số định danh không khớp với giới tính đã khai.",
     "The fourth digit of the number does not match the sex given."),
])
def test_a_wrong_citizen_id_is_explained_in_both_languages(number: str, code: str, vi: str, en: str) -> None:
    # when
    problems = check_registration(Registration(**{**GOOD.__dict__, "national_id": number}), today=TODAY)
    # then
    assert [(p.field, p.code) for p in problems] == [("nationalId", code)]
    assert messages(problems, "vi") == {"nationalId": vi}
    assert messages(problems, "en") == {"nationalId": en}


@pytest.mark.parametrize("number", ["079190001234", "07919000123", "999190001234", "079091001234", "0791900012x4"])
def test_the_phone_and_the_server_agree_on_citizen_ids(number: str) -> None:
    # given: the same check on the server (the app cannot import it, so it carries a copy)
    born = dt.date(1990, 4, 25)
    server = server_national_id.validate_national_id(number, date_of_birth=born, sex="FEMALE", today=TODAY,
                                                     field="nationalId")
    # when
    phone = check_national_id(number, date_of_birth=born, sex="FEMALE")
    # then
    assert [(p.code, p.vi, p.en) for p in phone] == [(v.code.value, v.message_vi, v.message_en) for v in server]


def test_the_province_codes_are_the_servers() -> None:
    assert CCCD_PROVINCE_CODES == set(server_national_id.cccd_province_codes())


def test_phone_password_name_and_date_problems_land_under_their_fields() -> None:
    form = Registration(national_id="079190001234", full_name="Ng@c", date_of_birth="31/02/1990", sex="",
                        phone="12345", password="0912000111", email="not-an-email")
    vi = messages(check_registration(form, today=TODAY), "vi")
    en = messages(check_registration(form, today=TODAY), "en")
    assert vi == {
        "fullName": "Nhập họ và tên như trên thẻ căn cước: chữ cái, dấu cách, dấu nháy, gạch nối hoặc dấu chấm.",
        "dateOfBirth": "Nhập ngày theo dạng ngày/tháng/năm, ví dụ 25/04/1990.",
        "sex": "Chọn giới tính như trên thẻ căn cước.",
        "phone": "Hãy nhập số di động Việt Nam, ví dụ 0912345678 hoặc +84912345678.",
        "password": "Mật khẩu quá dễ đoán; hãy kết hợp chữ cái với chữ số, dấu cách hoặc ký hiệu, và không dùng số "
                    "định danh hay số điện thoại.",
        "email": "Hãy nhập địa chỉ thư điện tử, ví dụ ten@example.vn.",
    }
    assert en["phone"] == "Enter a Vietnamese mobile number, e.g. 0912345678 or +84912345678."
    assert en["dateOfBirth"] == "Write the date as dd/mm/yyyy."


def test_sign_in_accepts_an_id_or_a_phone() -> None:
    assert check_sign_in("079190001234", "x") == []
    assert check_sign_in("+84 912 000 111", "x") == []
    assert messages(check_sign_in("abc", ""), "en") == {
        "username": "Enter your 12-digit citizen ID or your mobile number.", "password": "Required."}
    assert messages(check_sign_in("", ""), "vi") == {"username": "Bắt buộc nhập.", "password": "Bắt buộc nhập."}


def test_a_report_needs_a_category_and_a_location_or_a_photo() -> None:
    assert messages(check_report(ReportForm(category=None, description="")), "vi") == {
        "category": "Hãy chọn loại sự việc.", "location": "Cần vị trí, hoặc ảnh có thông tin GPS."}
    assert messages(check_report(ReportForm(category="FIRE", description="", lat="10,2", lng="abc")), "en") == {
        "location": "This is not a valid location."}
    assert check_report(ReportForm(category="FIRE", description="", photos=("a.jpg",))) == []
    assert check_report(ReportForm(category="FIRE", description="", lat="10,217", lng="103.96")) == []
    assert messages(check_report(ReportForm(category="FIRE", description="", photos=("a",) * 6)), "en") == {
        "photos": "At most 5 photos."}


def test_every_text_exists_in_both_languages() -> None:
    for key, (vi, en) in STRINGS.items():
        assert vi and en, key
    assert set(CATEGORY_NAMES) == {c.code for c in server_rules_categories()}
    assert {"REPORTED", "ACKNOWLEDGED", "DISPATCHED", "RESOLVED", "CLOSED", "WAITING"} <= set(STATE_NAMES)
    assert tr("home.waiting", "vi", n=2) == "2 đang chờ gửi"
    assert tr("home.waiting", "en", n=2) == "2 waiting to send"


def server_rules_categories():  # noqa: ANN201
    """The server's categories."""
    from api.incidents.rules import CATEGORIES

    return CATEGORIES

"""Form checks before anything is sent, with messages in Vietnamese and English (no Kivy).

The citizen id check repeats the server's structural rules (api/identity/national_id.py) in miniature, because
the app must not import the API: same codes, same messages, so the person sees the same sentence whether
the phone or the server caught the mistake.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

# Birth-registration province codes of Circular 07/2016/TT-BCA, Appendix I (api/identity/data).
CCCD_PROVINCE_CODES = frozenset("""
001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035 036 037 038 040
042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072 074 075 077 079 080 082 083 084
086 087 089 091 092 093 094 095 096""".split())

PASSWORD_MIN = 10
DESCRIPTION_MAX = 4000  # the server's MAX_TEXT
MAX_PHOTOS = 5
_MOBILE_NSN = re.compile(r"[35789]\d{8}")


@dataclass(frozen=True)
class Problem:
    """One field's problem: the server's code and the sentence in both languages."""

    field: str
    code: str
    en: str
    vi: str

    def message(self, language: str) -> str:
        """The sentence in 'vi' or 'en'."""
        return self.vi if language == "vi" else self.en


def messages(problems: list[Problem], language: str) -> dict[str, str]:
    """Field -> first message in the language, as the screens show them under each field."""
    out: dict[str, str] = {}
    for problem in problems:
        out.setdefault(problem.field, problem.message(language))
    return out


def check_national_id(value: str, *, date_of_birth: dt.date | None = None, sex: str | None = None,
                      field: str = "nationalId") -> list[Problem]:
    """The 12-digit citizen id (CCCD): digits, length, province, and the century/sex/year digits."""
    number = re.sub(r"\s+", "", value or "")
    if not number:
        return [_required(field)]
    if not all(ch in "0123456789" for ch in number):
        return [Problem(field, "NATIONAL_ID_NOT_DIGITS", "The citizen ID number may contain digits only.",
                        "Số định danh cá nhân chỉ được gồm chữ số.")]
    if len(number) != 12:
        return [Problem(field, "NATIONAL_ID_LENGTH",
                        "The citizen ID number has exactly 12 digits (old 9-digit ID card numbers are not accepted).",
                        "Số định danh cá nhân gồm đúng 12 chữ số (không dùng số CMND 9 chữ số cũ).")]
    if number[:3] not in CCCD_PROVINCE_CODES:
        return [Problem(field, "NATIONAL_ID_UNKNOWN_PROVINCE",
                        f"The first three digits ({number[:3]}) are not a known birth-registration province code.",
                        f"Ba chữ số đầu ({number[:3]}) không phải mã tỉnh nơi đăng ký khai sinh hợp lệ.")]
    century = int(number[3])
    birth_year = 1900 + 100 * (century // 2) + int(number[4:6])
    problems = []
    if date_of_birth is not None:
        if date_of_birth.year // 100 != birth_year // 100:
            first = birth_year // 100 * 100
            problems.append(Problem(
                field, "NATIONAL_ID_CENTURY_MISMATCH",
                f"The fourth digit ({century}) means a birth year in {first}-{first + 99}, "
                "which does not match the date of birth.",
                f"Chữ số thứ tư ({century}) ứng với năm sinh từ {first} đến {first + 99}, không khớp với ngày sinh."))
        elif date_of_birth.year != birth_year:
            problems.append(Problem(field, "NATIONAL_ID_YEAR_MISMATCH",
                                    f"Digits 5-6 ({birth_year % 100:02d}) do not match the year of birth.",
                                    f"Chữ số thứ 5-6 ({birth_year % 100:02d}) không khớp với năm sinh."))
    if sex and ("FEMALE" if century % 2 else "MALE") != sex.upper():
        problems.append(Problem(field, "NATIONAL_ID_SEX_MISMATCH",
                                "The fourth digit of the number does not match the sex given.",
                                "Chữ số thứ tư của số định danh không khớp với giới tính đã khai."))
    return problems


def parse_date(value: str) -> dt.date | None:
    """A date typed as dd/mm/yyyy (Vietnamese order) or yyyy-mm-dd."""
    text = (value or "").strip()
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def normalise_phone(value: str) -> str | None:
    """+84xxxxxxxxx for a Vietnamese mobile number, else None."""
    digits = re.sub(r"[\s.\-()]", "", value or "")
    for prefix in ("+840", "+84", "0084", "84", "0"):
        if digits.startswith(prefix) and _MOBILE_NSN.fullmatch(rest := digits[len(prefix):]):
            return "+84" + rest
    return None


def _required(field: str) -> Problem:
    return Problem(field, "REQUIRED", "Required.", "Bắt buộc nhập.")


@dataclass(frozen=True)
class Registration:
    """What the register screen collects."""

    national_id: str
    full_name: str
    date_of_birth: str
    sex: str
    phone: str
    password: str
    email: str = ""


def check_registration(form: Registration, *, today: dt.date | None = None) -> list[Problem]:
    """Every problem with a registration form, field by field (field names as in RegisterCitizenInput)."""
    today = today or dt.date.today()
    problems: list[Problem] = []
    name = " ".join(unicodedata.normalize("NFC", form.full_name or "").split())
    if not name:
        problems.append(_required("fullName"))
    elif len(name) < 2 or not all(unicodedata.category(c)[0] in "LM" or c in " '-.’" for c in name):
        problems.append(Problem("fullName", "FULL_NAME_INVALID",
                                "Enter the full name as on the citizen ID card: letters, spaces, ' - or dots.",
                                "Nhập họ và tên như trên thẻ căn cước: chữ cái, dấu cách, dấu nháy, gạch nối "
                                "hoặc dấu chấm."))
    born = parse_date(form.date_of_birth)
    if not form.date_of_birth.strip():
        problems.append(_required("dateOfBirth"))
    elif born is None:
        problems.append(Problem("dateOfBirth", "DATE_OF_BIRTH_INVALID", "Write the date as dd/mm/yyyy.",
                                "Nhập ngày theo dạng ngày/tháng/năm, ví dụ 25/04/1990."))
    elif born > today:
        problems.append(Problem("dateOfBirth", "DATE_OF_BIRTH_INVALID", "The date of birth cannot be in the future.",
                                "Ngày sinh không thể ở tương lai."))
    if not form.sex:
        problems.append(Problem("sex", "REQUIRED", "Choose male or female as on the card.",
                                "Chọn giới tính như trên thẻ căn cước."))
    problems += check_national_id(form.national_id, date_of_birth=born if born and born <= today else None,
                                  sex=form.sex or None)
    if not form.phone.strip():
        problems.append(_required("phone"))
    elif normalise_phone(form.phone) is None:
        problems.append(Problem("phone", "PHONE_INVALID",
                                "Enter a Vietnamese mobile number, e.g. 0912345678 or +84912345678.",
                                "Hãy nhập số di động Việt Nam, ví dụ 0912345678 hoặc +84912345678."))
    problems += check_password(form.password, national_id=form.national_id, phone=form.phone)
    if form.email.strip() and not re.fullmatch(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+", form.email.strip()):
        problems.append(Problem("email", "EMAIL_INVALID", "Enter an e-mail address such as name@example.vn.",
                                "Hãy nhập địa chỉ thư điện tử, ví dụ ten@example.vn."))
    return problems


def check_password(password: str, *, national_id: str = "", phone: str = "") -> list[Problem]:
    """A new password: long enough, not only one kind of character, not the id or the phone."""
    password = unicodedata.normalize("NFKC", password or "")
    if len(password) < PASSWORD_MIN:
        return [Problem("password", "PASSWORD_TOO_SHORT",
                        f"Use at least {PASSWORD_MIN} characters; a few words make a good password.",
                        f"Mật khẩu cần ít nhất {PASSWORD_MIN} ký tự; một cụm vài từ là mật khẩu tốt.")]
    kinds = {"digit" if c.isdigit() else "letter" if c.isalpha() else "other" for c in password}
    number = re.sub(r"\s+", "", national_id or "")
    e164 = normalise_phone(phone) or ""
    if len(kinds) == 1 or (number and number in password) or (e164 and e164[3:] in password):
        return [Problem("password", "PASSWORD_TOO_WEAK",
                        "This password is too easy to guess; mix letters with digits, spaces or symbols, "
                        "and leave out your ID and phone number.",
                        "Mật khẩu quá dễ đoán; hãy kết hợp chữ cái với chữ số, dấu cách hoặc ký hiệu, và không "
                        "dùng số định danh hay số điện thoại.")]
    return []


def check_sign_in(username: str, password: str) -> list[Problem]:
    """The sign-in form: an id number (12 digits) or a phone, and a password."""
    problems = []
    user = (username or "").strip()
    if not user:
        problems.append(_required("username"))
    elif re.sub(r"\s+", "", user).isdigit() and len(re.sub(r"\s+", "", user)) == 12:
        problems += check_national_id(user, field="username")
    elif normalise_phone(user) is None:
        problems.append(Problem("username", "INVALID", "Enter your 12-digit citizen ID or your mobile number.",
                                "Nhập số định danh 12 chữ số hoặc số điện thoại di động."))
    if not password:
        problems.append(_required("password"))
    return problems


@dataclass(frozen=True)
class ReportForm:
    """What the report screen collects."""

    category: str | None
    description: str
    lat: str = ""
    lng: str = ""
    address: str = ""
    photos: tuple[str, ...] = ()


def parse_location(lat: str, lng: str) -> tuple[float, float] | None:
    """A WGS84 pair from two text fields (a comma as decimal mark is accepted)."""
    try:
        la, lo = float(lat.strip().replace(",", ".")), float(lng.strip().replace(",", "."))
    except ValueError:
        return None
    return (la, lo) if -90 <= la <= 90 and -180 <= lo <= 180 else None


def check_report(form: ReportForm) -> list[Problem]:
    """A report: a category, a location (or a photo whose GPS the server reads), at most 5 photos."""
    problems = []
    if not form.category:
        problems.append(Problem("category", "REQUIRED", "Choose what happened.", "Hãy chọn loại sự việc."))
    if len(form.description) > DESCRIPTION_MAX:
        problems.append(Problem("description", "INVALID", f"At most {DESCRIPTION_MAX} characters.",
                                f"Tối đa {DESCRIPTION_MAX} ký tự."))
    if form.lat.strip() or form.lng.strip():
        if parse_location(form.lat, form.lng) is None:
            problems.append(Problem("location", "INVALID", "This is not a valid location.", "Vị trí không hợp lệ."))
    elif not form.photos:  # the server reads the first photo's GPS; an address alone places nothing
        problems.append(Problem("location", "LOCATION_REQUIRED", "Give the location, or a photo with GPS.",
                                "Cần vị trí, hoặc ảnh có thông tin GPS."))
    if len(form.photos) > MAX_PHOTOS:
        problems.append(Problem("photos", "TOO_MANY_PHOTOS", f"At most {MAX_PHOTOS} photos.",
                                f"Tối đa {MAX_PHOTOS} ảnh."))
    return problems


def check_rating(stars: int) -> list[Problem]:
    """A rating from 1 to 5 stars."""
    if not 1 <= stars <= 5:
        return [Problem("rating", "INVALID", "Choose from 1 to 5 stars.", "Hãy chọn từ 1 đến 5 sao.")]
    return []


def check_server(address: str) -> list[Problem]:
    """A server address: http(s)://host[:port]."""
    if not re.fullmatch(r"https?://[^\s/]+(:\d+)?(/[^\s]*)?", (address or "").strip()):
        return [Problem("server", "INVALID", "Enter an address such as https://safecity.phuquoc.vn.",
                        "Nhập địa chỉ máy chủ, ví dụ https://safecity.phuquoc.vn.")]
    return []

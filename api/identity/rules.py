"""Pure identity rules: citizen id, tax code, phone, password and name checks (units: units.py).

No database, no network, no GraphQL. The only reads are of the reference tables shipped in ``data/``,
done once on first use and cached, so importing this module stays cheap.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.vn import mst

from api.core.errors import FieldError

# Vietnam has had no daylight saving since 1975, so a fixed offset is exact and needs no tzdata.
VIETNAM_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")

NATIONAL_ID_LENGTH = 12
FULL_NAME_MIN, FULL_NAME_MAX = 2, 100
PASSWORD_MIN, PASSWORD_MAX = 10, 256


class IdentityRuleCode(enum.StrEnum):
    """Why a value was refused; stable strings the apps translate and tests assert on."""

    NATIONAL_ID_LENGTH = "NATIONAL_ID_LENGTH"
    NATIONAL_ID_NOT_DIGITS = "NATIONAL_ID_NOT_DIGITS"
    NATIONAL_ID_UNKNOWN_PROVINCE = "NATIONAL_ID_UNKNOWN_PROVINCE"
    NATIONAL_ID_CENTURY_MISMATCH = "NATIONAL_ID_CENTURY_MISMATCH"
    NATIONAL_ID_YEAR_MISMATCH = "NATIONAL_ID_YEAR_MISMATCH"
    NATIONAL_ID_SEX_MISMATCH = "NATIONAL_ID_SEX_MISMATCH"
    NATIONAL_ID_FUTURE_BIRTH = "NATIONAL_ID_FUTURE_BIRTH"
    TAX_CODE_INVALID = "TAX_CODE_INVALID"
    PASSWORD_TOO_SHORT = "PASSWORD_TOO_SHORT"
    PASSWORD_TOO_LONG = "PASSWORD_TOO_LONG"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"
    PHONE_INVALID = "PHONE_INVALID"
    EMAIL_INVALID = "EMAIL_INVALID"
    FULL_NAME_INVALID = "FULL_NAME_INVALID"
    DATE_OF_BIRTH_INVALID = "DATE_OF_BIRTH_INVALID"


class Sex(enum.StrEnum):
    """Sex as encoded in the citizen id's century digit (even = male, odd = female)."""

    MALE = "MALE"
    FEMALE = "FEMALE"


@dataclass(frozen=True)
class RuleViolation:
    """One broken rule, with the field it concerns and messages in English and Vietnamese."""

    field: str
    code: IdentityRuleCode
    message_en: str
    message_vi: str

    def to_field_error(self) -> FieldError:
        """The same problem as the FieldError that mutation payloads carry."""
        return FieldError(
            code=self.code.value, message=self.message_en, field=self.field, message_vi=self.message_vi
        )


@dataclass(frozen=True)
class Checked:
    """A normalised value, or the reasons there is none."""

    value: str | None
    violations: tuple[RuleViolation, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the value passed every rule."""
        return not self.violations


def _violation(field: str, code: IdentityRuleCode, en: str, vi: str) -> RuleViolation:
    return RuleViolation(field=field, code=code, message_en=en, message_vi=vi)


def _today(today: dt.date | None) -> dt.date:
    return today if today is not None else dt.datetime.now(VIETNAM_TZ).date()


def _read_json(name: str) -> dict[str, Any]:
    return json.loads(
        resources.files("api.identity").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    )


# --- Citizen identification number (CCCD / số định danh cá nhân) ---------------------------------


@functools.cache
def cccd_province_codes() -> Mapping[str, str]:
    """The birth-registration province codes of Circular 07/2016/TT-BCA, code -> province name."""
    return dict(_read_json("cccd_province_codes.json")["codes"])


@dataclass(frozen=True)
class NationalIdInfo:
    """What a 12-digit citizen id says about its holder (PPP G YY SSSSSS)."""

    number: str
    province_code: str
    province_name: str
    century_digit: int
    sex: Sex
    birth_year: int
    serial: str


class InvalidNationalId(ValueError):
    """Raised by parse_national_id when the number is not structurally valid."""

    def __init__(self, violations: list[RuleViolation]) -> None:
        super().__init__("; ".join(v.code.value for v in violations))
        self.violations = violations


def _national_id_structure(value: str, field: str) -> tuple[str, list[RuleViolation]]:
    # Spaces are tolerated because people copy the number in groups; anything else is a typo.
    number = re.sub(r"\s+", "", value or "")
    # ASCII digits only: str.isdigit() would also let through full-width and superscript digits.
    if not all(ch in "0123456789" for ch in number):
        return number, [
            _violation(
                field,
                IdentityRuleCode.NATIONAL_ID_NOT_DIGITS,
                "The citizen ID number may contain digits only.",
                "Số định danh cá nhân chỉ được gồm chữ số.",
            )
        ]
    if len(number) != NATIONAL_ID_LENGTH:
        return number, [
            _violation(
                field,
                IdentityRuleCode.NATIONAL_ID_LENGTH,
                "The citizen ID number has exactly 12 digits (old 9-digit ID card numbers are not accepted).",
                "Số định danh cá nhân gồm đúng 12 chữ số (không dùng số CMND 9 chữ số cũ).",
            )
        ]
    if number[:3] not in cccd_province_codes():
        return number, [
            _violation(
                field,
                IdentityRuleCode.NATIONAL_ID_UNKNOWN_PROVINCE,
                f"The first three digits ({number[:3]}) are not a known birth-registration province code.",
                f"Ba chữ số đầu ({number[:3]}) không phải mã tỉnh nơi đăng ký khai sinh hợp lệ.",
            )
        ]
    return number, []


def parse_national_id(value: str, *, field: str = "national_id") -> NationalIdInfo:
    """Decodes a citizen id; raises InvalidNationalId when its structure is wrong."""
    number, violations = _national_id_structure(value, field)
    if violations:
        raise InvalidNationalId(violations)
    century_digit = int(number[3])
    yy = int(number[4:6])
    return NationalIdInfo(
        number=number,
        province_code=number[:3],
        province_name=cccd_province_codes()[number[:3]],
        century_digit=century_digit,
        sex=Sex.FEMALE if century_digit % 2 else Sex.MALE,
        birth_year=1900 + 100 * (century_digit // 2) + yy,
        serial=number[6:],
    )


def validate_national_id(
    value: str,
    *,
    date_of_birth: dt.date | None = None,
    sex: Sex | str | None = None,
    today: dt.date | None = None,
    field: str = "national_id",
) -> list[RuleViolation]:
    """Checks a citizen id against its structure and, when given, the holder's birth date and sex."""
    # There is no check digit and the province is where the birth was registered, not where the holder
    # lives: only the national population database can confirm a number, so nothing else is checked.
    _, violations = _national_id_structure(value, field)
    if violations:
        return violations
    info = parse_national_id(value, field=field)
    now = _today(today)
    if info.birth_year > now.year:
        violations.append(
            _violation(
                field,
                IdentityRuleCode.NATIONAL_ID_FUTURE_BIRTH,
                f"The number encodes a birth year ({info.birth_year}) in the future.",
                f"Số này mã hóa năm sinh ({info.birth_year}) ở tương lai.",
            )
        )
    if date_of_birth is not None:
        if date_of_birth > now:
            violations.append(_date_of_birth_in_future("date_of_birth"))
        elif date_of_birth.year // 100 != info.birth_year // 100:
            first = info.birth_year // 100 * 100
            violations.append(
                _violation(
                    field,
                    IdentityRuleCode.NATIONAL_ID_CENTURY_MISMATCH,
                    f"The fourth digit ({info.century_digit}) means a birth year in {first}-{first + 99}, "
                    "which does not match the date of birth.",
                    f"Chữ số thứ tư ({info.century_digit}) ứng với năm sinh từ {first} đến {first + 99}, "
                    "không khớp với ngày sinh.",
                )
            )
        elif date_of_birth.year != info.birth_year:
            violations.append(
                _violation(
                    field,
                    IdentityRuleCode.NATIONAL_ID_YEAR_MISMATCH,
                    f"Digits 5-6 ({info.birth_year % 100:02d}) do not match the year of birth.",
                    f"Chữ số thứ 5-6 ({info.birth_year % 100:02d}) không khớp với năm sinh.",
                )
            )
    if sex is not None and Sex(str(sex).upper()) != info.sex:
        violations.append(
            _violation(
                field,
                IdentityRuleCode.NATIONAL_ID_SEX_MISMATCH,
                "The fourth digit of the number does not match the sex given.",
                "Chữ số thứ tư của số định danh không khớp với giới tính đã khai.",
            )
        )
    return violations


def _date_of_birth_in_future(field: str) -> RuleViolation:
    return _violation(
        field,
        IdentityRuleCode.DATE_OF_BIRTH_INVALID,
        "The date of birth cannot be in the future.",
        "Ngày sinh không thể ở tương lai.",
    )


def validate_date_of_birth(
    value: dt.date, *, today: dt.date | None = None, field: str = "date_of_birth"
) -> list[RuleViolation]:
    """Checks that a date of birth is neither in the future nor implausibly long ago."""
    now = _today(today)
    if value > now:
        return [_date_of_birth_in_future(field)]
    if value.year < now.year - 130:
        return [
            _violation(
                field,
                IdentityRuleCode.DATE_OF_BIRTH_INVALID,
                "The date of birth is more than 130 years ago.",
                "Ngày sinh cách đây hơn 130 năm.",
            )
        ]
    return []


# --- Businesses, phones, passwords, names ---------------------------------------------------------


def validate_tax_code(value: str, *, field: str = "tax_code") -> Checked:
    """Checks a business tax code (MST, 10 digits and an optional -NNN branch); returns its compact form."""
    try:
        return Checked(mst.validate(value or ""))
    except StdnumValidationError:
        return Checked(
            None,
            (
                _violation(
                    field,
                    IdentityRuleCode.TAX_CODE_INVALID,
                    "This is not a valid tax code: 10 digits (-NNN for a branch) and a correct check digit.",
                    "Mã số thuế không hợp lệ: 10 chữ số (thêm -NNN với chi nhánh) và chữ số kiểm tra đúng.",
                ),
            ),
        )


# Mobile numbers are 10 digits nationally: 0 then 3, 5, 7, 8 or 9 and eight more digits.
_MOBILE_NSN = re.compile(r"[35789]\d{8}")


def _national_significant_number(value: str) -> str | None:
    digits = re.sub(r"[\s.\-()]", "", value or "")
    for prefix in ("+840", "+84", "0084", "84", "0"):
        # "+84 09..." (keeping the trunk 0 after the country code) is a common slip; accept it too.
        if digits.startswith(prefix) and _MOBILE_NSN.fullmatch(rest := digits[len(prefix) :]):
            return rest
    return None


def normalise_phone(value: str, *, field: str = "phone") -> Checked:
    """Normalises a Vietnamese mobile number (0xxxxxxxxx or +84xxxxxxxxx) to E.164 (+84xxxxxxxxx)."""
    nsn = _national_significant_number(value)
    if nsn is None:
        return Checked(
            None,
            (
                _violation(
                    field,
                    IdentityRuleCode.PHONE_INVALID,
                    "Enter a Vietnamese mobile number, e.g. 0912345678 or +84912345678.",
                    "Hãy nhập số di động Việt Nam, ví dụ 0912345678 hoặc +84912345678.",
                ),
            ),
        )
    return Checked("+84" + nsn)


# Deliberately loose: one @, a dotted domain, no spaces; only a confirmation mail proves an address.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def normalise_email(value: str, *, field: str = "email") -> Checked:
    """Trims an e-mail address and lower-cases its domain; checks only its shape."""
    email = (value or "").strip()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        return Checked(
            None,
            (
                _violation(
                    field,
                    IdentityRuleCode.EMAIL_INVALID,
                    "Enter an e-mail address such as name@example.vn.",
                    "Hãy nhập địa chỉ thư điện tử, ví dụ ten@example.vn.",
                ),
            ),
        )
    local, _, domain = email.rpartition("@")
    return Checked(f"{local}@{domain.lower()}")


# A tiny deny-list of what people type first; breach-corpus checks belong in a flow, not here.
_COMMON_PASSWORDS = frozenset(
    {
        "password", "password1", "password123", "matkhau", "matkhau123", "123456789", "1234567890",
        "12345678910", "0123456789", "9876543210", "qwertyuiop", "qwerty123", "iloveyou", "anhyeuem",
        "emyeuanh", "admin12345", "abc123456", "abcd12345", "phuquoc123", "vietnam123", "11111111111",
    }
)  # fmt: skip


def _character_class(ch: str) -> str:
    if ch.isdigit():
        return "digit"
    if ch.isalpha():
        return "letter"
    return "other"


def validate_password(
    value: str, *, national_id: str | None = None, phone: str | None = None, field: str = "password"
) -> list[RuleViolation]:
    """Checks a new password NIST 800-63B style: long enough, not trivial, not the holder's id or phone."""
    # NFKC so the same password typed on different keyboards counts (and later hashes) the same.
    password = unicodedata.normalize("NFKC", value or "")
    if len(password) < PASSWORD_MIN:
        return [
            _violation(
                field,
                IdentityRuleCode.PASSWORD_TOO_SHORT,
                f"Use at least {PASSWORD_MIN} characters; a few words make a good password.",
                f"Mật khẩu cần ít nhất {PASSWORD_MIN} ký tự; một cụm vài từ là mật khẩu tốt.",
            )
        ]
    if len(password) > PASSWORD_MAX:
        # Bounded so one request cannot make the memory-hard hash chew on megabytes.
        return [
            _violation(
                field,
                IdentityRuleCode.PASSWORD_TOO_LONG,
                f"Use at most {PASSWORD_MAX} characters.",
                f"Mật khẩu dài tối đa {PASSWORD_MAX} ký tự.",
            )
        ]
    weak = _violation(
        field,
        IdentityRuleCode.PASSWORD_TOO_WEAK,
        "This password is too easy to guess; mix letters with digits, spaces or symbols.",
        "Mật khẩu quá dễ đoán; hãy kết hợp chữ cái với chữ số, dấu cách hoặc ký hiệu.",
    )
    lowered = password.casefold()
    if lowered in _COMMON_PASSWORDS or len({_character_class(ch) for ch in password}) == 1:
        return [weak]
    id_digits = re.sub(r"\s+", "", national_id or "")
    nsn = _national_significant_number(phone) if phone else None
    if (id_digits and id_digits in password) or (nsn and nsn in password):
        return [
            _violation(
                field,
                IdentityRuleCode.PASSWORD_TOO_WEAK,
                "The password must not contain your citizen ID or phone number.",
                "Mật khẩu không được chứa số định danh cá nhân hoặc số điện thoại của bạn.",
            )
        ]
    return []


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2018": "'"})


def _capitalise_word(word: str) -> str:
    # Hyphenated parts each get a capital, as in "Lê-Nguyễn"; str.title() would also capitalise after "'".
    return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))


def normalise_full_name(value: str, *, field: str = "full_name") -> Checked:
    """NFC-normalises a full name, collapses spaces and checks it holds 2-100 letters, spaces, ' - or ."""
    # NFC so "ễ" typed as e + two combining marks is stored, compared and searched as one character;
    # typographic apostrophes (common in Ê Đê and Jrai names such as H’Hen) become the plain one.
    name = " ".join(unicodedata.normalize("NFC", value or "").translate(_APOSTROPHES).split())
    allowed = all(unicodedata.category(ch)[0] in "LM" or ch in " '-." for ch in name)
    if (
        not (FULL_NAME_MIN <= len(name) <= FULL_NAME_MAX)
        or not allowed
        or not any(ch.isalpha() for ch in name)
    ):
        return Checked(
            None,
            (
                _violation(
                    field,
                    IdentityRuleCode.FULL_NAME_INVALID,
                    f"Enter the full name as on the citizen ID card: {FULL_NAME_MIN}-{FULL_NAME_MAX} "
                    "letters, spaces, apostrophes, hyphens or dots.",
                    f"Nhập họ và tên như trên thẻ căn cước: {FULL_NAME_MIN}-{FULL_NAME_MAX} ký tự "
                    "gồm chữ cái, dấu cách, dấu nháy, gạch nối hoặc dấu chấm.",
                ),
            ),
        )
    # All-lower or all-caps (as printed on the card) becomes "Nguyễn Văn An"; mixed case is the
    # holder's choice and is kept.
    if name == name.lower() or name == name.upper():
        name = " ".join(_capitalise_word(word) for word in name.split(" "))
    return Checked(name)

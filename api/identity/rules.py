"""Pure identity rules: the rule codes and violations every check returns, and tax code, phone, e-mail,
password and name checks (citizen id and date of birth: national_id.py; units: units.py).

No database, no network, no GraphQL. ``_read_json`` reads the reference tables shipped in ``data/`` for
national_id.py and units.py, which cache them on first use, so importing these modules stays cheap.
"""

from __future__ import annotations

import enum
import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Any

from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.vn import mst

from api.core.errors import FieldError

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


def _read_json(name: str) -> dict[str, Any]:
    return json.loads(
        resources.files("api.identity").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    )


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

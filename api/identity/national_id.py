"""Pure citizen identification rules: decoding and checking the 12-digit citizen id (CCCD / số định danh cá
nhân) against the holder's birth date and sex, and checking a date of birth.

No database, no network, no GraphQL. The province codes are read from ``data/`` on first use and cached.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from api.identity.rules import IdentityRuleCode, RuleViolation, _read_json, _violation

# Vietnam has had no daylight saving since 1975, so a fixed offset is exact and needs no tzdata.
VIETNAM_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")

NATIONAL_ID_LENGTH = 12


class Sex(enum.StrEnum):
    """Sex as encoded in the citizen id's century digit (even = male, odd = female)."""

    MALE = "MALE"
    FEMALE = "FEMALE"


def _today(today: dt.date | None) -> dt.date:
    return today if today is not None else dt.datetime.now(VIETNAM_TZ).date()


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

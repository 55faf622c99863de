"""Pure identity rules: citizen id, tax code, phone, password, name, and the administrative-unit table."""

from __future__ import annotations

import datetime as dt
import time
import unicodedata

import pytest

from api.core.errors import FieldError
from api.identity.national_id import (
    InvalidNationalId,
    Sex,
    cccd_province_codes,
    parse_national_id,
    validate_date_of_birth,
    validate_national_id,
)
from api.identity.rules import (
    IdentityRuleCode,
    normalise_email,
    normalise_full_name,
    normalise_phone,
    validate_password,
    validate_tax_code,
)
from api.identity.units import (
    AdministrativeUnit,
    UnitLevel,
    administrative_units,
    find_unit,
    parent_unit,
    successor_units,
    unit_by_code,
    unit_valid_on,
)

TODAY = dt.date(2025, 7, 1)
REFORM_DAY = dt.date(2025, 7, 1)
LAST_OLD_DAY = dt.date(2025, 6, 30)

# 091 Kiên Giang, G=0 (1900s, male), YY=90.
KIEN_GIANG_1990_MALE = "091090123456"
# 089 An Giang, G=3 (2000s, female), YY=01.
AN_GIANG_2001_FEMALE = "089301000456"


def codes(violations) -> list[IdentityRuleCode]:
    return [v.code for v in violations]


# --- Citizen id ----------------------------------------------------------------------------------


def test_parse_national_id_decodes_a_1990_male_born_in_kien_giang():
    # when
    info = parse_national_id(KIEN_GIANG_1990_MALE)

    # then
    assert info.province_code == "091"
    assert info.province_name == "Tỉnh Kiên Giang"
    assert info.century_digit == 0
    assert info.sex is Sex.MALE
    assert info.birth_year == 1990
    assert info.serial == "123456"


def test_parse_national_id_decodes_a_2001_female_born_in_an_giang():
    info = parse_national_id(AN_GIANG_2001_FEMALE)

    assert info.province_name == "Tỉnh An Giang"
    assert info.sex is Sex.FEMALE
    assert info.birth_year == 2001


def test_valid_national_id_agreeing_with_date_of_birth_and_sex_has_no_violations():
    assert (
        validate_national_id(
            KIEN_GIANG_1990_MALE, date_of_birth=dt.date(1990, 5, 17), sex=Sex.MALE, today=TODAY
        )
        == []
    )
    assert (
        validate_national_id(
            AN_GIANG_2001_FEMALE, date_of_birth=dt.date(2001, 12, 31), sex="female", today=TODAY
        )
        == []
    )


def test_national_id_from_another_province_is_accepted_for_a_phu_quoc_resident():
    # Born in Hà Nội (001), living in Phú Quốc: the province is where the birth was registered.
    assert validate_national_id("001085009876", date_of_birth=dt.date(1985, 1, 1), today=TODAY) == []


def test_national_id_typed_in_groups_is_accepted():
    assert validate_national_id("091 090 123 456", today=TODAY) == []
    assert parse_national_id(" 091090123456 ").number == KIEN_GIANG_1990_MALE


@pytest.mark.parametrize("value", ["09109012345", "0910901234567", "123456789", ""])
def test_national_id_of_wrong_length_is_refused(value):
    violations = validate_national_id(value, today=TODAY)

    assert codes(violations) == [IdentityRuleCode.NATIONAL_ID_LENGTH]
    assert violations[0].field == "national_id"
    assert "12" in violations[0].message_en
    assert "12 chữ số" in violations[0].message_vi


@pytest.mark.parametrize(
    "value", ["09109012345A", "091-090-123456", "O91090123456", "０９１０９０１２３４５６"]
)
def test_national_id_with_other_characters_than_digits_is_refused(value):
    assert codes(validate_national_id(value, today=TODAY)) == [IdentityRuleCode.NATIONAL_ID_NOT_DIGITS]


@pytest.mark.parametrize("value", ["003090123456", "099090123456", "000090123456"])
def test_national_id_with_unknown_province_code_is_refused(value):
    violations = validate_national_id(value, today=TODAY)

    assert codes(violations) == [IdentityRuleCode.NATIONAL_ID_UNKNOWN_PROVINCE]
    assert value[:3] in violations[0].message_en
    assert "mã tỉnh" in violations[0].message_vi


def test_parse_national_id_raises_with_the_violations():
    with pytest.raises(InvalidNationalId) as raised:
        parse_national_id("099090123456")

    assert codes(raised.value.violations) == [IdentityRuleCode.NATIONAL_ID_UNKNOWN_PROVINCE]


def test_century_digit_contradicting_the_date_of_birth_is_refused():
    # G=0 means 1900s; a 2005 birth needs G=2 or 3.
    violations = validate_national_id("091005123456", date_of_birth=dt.date(2005, 3, 1), today=TODAY)

    assert codes(violations) == [IdentityRuleCode.NATIONAL_ID_CENTURY_MISMATCH]
    assert "1900" in violations[0].message_en


def test_year_digits_contradicting_the_date_of_birth_are_refused():
    violations = validate_national_id(KIEN_GIANG_1990_MALE, date_of_birth=dt.date(1991, 1, 2), today=TODAY)

    assert codes(violations) == [IdentityRuleCode.NATIONAL_ID_YEAR_MISMATCH]


@pytest.mark.parametrize(
    ("value", "sex"), [(KIEN_GIANG_1990_MALE, Sex.FEMALE), (AN_GIANG_2001_FEMALE, "MALE")]
)
def test_century_digit_contradicting_the_sex_is_refused(value, sex):
    violations = validate_national_id(value, sex=sex, today=TODAY)

    assert codes(violations) == [IdentityRuleCode.NATIONAL_ID_SEX_MISMATCH]
    assert "giới tính" in violations[0].message_vi


@pytest.mark.parametrize("value", ["091230123456", "091400123456"])
def test_birth_year_in_the_future_is_refused(value):
    # 2030 (G=2, YY=30) and 2100 (G=4, YY=00) are both after 2025.
    assert codes(validate_national_id(value, today=TODAY)) == [IdentityRuleCode.NATIONAL_ID_FUTURE_BIRTH]


def test_birth_year_of_this_year_is_accepted():
    assert validate_national_id("091225123456", date_of_birth=dt.date(2025, 6, 1), today=TODAY) == []


def test_date_of_birth_in_the_future_is_reported_on_its_own_field():
    violations = validate_national_id(KIEN_GIANG_1990_MALE, date_of_birth=dt.date(2026, 1, 1), today=TODAY)

    assert codes(violations) == [IdentityRuleCode.DATE_OF_BIRTH_INVALID]
    assert violations[0].field == "date_of_birth"


def test_validate_date_of_birth():
    assert validate_date_of_birth(dt.date(1990, 1, 1), today=TODAY) == []
    assert codes(validate_date_of_birth(dt.date(2025, 7, 2), today=TODAY)) == [
        IdentityRuleCode.DATE_OF_BIRTH_INVALID
    ]
    assert codes(validate_date_of_birth(dt.date(1890, 1, 1), today=TODAY)) == [
        IdentityRuleCode.DATE_OF_BIRTH_INVALID
    ]


def test_violation_becomes_a_field_error_with_both_languages():
    violation = validate_national_id("12345", today=TODAY)[0]

    assert violation.to_field_error() == FieldError(
        code="NATIONAL_ID_LENGTH",
        message=violation.message_en,
        field="national_id",
        message_vi=violation.message_vi,
    )


def test_province_code_table_has_the_63_pre_2025_provinces():
    table = cccd_province_codes()

    assert len(table) == 63
    assert table["001"] == "Thành phố Hà Nội"
    assert table["089"] == "Tỉnh An Giang"
    assert table["091"] == "Tỉnh Kiên Giang"
    assert table["096"] == "Tỉnh Cà Mau"
    assert all(len(code) == 3 and code.isdigit() for code in table)


# --- Tax code ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "compact"),
    [("0100109106", "0100109106"), ("0100109106-001", "0100109106001"), (" 0100109106 ", "0100109106")],
)
def test_valid_tax_code_is_returned_compact(value, compact):
    checked = validate_tax_code(value)

    assert checked.ok
    assert checked.value == compact


@pytest.mark.parametrize("value", ["0100109107", "010010910", "01001091061", "ABCDEFGHIJ", ""])
def test_invalid_tax_code_is_refused(value):
    checked = validate_tax_code(value)

    assert checked.value is None
    assert codes(checked.violations) == [IdentityRuleCode.TAX_CODE_INVALID]
    assert "Mã số thuế" in checked.violations[0].message_vi


# --- Phone ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "0912345678",
        "+84912345678",
        "+84 91 234 5678",
        "091.234.5678",
        "0912-345-678",
        "84912345678",
        "+840912345678",
    ],
)
def test_mobile_number_forms_normalise_to_e164(value):
    assert normalise_phone(value).value == "+84912345678"


@pytest.mark.parametrize("value", ["0321234567", "0561234567", "0771234567", "0881234567"])
def test_every_mobile_range_is_accepted(value):
    assert normalise_phone(value).value == "+84" + value[1:]


@pytest.mark.parametrize(
    "value",
    ["02973846123", "0212345678", "091234567", "09123456789", "+1 912 345 678", "phone", "", "0612345678"],
)
def test_non_mobile_or_malformed_number_is_refused(value):
    checked = normalise_phone(value)

    assert checked.value is None
    assert codes(checked.violations) == [IdentityRuleCode.PHONE_INVALID]


# --- Password ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["correct horse battery staple", "Biển Phú Quốc 2025", "tr4m-an-ninh"])
def test_long_mixed_password_is_accepted(value):
    assert validate_password(value) == []


def test_short_password_is_refused():
    assert codes(validate_password("Ab1!xyz")) == [IdentityRuleCode.PASSWORD_TOO_SHORT]


def test_overlong_password_is_refused():
    assert codes(validate_password("ab1 " * 100)) == [IdentityRuleCode.PASSWORD_TOO_LONG]


@pytest.mark.parametrize(
    "value",
    ["1234567890", "aaaaaaaaaaaa", "correcthorsebatterystaple", "!!!!!!!!!!!!", "Password123", "MATKHAU123"],
)
def test_one_class_or_common_password_is_refused(value):
    assert codes(validate_password(value)) == [IdentityRuleCode.PASSWORD_TOO_WEAK]


def test_password_holding_the_citizen_id_or_phone_is_refused():
    assert codes(validate_password(f"{KIEN_GIANG_1990_MALE}abc", national_id=KIEN_GIANG_1990_MALE)) == [
        IdentityRuleCode.PASSWORD_TOO_WEAK
    ]
    assert codes(validate_password("so 0912345678 nha", phone="+84912345678")) == [
        IdentityRuleCode.PASSWORD_TOO_WEAK
    ]
    assert validate_password("so 0912345678 nha", phone="+84987654321") == []


# --- Full name and e-mail ------------------------------------------------------------------------


def test_full_name_is_trimmed_collapsed_and_capitalised_keeping_diacritics():
    assert normalise_full_name("  nguyễn   văn  an ").value == "Nguyễn Văn An"
    assert normalise_full_name("NGUYỄN THỊ MINH KHAI").value == "Nguyễn Thị Minh Khai"


def test_full_name_in_decomposed_unicode_is_stored_composed():
    decomposed = unicodedata.normalize("NFD", "Trần Thị Ngọc Hường")

    value = normalise_full_name(decomposed).value

    assert value == unicodedata.normalize("NFC", "Trần Thị Ngọc Hường")
    assert len(value) == len("Trần Thị Ngọc Hường")


def test_full_name_in_mixed_case_keeps_the_holders_casing():
    assert normalise_full_name("Lê Thị McKay").value == "Lê Thị McKay"


def test_full_name_with_typographic_apostrophe_is_accepted():
    assert normalise_full_name("H’Hen Niê").value == "H'Hen Niê"


@pytest.mark.parametrize("value", ["A", "   ", "Nguyễn Văn 2", "Nguyễn_Văn_An", "--", "a" * 101, "An@"])
def test_invalid_full_name_is_refused(value):
    checked = normalise_full_name(value)

    assert checked.value is None
    assert codes(checked.violations) == [IdentityRuleCode.FULL_NAME_INVALID]


def test_email_domain_is_lower_cased_and_shape_checked():
    assert normalise_email(" An.Nguyen@PhuQuoc.GOV.vn ").value == "An.Nguyen@phuquoc.gov.vn"
    for bad in ["an@", "an nguyen@example.vn", "an@example", "@example.vn", ""]:
        assert codes(normalise_email(bad).violations) == [IdentityRuleCode.EMAIL_INVALID]


# --- Administrative units ------------------------------------------------------------------------


def life_edges(unit: AdministrativeUnit) -> list[dt.date]:
    """The first and last day of a unit's life that the table knows (today for units still in force)."""
    return [day for day in (unit.valid_from, unit.valid_to or TODAY) if day is not None]


def test_unit_table_loads_typed_units_once():
    units = administrative_units()

    assert units is administrative_units()
    assert all(isinstance(u, AdministrativeUnit) and isinstance(u.level, UnitLevel) for u in units)


def test_validity_dates_are_ordered():
    for unit in administrative_units():
        if unit.valid_from is not None and unit.valid_to is not None:
            assert unit.valid_from < unit.valid_to, unit.code


def test_no_two_units_share_a_code():
    codes_in_table = [u.code for u in administrative_units()]

    assert len(codes_in_table) == len(set(codes_in_table))


def test_no_two_units_share_an_official_code_on_the_same_day():
    units = administrative_units()
    edges = {day + dt.timedelta(days=shift) for u in units for day in life_edges(u) for shift in (-1, 0, 1)}
    for day in edges:
        official = [u.official_code for u in units if unit_valid_on(u, day)]
        assert len(official) == len(set(official)), day


def test_local_codes_are_marked_and_derived_from_the_official_code():
    for unit in administrative_units():
        if unit.code != unit.official_code:
            assert unit.code == f"{unit.official_code}@{unit.valid_to.isoformat()}"
            assert unit.code_note and unit.code_note.startswith("Local code")


def test_every_parent_code_exists_and_is_valid_while_the_child_is():
    rank = {UnitLevel.PROVINCE: 0, UnitLevel.DISTRICT: 1}
    for unit in administrative_units():
        if unit.parent_code is None:
            assert unit.level is UnitLevel.PROVINCE, unit.code
            continue
        parent = parent_unit(unit)
        assert parent is not None, unit.code
        assert rank[parent.level] < rank.get(unit.level, 2), (unit.code, parent.code)
        # parent_code is the parent on the child's last day, and on its first day when the table knows it.
        assert all(unit_valid_on(parent, day) for day in life_edges(unit)), (unit.code, parent.code)


def test_no_district_level_unit_exists_after_the_reform():
    districts = [u.code for u in administrative_units() if u.level is UnitLevel.DISTRICT]

    assert districts
    assert [c for c in districts if unit_valid_on(unit_by_code(c), REFORM_DAY)] == []


def test_phu_quoc_special_zone_is_valid_from_the_reform_day():
    special_zone = unit_by_code("31078")

    assert special_zone.name == "Đặc khu Phú Quốc"
    assert special_zone.level is UnitLevel.SPECIAL_ZONE
    assert unit_valid_on(special_zone, REFORM_DAY)
    assert not unit_valid_on(special_zone, LAST_OLD_DAY)
    assert parent_unit(special_zone).name == "Tỉnh An Giang"


def test_phu_quoc_city_ends_the_day_before_the_reform():
    city = unit_by_code("911")

    assert city.name == "Thành phố Phú Quốc"
    assert unit_valid_on(city, LAST_OLD_DAY)
    assert not unit_valid_on(city, REFORM_DAY)
    assert parent_unit(city).name == "Tỉnh Kiên Giang"


def test_an_official_code_means_different_units_before_and_after_the_reform():
    assert find_unit("91", on=LAST_OLD_DAY).name == "Tỉnh Kiên Giang"
    assert find_unit("91", on=REFORM_DAY).name == "Tỉnh An Giang"
    assert find_unit("31105", on=LAST_OLD_DAY).name == "Xã Thổ Châu"
    assert find_unit("31105", on=REFORM_DAY).name == "Đặc khu Thổ Châu"
    assert find_unit("89", on=REFORM_DAY) is None


def test_every_ended_unit_with_successors_points_to_units_valid_the_next_day():
    for unit in administrative_units():
        if not unit.successor_codes:
            continue
        assert unit.valid_to is not None, unit.code
        successors = successor_units(unit)
        assert len(successors) == len(unit.successor_codes), unit.code
        assert all(unit_valid_on(s, unit.valid_to + dt.timedelta(days=1)) for s in successors), unit.code


def test_every_unit_ended_by_the_reform_has_a_successor_valid_on_the_reform_day():
    ended = [u for u in administrative_units() if u.valid_to == LAST_OLD_DAY]

    assert len(ended) == 13
    for unit in ended:
        successors = successor_units(unit)
        assert successors, unit.code
        assert all(unit_valid_on(s, REFORM_DAY) for s in successors), unit.code


def test_phu_quoc_city_wards_and_communes_merge_into_the_special_zones():
    merged = {
        u.name: [s.name for s in successor_units(u)] for u in administrative_units() if u.parent_code == "911"
    }

    assert merged == {
        "Phường Dương Đông": ["Đặc khu Phú Quốc"],
        "Phường An Thới": ["Đặc khu Phú Quốc"],
        "Xã Bãi Thơm": ["Đặc khu Phú Quốc"],
        "Xã Cửa Cạn": ["Đặc khu Phú Quốc"],
        "Xã Cửa Dương": ["Đặc khu Phú Quốc"],
        "Xã Dương Tơ": ["Đặc khu Phú Quốc"],
        "Xã Gành Dầu": ["Đặc khu Phú Quốc"],
        "Xã Hàm Ninh": ["Đặc khu Phú Quốc"],
        "Xã Thổ Châu": ["Đặc khu Thổ Châu"],
    }


def test_an_giang_has_its_three_special_zones_after_the_reform():
    zones = sorted(
        u.name
        for u in administrative_units()
        if u.level is UnitLevel.SPECIAL_ZONE and unit_valid_on(u, TODAY)
    )

    assert zones == ["Đặc khu Kiên Hải", "Đặc khu Phú Quốc", "Đặc khu Thổ Châu"]


def test_both_former_provinces_merge_into_an_giang():
    successors = {
        u.name: [s.code for s in successor_units(u)]
        for u in administrative_units()
        if u.level is UnitLevel.PROVINCE and u.valid_to
    }

    assert successors == {"Tỉnh Kiên Giang": ["91"], "Tỉnh An Giang": ["91"]}


def test_a_remembered_access_token_is_still_refused_once_it_expires() -> None:
    # given: a token that expires within two seconds, read (and so remembered) while valid
    from api.identity import tokens

    secret = "s" * 40
    now = dt.datetime.now(dt.UTC)
    token, _ = tokens.issue_access_token(secret, account_id=7, session_id="abc", roles=["citizen"], attributes={},
                                         ttl_seconds=2, now=now)
    assert tokens.read_access_token(secret, token).account_id == 7
    assert tokens.read_access_token(secret, token).account_id == 7  # from memory
    # when: its expiry (whole seconds in the token) passes
    time.sleep(int(now.timestamp()) + 2 - time.time() + 0.05)
    # then: expired, whether remembered or not; and a token signed with another secret is not taken for it
    with pytest.raises(tokens.TokenInvalid, match="expired"):
        tokens.read_access_token(secret, token)
    other, _ = tokens.issue_access_token(secret, account_id=7, session_id="abc", roles=["citizen"], attributes={},
                                         ttl_seconds=60, now=dt.datetime.now(dt.UTC))
    tokens.read_access_token(secret, other)
    with pytest.raises(tokens.TokenInvalid):
        tokens.read_access_token("x" * 40, other)

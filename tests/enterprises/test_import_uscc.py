from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from enterprises.importing.normalise import USCC_ALPHABET, uscc_is_valid

BODY = st.text(alphabet="0123456789", min_size=8, max_size=8).flatmap(
    lambda head: st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9).map(lambda t: head + t)
)


@settings(max_examples=2000)
@given(BODY)
def test_fast_check_accepts_what_stdnum_accepts(body):
    code = body + stdnum_uscc.calc_check_digit(body)
    assert stdnum_uscc.is_valid(code)
    assert uscc_is_valid(code)


@settings(max_examples=2000)
@given(BODY, st.sampled_from(USCC_ALPHABET))
def test_fast_check_agrees_with_stdnum_on_any_check_character(body, check):
    code = body + check
    assert uscc_is_valid(code) == stdnum_uscc.is_valid(code)


@settings(max_examples=3000)
@given(st.text(alphabet=USCC_ALPHABET + "IOSVZ-a ", min_size=16, max_size=19))
def test_fast_check_agrees_with_stdnum_on_arbitrary_strings(code):
    # The fast check takes a cleaned, upper-case code, as the importer gives it.
    if code != code.upper() or " " in code or "-" in code:
        return
    assert uscc_is_valid(code) == stdnum_uscc.is_valid(code)


@settings(max_examples=1000)
@given(BODY, st.integers(min_value=0, max_value=16), st.sampled_from(USCC_ALPHABET))
def test_a_changed_character_is_judged_like_stdnum(body, position, replacement):
    code = body + stdnum_uscc.calc_check_digit(body)
    changed = code[:position] + replacement + code[position + 1 :]
    assert uscc_is_valid(changed) == stdnum_uscc.is_valid(changed)

"""The similarity measure behind the nudge: share still the template, and copying between writers."""
from crm.campaigns.similarity import measure

TEMPLATE = "Dear Sir, please bring all hospital services back in house so every worker is treated the same. Yours"


def test_an_untouched_letter_is_all_template():
    assert measure(TEMPLATE, TEMPLATE).template_pct == 100


def test_own_words_lower_the_template_share():
    letter = TEMPLATE + " I have cleaned wards at this hospital for twelve years and lost my sick pay when we were outsourced."
    result = measure(letter, TEMPLATE)
    assert 30 < result.template_pct < 60 and result.own_words >= 15


def test_copying_another_letters_own_words_is_noticed_but_the_template_is_not_copying():
    own = " I have cleaned wards at this hospital for twelve years and lost my sick pay."
    other = TEMPLATE + own
    assert measure(TEMPLATE + own, TEMPLATE, [other]).copied_pct == 100
    assert measure(TEMPLATE, TEMPLATE, [TEMPLATE]).copied_pct == 0
    assert measure(TEMPLATE + " My own story is quite different from anybody else's here.", TEMPLATE, [other]).copied_pct == 0

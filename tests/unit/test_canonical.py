"""RFC 8785 canonical JSON, checked against the examples printed in the RFC."""

from __future__ import annotations

import json
import struct

import pytest

from replay.canonical import canonical_json


def test_the_rfc_sorting_example_orders_names_by_utf16_code_units() -> None:
    """RFC 8785 §3.2.3: U+1F600 (D83D DE00) sorts before U+FB33, and U+0080 after "1"."""
    source = (
        '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh",'
        ' "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control",'
        ' "\\u00f6": "Latin Small Letter O With Diaeresis"}'
    )
    values = list(json.loads(canonical_json(json.loads(source))).values())
    assert values == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]


def test_the_rfc_serialisation_example() -> None:
    """RFC 8785 §3.2.2: numbers in ECMAScript form, minimal string escapes, no whitespace."""
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(json.loads(source)) == expected.encode("utf-8")


# RFC 8785 Appendix B: IEEE 754 bit patterns and their ECMAScript text.
NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "text"), NUMBERS)
def test_the_rfc_number_examples(bits: str, text: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    assert canonical_json(value) == text.encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_the_infinities_are_refused(bits: str) -> None:
    with pytest.raises(ValueError):
        canonical_json(struct.unpack(">d", bytes.fromhex(bits))[0])


def test_escapes_are_minimal_and_text_stays_utf8() -> None:
    value = {"b": '\b\t\n\f\r\x01\x1f\x7f\u2028"\\/', "a": "课后服务 😀"}
    assert canonical_json(value) == '{"a":"课后服务 😀","b":"\\b\\t\\n\\f\\r\\u0001\\u001f\x7f\u2028\\"\\\\/"}'.encode()


def test_integers_booleans_and_nesting() -> None:
    value = {"z": [1, -2, 0, True, False, None, {"y": 2**53, "x": []}], "n": 10**21}
    assert (
        canonical_json(value)
        == b'{"n":1000000000000000000000,"z":[1,-2,0,true,false,null,{"x":[],"y":9007199254740992}]}'
    )


@pytest.mark.parametrize("bad", [{"s": "\ud800"}, {1: "x"}, {"d": b"bytes"}, {"t": {1, 2}}])
def test_what_json_cannot_hold_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        canonical_json(bad)

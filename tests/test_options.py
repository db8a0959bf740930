"""The Accelerator's option typing: defaults, checking, errors and the canonical reuse form.

Ported from the Accelerator's a_test_optionenum, a_test_datetime, a_test_path,
a_test_jobwithfile and a_test_options_dict_order, plus the rules of deptree._fix_options.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path, PurePath, PurePosixPath

import pytest

from accnb.errors import MethodError, OptionError
from accnb.options import (
    DotDict,
    JobWithFile,
    OptionDefault,
    OptionEnum,
    OptionString,
    RequiredOption,
    canonical,
    check_options,
    defaults,
    required,
)


def check(spec: dict, **given) -> DotDict:
    return check_options("thumbnailer", spec, given)


def error(spec: dict, **given) -> str:
    with pytest.raises(OptionError) as info:
        check_options("thumbnailer", spec, given)
    return str(info.value)


# The enums of the Accelerator's a_test_optionenum.
abcd = OptionEnum("a b c d", none_ok=True)
efgh = OptionEnum(chr(n) for n in range(101, 105))
ijkl = OptionEnum(list("ijkl"), none_ok=True)
mn_star_op = OptionEnum("m n* o p")
q_star_r_star_st = OptionEnum("q* r* s t")
uni = OptionEnum("b l ä")
ENUM_SPEC = {
    "abcd": abcd,
    "efgh": efgh.g,
    "ijkl": ijkl["k"],
    "mnSTARop": mn_star_op.m,
    "qSTARrSTARst": q_star_r_star_st["quu"],
    "uni": uni.b,
    "dict": {"ijkl": ijkl},
    "list": [mn_star_op.o],
}


# DotDict


def test_dotdict_reads_and_writes_items_as_attributes():
    d = DotDict(a=1)
    d.b = 2
    assert (d.a, d["b"]) == (1, 2)


def test_dotdict_missing_attribute_is_attribute_error():
    assert getattr(DotDict(), "missing", "fallback") == "fallback"


def test_dotdict_underscore_names_are_not_items():
    d = DotDict()
    with pytest.raises(AttributeError):
        d._private = 1
    assert "_private" not in d


def test_dotdict_pickles_as_dotdict():
    d = pickle.loads(pickle.dumps(DotDict(a=DotDict(b=1))))
    assert type(d) is DotDict and d.a.b == 1


# JobWithFile


def test_jobwithfile_defaults_to_unsliced_without_extra():
    assert JobWithFile("w-1", "data") == ("w-1", "data", False, None)


def test_jobwithfile_jobid_of_a_job_id_string():
    assert JobWithFile("w-1", "data").jobid == "w-1"


def test_jobwithfile_jobid_of_a_job_object():
    class FakeJob:
        jobid = "w-7"

    assert JobWithFile(FakeJob(), "data").jobid == "w-7"


def test_jobwithfile_pickles_as_jobwithfile():
    jwf = pickle.loads(pickle.dumps(JobWithFile("w-1", "data", True, {"x": 1})))
    assert type(jwf) is JobWithFile and jwf.extra == {"x": 1} and jwf.sliced


# OptionEnum as a value


def test_optionenum_members_are_strings_equal_to_their_names():
    assert efgh.g == "g" and efgh["g"] == efgh.g


def test_optionenum_wildcard_members_only_by_index():
    assert mn_star_op["nah"] == "nah"
    with pytest.raises(KeyError):
        mn_star_op["abc"]


def test_optionenum_unknown_attribute_is_attribute_error():
    assert not hasattr(efgh, "z")


def test_optionenum_and_members_pickle():
    enum = pickle.loads(pickle.dumps(mn_star_op))
    member = pickle.loads(pickle.dumps(mn_star_op.m))
    assert enum["nope"] == "nope" and member == "m"
    assert check({"x": member}, x="nx") == {"x": "nx"}


def test_optionenum_accepts_comma_separated_values():
    assert check({"x": OptionEnum("a,b, c").a}, x="c") == {"x": "c"}


# OptionEnum as a spec (a_test_optionenum)


def test_optionenum_spec_defaults():
    want = {
        "abcd": None,
        "efgh": "g",
        "ijkl": "k",
        "mnSTARop": "m",
        "qSTARrSTARst": "quu",
        "uni": "b",
        "dict": {},
        "list": ["o"],
    }
    assert defaults(ENUM_SPEC) == want


@pytest.mark.parametrize(
    "given",
    [
        dict(abcd="a", efgh="h"),
        dict(ijkl="j", efgh="e"),
        dict(uni="ä"),
        dict(ijkl=None, dict=dict(foo="j")),
        dict(mnSTARop="p", qSTARrSTARst="qwe", ijkl="k"),
        dict(mnSTARop="nah", qSTARrSTARst="really good value\n"),
        dict(list=["noo"]),
    ],
)
def test_optionenum_permitted_values_build(given):
    options = check(ENUM_SPEC, **given)
    assert {k: options[k] for k in given} == given


@pytest.mark.parametrize(
    "given, path",
    [
        (dict(abcd="A"), "abcd"),
        (dict(efgh="a"), "efgh"),
        (dict(qSTARrSTARst="sdf"), "qSTARrSTARst"),
        (dict(mnSTARop=None), "mnSTARop"),
        (dict(ijkl=None, dict=dict(foo="b")), "dict[foo]"),
        (dict(list=["moo"]), "list[0]"),
    ],
)
def test_optionenum_other_values_do_not_build(given, path):
    assert f"option '{path}' must be one of" in error(ENUM_SPEC, **given)


def test_optionenum_error_lists_the_permitted_values():
    message = error({"x": mn_star_op.m}, x="q")
    assert message == (
        "thumbnailer: option 'x' must be one of 'm', 'o', 'p' or a str starting with 'n', "
        "got 'q' (str)"
    )


def test_optionenum_value_is_a_plain_str():
    assert type(check({"x": efgh.g}, x="h").x) is str


def test_optionenum_without_none_ok_is_required():
    assert required({"x": efgh, "y": abcd}) == {"x"}


def test_optionenum_empty_string_means_none_when_none_ok():
    assert check({"x": abcd}, x="") == {"x": None}


# Values as specs: the given value converts to the default's type


def test_int_default_converts_a_numeric_str():
    assert check({"quality": 75}, quality="80") == {"quality": 80}


def test_int_default_rejects_a_non_numeric_str():
    message = error({"quality": 75}, quality="high")
    assert message == "thumbnailer: option 'quality' must be int, got 'high' (str)"


def test_int_default_takes_a_whole_float():
    value = check({"quality": 75}, quality=80.0).quality
    assert value == 80 and type(value) is int


def test_int_default_rejects_a_fraction():
    assert "must be int, got 2.5 (float)" in error({"quality": 75}, quality=2.5)


def test_float_default_takes_an_int_as_float():
    value = check({"scale": 1.0}, scale=2).scale
    assert value == 2.0 and type(value) is float


def test_float_default_converts_a_numeric_str():
    assert check({"scale": 1.0}, scale="2.5") == {"scale": 2.5}


def test_str_default_converts_a_number():
    assert check({"name": "x"}, name=3) == {"name": "3"}


def test_str_default_rejects_a_list():
    assert "must be str, got ['a'] (list)" in error({"name": "x"}, name=["a"])


@pytest.mark.parametrize("text, value", [("yes", True), ("off", False), ("T", True), (0, False)])
def test_bool_default_parses_the_accelerators_words(text, value):
    assert check({"flag": False}, flag=text) == {"flag": value}


def test_bool_default_rejects_other_words():
    assert "option 'flag' must be bool" in error({"flag": False}, flag="maybe")


def test_none_is_accepted_for_a_plain_spec():
    assert check({"quality": 75}, quality=None) == {"quality": None}


# Types as specs: the value must already be of that type, as in the Accelerator


def test_int_type_takes_an_int():
    assert check({"quality": int}, quality=80) == {"quality": 80}


def test_int_type_rejects_a_numeric_str():
    assert error({"quality": int}, quality="80").endswith("must be int, got '80' (str)")


def test_int_type_defaults_to_none():
    assert defaults({"quality": int}) == {"quality": None}


def test_float_type_takes_an_int_as_float():
    value = check({"scale": float}, scale=2).scale
    assert value == 2.0 and type(value) is float


def test_str_type_rejects_an_int():
    assert "must be str, got 3 (int)" in error({"name": str}, name=3)


def test_bool_type_rejects_a_word():
    assert "must be bool" in error({"flag": bool}, flag="yes")


def test_dict_type_takes_any_dict_as_dotdict():
    value = check({"meta": dict}, meta={"a": [1, (2, 3)]}).meta
    assert type(value) is DotDict and value == {"a": [1, [2, 3]]}


# OptionString


def test_optionstring_is_required():
    assert error({"directory": OptionString}) == "thumbnailer: option 'directory' is required"


def test_optionstring_with_an_example_is_required_too():
    assert required({"directory": OptionString("photos")}) == {"directory"}


def test_optionstring_rejects_the_empty_string():
    message = error({"directory": OptionString}, directory="")
    assert message == "thumbnailer: option 'directory' must be a non-empty str, got '' (str)"


def test_optionstring_rejects_none():
    message = error({"directory": OptionString}, directory=None)
    assert message == "thumbnailer: option 'directory' must be a non-empty str, got None"


def test_optionstring_takes_a_str():
    assert check({"directory": OptionString}, directory="photos") == {"directory": "photos"}


def test_optionstring_repr_names_it():
    assert repr(OptionString) == "OptionString"
    assert repr(OptionString("x")) == "OptionString('x')"


# RequiredOption and OptionDefault


def test_requiredoption_must_be_given():
    assert error({"size": RequiredOption(int)}) == "thumbnailer: option 'size' is required"


def test_requiredoption_rejects_none():
    message = error({"size": RequiredOption(int)}, size=None)
    assert message == "thumbnailer: option 'size' is required, got None"


def test_requiredoption_none_ok_takes_none():
    assert check({"size": RequiredOption(int, none_ok=True)}, size=None) == {"size": None}


def test_requiredoption_checks_its_spec():
    assert "must be int" in error({"size": RequiredOption(int)}, size="big")


def test_several_missing_options_are_named_together():
    message = error({"a": OptionString, "b": RequiredOption(3), "c": 1})
    assert message == "thumbnailer: options 'a', 'b' are required"


def test_optiondefault_fills_its_default():
    spec = {"mode": OptionDefault({"fast": efgh}, {"fast": "e"})}
    assert check(spec) == {"mode": {"fast": "e"}}


def test_optiondefault_takes_none_as_its_default():
    assert check({"n": OptionDefault(int, 5)}, n=None) == {"n": 5}


def test_optiondefault_checks_given_values():
    spec = {"mode": OptionDefault({"fast": efgh}, {"fast": "e"})}
    assert "option 'mode[fast]' must be one of" in error(spec, mode={"fast": "z"})


def test_optiondefault_makes_a_required_spec_optional():
    assert required({"mode": OptionDefault({"fast": efgh})}) == set()


# Containers


def test_list_spec_converts_each_element():
    assert check({"size": (256, 256)}, size=["3", 4.0]) == {"size": [3, 4]}


def test_list_spec_error_names_the_element():
    message = error({"size": (256, 256)}, size=(256, "big"))
    assert message == "thumbnailer: option 'size[1]' must be int, got 'big' (str)"


def test_list_spec_of_a_type_defaults_to_empty():
    assert defaults({"size": [int]}) == {"size": []}


def test_tuple_spec_default_is_a_list():
    assert defaults({"size": (256, 256)}) == {"size": [256, 256]}


def test_given_tuple_becomes_a_list():
    assert check({"size": (256, 256)}, size=(1, 2)).size == [1, 2]


def test_list_spec_splits_a_comma_separated_str():
    assert check({"names": [str]}, names="a, b,c") == {"names": ["a", "b", "c"]}


def test_list_spec_rejects_a_dict():
    assert "option 'names' must be a list" in error({"names": [str]}, names={"a": 1})


def test_set_given_to_a_list_spec_is_sorted():
    assert check({"names": [str]}, names={"c", "a", "b"}) == {"names": ["a", "b", "c"]}


def test_set_spec_makes_a_set():
    assert check({"tags": {str}}, tags=["a", "b", "a"]) == {"tags": {"a", "b"}}


def test_set_spec_of_a_type_defaults_to_empty():
    assert defaults({"tags": {str}}) == {"tags": set()}


def test_dict_spec_converts_values():
    assert check({"limits": {"height": 0}}, limits={"width": "3"}) == {"limits": {"width": 3}}


def test_dict_spec_error_names_the_key():
    message = error({"limits": {str: int}}, limits={"width": "wide"})
    assert message == "thumbnailer: option 'limits[width]' must be int, got 'wide' (str)"


def test_dict_spec_checks_key_types():
    assert "option 'limits' must have str keys, got 1 (int)" in error(
        {"limits": {str: int}}, limits={1: 2}
    )


def test_dict_spec_of_types_defaults_to_empty():
    assert defaults({"limits": {str: int}}) == {"limits": {}}


def test_dict_spec_with_values_defaults_to_them():
    assert defaults({"limits": {"a": 1, "b": 2}}) == {"limits": {"a": 1, "b": 2}}


def test_nested_dicts_are_dotdicts():
    options = check({"outer": {str: {str: int}}}, outer={"inner": {"n": 1}})
    assert options.outer.inner.n == 1


@pytest.mark.parametrize("key_order", [["a", "c", "b", "z", "d", "inner"], ["foo", "bar", "aaa"]])
def test_dicts_keep_their_order_in_two_levels(key_order):
    given = dict.fromkeys(key_order, 0)
    given["inner"] = dict.fromkeys(key_order, 1)
    options = check({"dict": {}}, dict=given)
    assert list(options.dict) == list(given) and list(options.dict.inner) == key_order


def test_nested_required_marker_makes_the_option_required():
    assert required({"modes": [efgh], "names": {str: OptionString}}) == {"modes", "names"}


def test_empty_list_spec_takes_any_json_like_values():
    value = check({"x": []}, x=[1, "a", None, {"b": (2,)}, date(2020, 1, 2)]).x
    assert value == [1, "a", None, {"b": [2]}, date(2020, 1, 2)]


def test_any_spec_rejects_other_objects():
    message = error({"x": None}, x=[object()])
    assert message.startswith("thumbnailer: option 'x[0]' must be None, bool, int, float, str")


def test_mutable_defaults_are_fresh_for_every_build():
    spec = {"size": (256, 256), "limits": {"a": [1]}}
    first = check(spec)
    first.size.append(3)
    first.limits.a.append(2)
    assert check(spec) == {"size": [256, 256], "limits": {"a": [1]}}


def test_given_containers_are_copied():
    given = [1, 2]
    options = check({"size": [int]}, size=given)
    given.append(3)
    assert options.size == [1, 2]


# Dates, times and paths (a_test_datetime, a_test_path)


def test_date_types_keep_given_objects():
    spec = {"datetime": datetime, "time": time, "date": date, "timedelta": timedelta}
    given = dict(
        datetime=datetime(2019, 11, 6, 17, 37, 2, 987654),
        time=time(17, 37, 2, 987654),
        date=date(2019, 11, 6),
        timedelta=timedelta(microseconds=987654),
    )
    assert check(spec, **given) == given


@pytest.mark.parametrize(
    "spec, text, value",
    [
        (date, "2019-11-06", date(2019, 11, 6)),
        (datetime, "2019-11-06T17:37:02.5", datetime(2019, 11, 6, 17, 37, 2, 500000)),
        (time, "17:37:02", time(17, 37, 2)),
        (timedelta, "1 day, 2:03:04.5", timedelta(days=1, hours=2, minutes=3, seconds=4.5)),
        (timedelta, str(timedelta(days=-2, seconds=5)), timedelta(days=-2, seconds=5)),
    ],
)
def test_date_types_parse_strings(spec, text, value):
    assert check({"when": spec}, when=text) == {"when": value}


def test_timedelta_takes_seconds():
    assert check({"wait": timedelta}, wait=90) == {"wait": timedelta(seconds=90)}


def test_date_spec_keeps_the_date_of_a_datetime():
    value = check({"when": date}, when=datetime(2019, 11, 6, 17, 0)).when
    assert value == date(2019, 11, 6) and type(value) is date


def test_datetime_spec_takes_a_date_as_midnight():
    assert check({"when": datetime}, when=date(2019, 11, 6)).when == datetime(2019, 11, 6)


def test_date_value_is_the_default_and_the_type():
    spec = {"when": date(2020, 1, 1)}
    assert check(spec) == {"when": date(2020, 1, 1)}
    assert check(spec, when="2021-02-03") == {"when": date(2021, 2, 3)}


def test_bad_date_string_is_reported():
    message = error({"when": date}, when="6/11/2019")
    assert message == (
        "thumbnailer: option 'when' must be date (a date or an ISO 8601 str like "
        "'2019-11-06'), got '6/11/2019' (str)"
    )


def test_path_spec_takes_a_str_or_a_path_alike():
    spec = {"plain": Path, "pure": PurePath, "valued": PurePosixPath("valued/pure/posix/path")}
    from_str = check(spec, plain="hello/there", pure="over/here", valued="there")
    from_path = check(spec, plain=Path("hello/there"), pure=Path("over/here"), valued=Path("there"))
    assert from_str == from_path
    assert from_str.plain.parent == Path("hello") and type(from_str.valued) is PurePosixPath


def test_path_value_is_its_default():
    assert defaults({"p": Path("/valued/path")}) == {"p": Path("/valued/path")}


# JobWithFile as a spec (a_test_jobwithfile)


def test_jobwithfile_spec_takes_a_job_and_name_pair():
    assert check({"file": JobWithFile}, file=("w-1", "data")).file == JobWithFile("w-1", "data")


def test_jobwithfile_spec_keeps_a_job_object():
    class FakeJob(str):
        jobid = "w-2"

    job = FakeJob("w-2")
    assert check({"file": JobWithFile}, file=JobWithFile(job, "data", True)).file.job is job


def test_jobwithfile_spec_defaults_to_none():
    assert defaults({"file": JobWithFile}) == {"file": None}


def test_jobwithfile_spec_rejects_an_absolute_name():
    message = error({"file": JobWithFile}, file=("w-1", "/etc/passwd"))
    assert message == (
        "thumbnailer: option 'file.name' must be a file name relative to the job, "
        "got '/etc/passwd' (str)"
    )


def test_jobwithfile_spec_rejects_a_single_value():
    assert "option 'file' must be JobWithFile" in error({"file": JobWithFile}, file="w-1")


def test_jobwithfile_spec_parses_sliced():
    assert check({"file": JobWithFile}, file=("w-1", "data", "yes")).file.sliced is True


# Unknown options and bad specs


def test_unknown_option_suggests_a_close_name():
    message = error({"quality": 75, "size": [int]}, qualty=3)
    assert message == (
        "thumbnailer: unknown option 'qualty' (did you mean 'quality'?); "
        "the options are 'quality', 'size'"
    )


def test_unknown_option_without_a_close_name_lists_the_options():
    message = error({"quality": 75}, colour="red")
    assert message == "thumbnailer: unknown option 'colour'; the options are 'quality'"


def test_unknown_option_of_a_method_without_options():
    assert error({}, x=1) == "thumbnailer: unknown option 'x': thumbnailer takes no options"


def test_spec_of_unsupported_type_is_a_method_error():
    with pytest.raises(MethodError, match="thumbnailer: options spec 'x' is .* not an option spec"):
        check({"x": object()})


def test_spec_mixing_element_types_is_a_method_error():
    with pytest.raises(MethodError, match="'x' mixes 1 and 'a'"):
        check({"x": [1, "a"]})


# The normalised options


def test_options_are_in_sorted_order():
    assert list(check({"b": 1, "c": 2, "a": 3}, c=4)) == ["a", "b", "c"]


def test_normalised_options_pickle():
    spec = {"d": {str: [int]}, "f": JobWithFile, "w": datetime, "t": {str}}
    options = check(spec, d={"a": [1]}, f=("w-1", "x"), w="2020-01-02T03:04", t="a,b")
    again = pickle.loads(pickle.dumps(options))
    assert again == options and type(again.d) is DotDict and type(again.f) is JobWithFile


# canonical


def test_canonical_sorts_keys_at_every_level():
    key = canonical(check({"b": {}, "a": 1}, b={"z": 1, "y": {"d": 1, "c": 2}}))
    assert json.dumps(key) == '{"a": 1, "b": {"y": {"c": 2, "d": 1}, "z": 1}}'


def test_canonical_treats_a_tuple_and_a_list_alike():
    spec = {"size": (256, 256)}
    assert canonical(check(spec, size=(1, 2))) == canonical(check(spec, size=[1, 2]))


def test_canonical_of_the_default_given_explicitly_matches_leaving_it_out():
    spec = {"size": (256, 256), "scale": 1.0, "mode": efgh.g, "when": date(2020, 1, 1)}
    explicit = check(spec, size=[256, 256], scale=1, mode="g", when="2020-01-01")
    assert canonical(explicit) == canonical(check(spec))


def test_canonical_sorts_sets():
    assert canonical(check({"tags": {str}}, tags=["b", "c", "a"])) == {"tags": ["a", "b", "c"]}


def test_canonical_tells_a_date_from_its_str():
    as_date = canonical(check({"x": None}, x=date(2020, 1, 1)))
    as_str = canonical(check({"x": None}, x="2020-01-01"))
    assert as_date == {"x": {"$date": "2020-01-01"}} and as_date != as_str


def test_canonical_tells_date_types_apart():
    spec = {"x": None}
    forms = [date(2020, 1, 1), datetime(2020, 1, 1), timedelta(1), time(1), Path("a")]
    keys = [json.dumps(canonical(check(spec, x=v))) for v in forms]
    assert len(set(keys)) == len(forms)


def test_canonical_jobwithfile_uses_the_job_id():
    class FakeJob:
        jobid = "w-3"

    spec = {"file": JobWithFile}
    by_object = canonical(check(spec, file=(FakeJob(), "data")))
    assert by_object == canonical(check(spec, file=("w-3", "data")))
    assert by_object == {"file": {"$JobWithFile": ["w-3", "data", False, None]}}


def test_canonical_dict_with_int_keys_is_json_able():
    key = canonical(check({"x": {int: str}}, x={2: "b", 1: "a"}))
    assert json.loads(json.dumps(key)) == {"x": {"$dict": [[1, "a"], [2, "b"]]}}


def test_canonical_is_the_same_in_another_process():
    spec = "{'tags': {str}, 'names': [str]}"
    given = "dict(tags=set('abcdefgh'), names=set('ijklmnop'))"
    code = (
        "import json; from accnb.options import canonical, check_options; "
        f"print(json.dumps(canonical(check_options('m', {spec}, {given}))))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": os.pathsep.join(sys.path)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1

# Ported from the Accelerator, https://github.com/eBay/accelerator/blob/master/accelerator/examples/a_example_options.py
# Licensed under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
# exaxorg/accelerator's copy is not in the reference index; this is eBay/accelerator's
# (the same project, before it moved to exaxorg).
# Changed for accnb: nothing (it imports nothing from accelerator).
# Ruff: the Accelerator's style (tabs, % formatting, import order) is kept as written.
# ruff: noqa: W191

from datetime import date
from pprint import pprint

options = dict(
	day1=date(1970, 1, 1),         # reqires a date (or None). Here, a default value is set.
	day2=date,                     # requires a date, will be None if not assigned
	something=None,                # accepts anything (that works in json)
	text='',                       # requires a string (or None).  Here, the empty string is default.
	number=int,                    # requires an int (or None)
	seq=[],                        # reqires a list
	cplx=dict(str=dict(str=str)),  # reqires a dict of string to dict of string to string
)


def synthesis():
	pprint(options)

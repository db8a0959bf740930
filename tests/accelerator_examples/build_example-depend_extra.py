# Ported from the Accelerator, https://github.com/exaxorg/accelerator/blob/master/accelerator/examples/build_example-depend_extra.py
# Licensed under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
# Changed for accnb: nothing (it imports nothing from accelerator).
# Ruff: the Accelerator's style (tabs, % formatting, import order) is kept as written.
# ruff: noqa: I001, W191

from os.path import dirname, join
from .printer import prt

description = "Jobs: depend_extra howto"


def main(urd):
	prt.source(__file__)
	prt()
	prt('The following method shows how to do "depend_extra"')
	job = urd.build('example_dependextra')

	prt()
	prt('The job will be re-built if there are changes to')
	prt('"mydependency.txt" or "mydependency.py.')

	prt()
	prt('source code is here:')
	prt.plain(join(dirname(__file__), f'a_{job.method}.py'))

# Ported from the Accelerator, https://github.com/eBay/accelerator/blob/master/accelerator/examples/a_example_readjobwithfile.py
# Licensed under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
# exaxorg/accelerator's copy is not in the reference index; this is eBay/accelerator's
# (the same project, before it moved to exaxorg).
# Changed for accnb: only the import lines, from accelerator to accnb.
# Ruff: the Accelerator's style (tabs, % formatting, import order) is kept as written.
# ruff: noqa: W191

from accnb.job import JobWithFile

description = 'JobWithFile, read normal and sliced files'

options = dict(firstfile=JobWithFile, secondfile=JobWithFile)


def analysis(sliceno):
	print(options.firstfile.load(sliceno=sliceno))


def synthesis():
	print(options.secondfile.load())

# Ported from the Accelerator, https://github.com/exaxorg/accelerator/blob/master/accelerator/examples/a_example_returninprepanasyn.py
# Licensed under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
# Changed for accnb: nothing (it imports nothing from accelerator).
# Ruff: the Accelerator's style (tabs, % formatting, import order) is kept as written.
# ruff: noqa: W191

description = "prepare, analysis, and synthesis + return values"


def prepare():
	return 'this is prepare'


def analysis(sliceno, prepare_res):
	return f'this is analysis {sliceno!s} with prepare_res={prepare_res}'


def synthesis(analysis_res, prepare_res):
	x = '\n'.join(analysis_res)
	print('analysis_res:', x)
	print('prepare_res:', prepare_res)
	return prepare_res + '   ' + x

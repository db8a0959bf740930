# Ported from the Accelerator, https://github.com/eBay/accelerator/blob/master/accelerator/examples/a_dsexample_iteratechain.py
# Licensed under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
# exaxorg/accelerator's copy is not in the reference index; this is eBay/accelerator's
# (the same project, before it moved to exaxorg).
# Changed for accnb: nothing (it imports nothing from accelerator).
# Ruff: the Accelerator's style (tabs, % formatting, import order) is kept as written.
# ruff: noqa: W191

datasets = ('source',)

description = "Iterate and aggregate data from a chained dataset."


def analysis(sliceno):
	# this is equivalent to just
	# return list(datasets.source.iterate_chain(sliceno, ['Int', 'String']))
	# but written out so you can see what it does.
	v = []
	for n, s in datasets.source.iterate_chain(sliceno, ['Int', 'String']):
		v.append((n, s))
	return v


def synthesis(analysis_res):
	v = analysis_res.merge_auto()
	for item in v:
		print(item)
	return v

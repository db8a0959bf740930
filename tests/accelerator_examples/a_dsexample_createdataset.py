# Ported from the Accelerator, https://github.com/eBay/accelerator/blob/master/accelerator/examples/a_dsexample_createdataset.py
# Licensed under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
# exaxorg/accelerator's copy is not in the reference index; this is eBay/accelerator's
# (the same project, before it moved to exaxorg).
# Changed for accnb: nothing (it imports nothing from accelerator).
# Ruff: the Accelerator's style (tabs, % formatting, import order) is kept as written.
# ruff: noqa: W191

description = "Dataset: Create a dataset with number, string, and json columns."


def prepare(job):
	dw = job.datasetwriter()
	dw.add('Numbercolumn', 'number')
	dw.add('Stringcolumn', 'ascii')
	dw.add('Jsoncolumn', 'json')
	return dw


def analysis(prepare_res, sliceno):
	dw = prepare_res
	data = sliceno + 1000
	dw.write(data, str(data) + '-foo', {'n': data, 's': str(data)})

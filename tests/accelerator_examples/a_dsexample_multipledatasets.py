# Ported from the Accelerator, https://github.com/eBay/accelerator/blob/master/accelerator/examples/a_dsexample_multipledatasets.py
# Licensed under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
# exaxorg/accelerator's copy is not in the reference index; this is eBay/accelerator's
# (the same project, before it moved to exaxorg).
# Changed for accnb: nothing (it imports nothing from accelerator).
# Ruff: the Accelerator's style (tabs, % formatting, import order) is kept as written.
# ruff: noqa: W191

def prepare(job):
	dw1 = job.datasetwriter(name='first')
	dw2 = job.datasetwriter(name='second')
	dw3 = job.datasetwriter(name='third')
	dw1.add('col1', 'int64')
	dw2.add('col1', 'json')
	dw3.add('col1', 'number')
	dw3.add('col2', 'ascii')
	dw3.add('col3', 'bool')
	return dw1, dw2, dw3


def analysis(sliceno, prepare_res):
	dw1, dw2, dw3 = prepare_res
	dw1.write(sliceno)
	dw2.write({'sliceno': sliceno})
	dw3.write(sliceno, str(sliceno), sliceno % 2 == 0)

# Ported from the Accelerator, https://github.com/exaxorg/accelerator/blob/master/accelerator/examples/a_example_writeslicedfile.py
# Licensed under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
# Changed for accnb: nothing (it imports nothing from accelerator).
# Ruff: the Accelerator's style (tabs, % formatting, import order) is kept as written.
# ruff: noqa: UP031, W191

description = "Write a sliced file in analysis, one file in synthesis, and return some data."


def analysis(sliceno, job):
	# save one file per analysis process...
	filename = 'myfile1'
	data = 'This is job %s analysis slice %d.' % (job, sliceno,)
	job.save(data, filename, sliceno=sliceno)


def synthesis(job):
	# ...and one file in the synthesis process...
	filename = 'myfile2'
	data = 'this is job %s synthesis' % (job,)
	job.save(data, filename)

	# ...and let's return some data too.
	returndata = 'this is job %s return value' % (job,)
	return returndata

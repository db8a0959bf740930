# Ported from the Accelerator, https://github.com/exaxorg/accelerator/blob/master/accelerator/examples/build_dsexample-create.py
# Licensed under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
# Changed for accnb: nothing (it imports nothing from accelerator).
# Ruff: the Accelerator's style (tabs, % formatting, import order) is kept as written.
# ruff: noqa: W191

from .printer import prt

description = "Dataset: Create a dataset from scratch."


def main(urd):
	prt.source(__file__)
	prt()
	prt('Build a job that creates a dataset from scratch.')
	job = urd.build('dsexample_createdataset')

	prt()
	prt('Check contents of dataset using')
	prt.command('ax cat -H', job)

	prt()
	prt('More info about the dataset')
	prt.command('ax ds -s', job)

	prt()
	prt('For convenience, the jobid can be used as a reference to the default')
	prt(f'dataset in a job.  The full name is "{job}/default".')

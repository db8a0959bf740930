# Ported from the Accelerator, https://github.com/exaxorg/accelerator/blob/master/accelerator/examples/build_example-equiv_hashes.py
# Licensed under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
# Changed for accnb: nothing (it imports nothing from accelerator).
# Ruff: the Accelerator's style (tabs, % formatting, import order) is kept as written.
# ruff: noqa: I001, UP031, W191

from os.path import dirname, join
from .printer import prt

description = "Jobs: equivalent_hashes howto"


def main(urd):
	prt.source(__file__)
	prt()
	prt('This example shows how to create an "equivalent hash", i.e.')
	prt('how to modify a method without causing a build script to')
	prt('re-build it.')
	job = urd.build('example_equivalenthashes')

	thehash = job.params.hash
	prt()
	prt('Take the hash from the built job:')
	prt.output(f'"{thehash}"')
	prt('and add it to the method like this')
	prt.output('"equivalent_hashes = {\'whatever\': (\'%s\',)}"' % (thehash,))

	prt()
	prt('Also do some other change to the method while at it to make it different.')
	prt('Re-run and the daemon output will be something like')
	prt.output('''
		==========================================================================================
		WARNING: a_example_equivalenthashes has equivalent_hashes, but missing verifier <verifier>
		==========================================================================================
	''')
	prt('Now, let <verifier> replace the string \'whatever\' in the method.')
	prt('Done, the new version of the method is now considered equivalent')
	prt('to the old one.')
	prt()
	prt('Method source file is here')
	prt.plain(join(dirname(__file__), f'a_{job.method}.py'))

# Ported from the Accelerator, https://github.com/eBay/accelerator/blob/master/accelerator/examples/a_example_equivalenthashes.py
# Licensed under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
# exaxorg/accelerator's copy is not in the reference index; this is eBay/accelerator's
# (the same project, before it moved to exaxorg).
# Changed for accnb: nothing (it imports nothing from accelerator).
# Ruff: the Accelerator's style (tabs, % formatting, import order) is kept as written.
# ruff: noqa: W191

description = 'equivalent_hashes example method'

# equivalent_hashes = {'<verifier>': ('<hash>',)}


def synthesis():
	pass

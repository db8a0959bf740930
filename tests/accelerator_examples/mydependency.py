# Ported from the Accelerator, https://github.com/eBay/accelerator/blob/master/accelerator/examples/mydependency.py
# Licensed under the Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
# exaxorg/accelerator's copy is not in the reference index; this is eBay/accelerator's
# (the same project, before it moved to exaxorg).
# Changed for accnb: nothing (it imports nothing from accelerator).

# This is used in an example of how to depend_extra on python code.

pass

from collections import Counter

description = r"""
Histogram of the images' shapes: a collections.Counter of (width, height) tuples, counted
per slice and merged in synthesis. Reads the width and height columns (import_images), or
a json shape column ([width, height], as the Accelerator's image imports write).
"""

datasets = ("source",)


def analysis(sliceno, datasets):
    source = datasets.source
    if "width" in source.columns:
        return Counter(source.iterate(sliceno, ("width", "height")))
    return Counter(map(tuple, source.iterate(sliceno, "shape")))


def synthesis(analysis_res):
    hist = analysis_res.merge_auto()
    for (width, height), count in hist.most_common():
        print(f"{f'{width}x{height}':>12}  {count}")
    return hist

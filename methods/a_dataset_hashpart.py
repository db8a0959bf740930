from accnb import OptionString

description = r"""
Rewrite a dataset chain hashed on `hashlabel`, as the Accelerator's dataset_hashpart: every
row goes to the slice its hashlabel value hashes to, so rows with equal values share a
slice.

One dataset per source dataset, from `source` back to (not including) the source of
`previous` (at most `length`), named "0", "1", ... and "default" for the last, each with
the one before as previous (the first: `previous`). Columns keep their types; none_support
is as in the chain.

Each slice reads its own rows and writes each to the slice it hashes to (a split writer in
analysis): every row is read and hashed once, by all slices at once.

Not in accnb: chain_slices (only its default, False, is accepted).

Result: {dataset name: lines per slice}.
"""

options = {
    "hashlabel": OptionString,
    "caption": '"%(caption)s" hashed on %(hashlabel)s',
    "length": -1,  # at most this many datasets back in the chain
    "chain_slices": False,  # not in accnb
}

datasets = ("source", "previous")

CHUNK_ROWS = 8192  # rows read and split at a time


def prepare(job, options, datasets):
    if options.chain_slices:
        raise ValueError(
            "dataset_hashpart: chain_slices=True is not supported in accnb; leave it out"
        )
    if datasets.source is None:
        raise ValueError("dataset_hashpart: no source: give source=<a dataset or job>")
    chain = datasets.source.chain(length=options.length, stop_ds={datasets.previous: "source"})
    if not chain:
        raise ValueError(
            f"dataset_hashpart: source {datasets.source} is the source of previous "
            f"{datasets.previous}: nothing new to hash"
        )
    parts = []
    previous = datasets.previous
    for ix, source in enumerate(chain):
        if options.hashlabel not in source.columns:
            raise ValueError(
                f"dataset_hashpart: hashlabel {options.hashlabel!r} is not a column of {source} "
                f"(it has {sorted(source.columns)})"
            )
        name = "default" if ix == len(chain) - 1 else str(ix)
        caption = options.caption % dict(caption=source.caption, hashlabel=options.hashlabel)
        dw = job.datasetwriter(
            name=name,
            caption=caption,
            hashlabel=options.hashlabel,
            previous=previous,
            filename=source.filename,
        )
        names = list(source.columns)
        for col in names:
            dw.add(col, source.columns[col].type, none_support=chain.none_support(col))
        parts.append((source, dw, names))
        previous = f"{job.jobid}/{name}"
    return parts


def analysis(sliceno, options, prepare_res):
    for source, dw, names in prepare_res:
        dw.get_split_write()  # write_columns then sends each row where it hashes
        for chunk in source.chunks(sliceno, names, CHUNK_ROWS, packed=True):
            dw.write_columns(chunk)


def synthesis(prepare_res):
    return {dw.name: dw.finish().lines for _, dw, _ in prepare_res}

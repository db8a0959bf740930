"""The typed, sliced column store: DatasetWriter writes a job's datasets, Dataset reads them."""

from .reader import Column, Dataset, DatasetChain, iterate_list
from .shared_rows import SharedRows
from .types import TYPES, Packed
from .writer import DatasetWriter

COLUMN_TYPES = tuple(TYPES)

__all__ = [
    "COLUMN_TYPES",
    "Column",
    "Dataset",
    "DatasetChain",
    "DatasetWriter",
    "Packed",
    "SharedRows",
    "iterate_list",
]

"""Widgets over datasets and jobs: Gallery, Histogram, DatasetBrowser and JobView.

Each is an ipywidgets box composed of small views; each also has a static HTML form
(the text/html of `_repr_mimebundle_`) for nbconvert and notebook viewers, and
`dataset_html` / `job_html` give those for plain datasets and jobs.
"""

from .browser import DatasetBrowser
from .gallery import Gallery
from .histogram import Histogram
from .jobview import JobView, job_html
from .static import dataset_html

__all__ = ["DatasetBrowser", "Gallery", "Histogram", "JobView", "dataset_html", "job_html"]

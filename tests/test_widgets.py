"""Widgets over datasets: Gallery, Histogram, DatasetBrowser, JobView and their static HTML.

The datasets come from small methods here that write Pillow-made images of known colours,
so the tests depend on nothing but the dataset API. What the browser draws is checked in
tests/e2e; here it is the widget state the browser would get.
"""

from __future__ import annotations

from io import BytesIO

import numpy as np
import pytest
from ipywidgets.widgets.widget import _remove_buffers
from PIL import Image

from accnb import DatasetError
from accnb.widgets import DatasetBrowser, Gallery, Histogram, JobView, dataset_html, job_html
from accnb.widgets.histogram import count

EVIL = "<img src=x onerror=alert(1)>.jpg"
COLOURS = {"red": (255, 0, 0), "green": (0, 160, 0), "blue": (0, 0, 255)}

# Row k (0..n-1, dealt to slices in turn) is a `colour` image named img<k>.png, except
# row 5, named EVIL; every 7th row has no thumbnail.
TILES = """
from io import BytesIO
from PIL import Image

options = dict(n=50, image_format="PNG")
COLOURS = {"red": (255, 0, 0), "green": (0, 160, 0), "blue": (0, 0, 255)}
EVIL = "<img src=x onerror=alert(1)>.jpg"


def encode(colour, size, fmt):
    out = BytesIO()
    Image.new("RGB", size, COLOURS[colour]).save(out, fmt)
    return out.getvalue()


def prepare(job):
    dw = job.datasetwriter()
    dw.add("image", "bytes")
    dw.add("thumb", "bytes", none_support=True)
    dw.add("filename", "unicode")
    dw.add("colour", "ascii")
    dw.add("k", "int64")
    dw.add("shape", "json")
    return dw


def analysis(sliceno, slices, options, prepare_res):
    for k in range(sliceno, options.n, slices):
        colour = sorted(COLOURS)[k % 3]
        size = (40 + k % 4 * 10, 30)
        name = EVIL if k == 5 else f"img{k:03d}.png"
        thumb = None if k % 7 == 6 else encode(colour, (8, 6), "PNG")
        prepare_res.write(encode(colour, size, options.image_format), thumb, name, colour, k, list(size))
"""

# A child dataset (parent=) adding one column, and a dataset chained after it (previous=).
CHILD = """
datasets = ("source",)

def prepare(job, datasets):
    dw = job.datasetwriter(parent=datasets.source)
    dw.add("double", "int64")
    return dw

def analysis(sliceno, datasets, prepare_res):
    for k in datasets.source.iterate(sliceno, "k"):
        prepare_res.write(2 * k)
"""

NEXT = """
datasets = ("previous",)
options = dict(note="<b>bold</b>")

def prepare(job, datasets):
    dw = job.datasetwriter(previous=datasets.previous)
    dw.add("blob", "bytes")
    dw.add("meta", "json")
    return dw

def analysis(sliceno, prepare_res):
    prepare_res.write(bytes(range(10)), {"slice": sliceno, "tags": ["a", "b"]})
"""


def quiet(part: str, text: str) -> None:
    pass


@pytest.fixture
def tiles_job(wd):
    wd.method("tiles", TILES)
    return wd.build("tiles", relay=quiet)


@pytest.fixture
def ds(tiles_job):
    return tiles_job.dataset()


def colour_of(data: bytes) -> tuple[int, int, int]:
    with Image.open(BytesIO(data)) as im:
        return im.convert("RGB").getpixel((im.width // 2, im.height // 2))


def k_of(gallery: Gallery) -> list[int]:
    """The k column of the rows on the gallery's page."""
    return [gallery.dataset.column("k").numpy(s)[i] for s, i in gallery.page_rows()]


# -- Gallery: pages


def test_the_first_page_holds_page_size_tiles_with_their_bytes_and_labels(ds):
    g = Gallery(ds, page_size=12)
    assert len(g.grid.tiles) == 12
    assert g.page_rows()[:2] == [(0, 0), (0, 1)]  # slice 0 first: rows k = 0, 2, ...
    assert g.grid.labels[:3] == ["img000.png", "img002.png", "img004.png"]
    assert colour_of(g.grid.tiles[0]) == COLOURS["blue"]  # k=0: sorted(COLOURS)[0]
    assert colour_of(g.grid.tiles[1]) == COLOURS["red"]  # k=2
    assert g.grid.types[0] == "image/png"
    assert g.status.value == "Page 1 of 5 · 1–12 of 50 rows"


def test_only_the_page_s_bytes_go_to_the_browser_and_as_binary_buffers(ds):
    g = Gallery(ds, page_size=12)
    state, _paths, buffers = _remove_buffers(g.grid.get_state())
    tiles = [t for t in g.grid.tiles if t is not None]
    assert len(buffers) == len(tiles) == 10  # rows k=6 and k=20 have no thumbnail
    assert [bytes(b) for b in buffers] == tiles
    assert all(t is None for t in state["tiles"])  # no base64 text in the JSON part


def test_next_and_previous_page_and_the_last_page_is_partial(ds):
    g = Gallery(ds, page_size=12)
    g.next_page()
    assert (g.page, len(g.grid.tiles), g.grid.labels[0]) == (1, 12, "img024.png")
    g.page = 4
    assert len(g.grid.tiles) == 2 and g.next_button.disabled
    g.next_page()
    assert g.page == 4
    g.page = 99
    assert g.page == 4  # clamped
    g.previous_page()
    assert g.page == 3 and not g.prev_button.disabled


def test_the_buttons_page_as_the_methods_do(ds):
    g = Gallery(ds, page_size=12)
    version = g.grid.version
    g.next_button.click()
    assert g.page == 1 and g.grid.version == version + 1
    g.prev_button.click()
    assert g.page == 0 and g.prev_button.disabled


def test_a_new_page_size_keeps_the_first_row_shown(ds):
    g = Gallery(ds, page_size=12)
    g.page = 3  # rows 36..47
    g.page_size = 24
    assert g.page == 1 and len(g.grid.tiles) == 24  # rows 24..47 hold row 36
    g.page_size = 5  # not one of the menu's sizes: added to it
    assert 5 in g._controls["page_size"].options and g.page == 4


def test_the_thumbnail_size_control_sets_the_tile_size(ds):
    g = Gallery(ds)
    g._controls["thumb_size"].value = 192
    assert g.thumb_size == 192 and g.grid.size == 192


def test_a_row_without_a_thumbnail_is_a_missing_tile(ds):
    g = Gallery(ds, page_size=50)
    k = k_of(g)
    missing = [k[i] for i, tile in enumerate(g.grid.tiles) if tile is None]
    assert sorted(missing) == [6, 13, 20, 27, 34, 41, 48]
    assert all(g.grid.types[i] == "" for i, t in enumerate(g.grid.tiles) if t is None)


# -- Gallery: filters


def test_a_slice_filter_shows_only_that_slice(ds):
    g = Gallery(ds, page_size=50)
    g.sliceno = 1
    assert all(s == 1 for s, _ in g.page_rows()) and len(g.rows) == 25
    assert g.status.value == "Page 1 of 1 · 1–25 of 25 rows (50 before filters)"
    assert not g.clear_button.disabled
    assert g._controls["sliceno"].label == "slice 1 (25 rows)"
    g._controls["sliceno"].value = -1
    assert g._controls["sliceno"].label == "all slices"
    assert len(g.rows) == 50 and g.clear_button.disabled and g.sliceno is None


def test_a_predicate_on_the_row_dict_filters(ds):
    g = Gallery(ds, where=lambda row: row["colour"] == "green" and row["k"] > 10)
    assert sorted(k_of(g)) == [k for k in range(11, 50) if k % 3 == 1]
    assert g.filters == ["predicate"]


def test_the_predicate_gets_no_blobs_unless_asked(ds):
    seen = []
    Gallery(ds, where=lambda row: seen.append(set(row)) or True)
    assert seen[0] == {"filename", "colour", "k", "shape"}
    g = Gallery(ds, where=lambda row: row["thumb"] is None, where_columns=["thumb"])
    assert sorted(k_of(g)) == [6, 13, 20, 27, 34, 41, 48]


def test_a_histogram_selection_narrows_a_linked_gallery_and_clearing_restores_it(ds):
    g = Gallery(ds, page_size=50)
    hist = Histogram(ds, "colour")
    assert g.link(hist) is g
    hist.select("red")
    assert sorted(k_of(g)) == list(range(2, 50, 3))
    hist.chart.selected = [0, 2]  # as clicks in the browser set it: blue and red
    assert sorted(k_of(g)) == sorted(k for k in range(50) if k % 3 != 1)
    assert g.filters == ["histogram of colour"]
    hist.clear_button.click()
    assert len(g.rows) == 50


def test_filters_combine_and_clear_filters_removes_them_all(ds):
    g = Gallery(ds, page_size=50, sliceno=0)
    hist = Histogram(ds, "colour")
    g.link(hist)
    hist.select("red")
    assert sorted(k_of(g)) == [k for k in range(0, 50, 2) if k % 3 == 2]
    g.clear_button.click()
    assert len(g.rows) == 50 and hist.selected == [] and g.sliceno is None


def test_a_narrowed_gallery_goes_back_to_its_first_page(ds):
    g = Gallery(ds, page_size=12)
    g.page = 3
    hist = Histogram(ds, "colour")
    g.link(hist)
    hist.select("green")
    assert g.page == 0 and g.status.value.startswith("Page 1 of 2")


def test_an_unlinked_histogram_no_longer_filters(ds):
    g = Gallery(ds)
    hist = Histogram(ds, "colour")
    g.link(hist)
    hist.select("red")
    g.unlink(hist)
    assert len(g.rows) == 50
    hist.select("blue")
    assert len(g.rows) == 50


def test_a_histogram_of_other_rows_cannot_be_linked(wd, ds):
    wd.method("other_tiles", TILES)
    other = wd.build("other_tiles", n=10, relay=quiet).dataset()
    with pytest.raises(DatasetError, match="rows differ"):
        Gallery(ds).link(Histogram(other, "colour"))


def test_a_filter_that_keeps_nothing_shows_an_empty_page(ds):
    g = Gallery(ds, where=lambda row: False)
    assert g.grid.tiles == [] and g.status.value == "No rows (50 before filters)"


# -- Gallery: the open row


def test_a_click_on_a_tile_opens_the_full_image_and_the_row(ds):
    g = Gallery(ds, page_size=12)
    assert g.detail.layout.display == "none"
    g.grid._on_msg(g.grid, {"event": "open", "index": 1}, [])  # what a click sends
    assert g.opened == (0, 1) and g.grid.active == 1
    assert g.detail.layout.display == "flex"
    with Image.open(BytesIO(g.full_image.value)) as im:
        assert im.size == (60, 30) and im.getpixel((30, 15)) == COLOURS["red"]  # k=2, full size
    assert g.full_image.format == "png"
    assert "img002.png" in g.detail_title.value and "slice 0, row 1" in g.detail_title.value
    assert ">k</th><td><span>2</span>" in g.row_table.value
    assert "image</th><td><span>" in g.row_table.value and "bytes</span>" in g.row_table.value
    g.close_row()
    assert g.detail.layout.display == "none" and g.grid.active == -1


def test_a_message_for_a_tile_that_is_not_there_is_ignored(ds):
    g = Gallery(ds, page_size=12)
    g.grid._on_msg(g.grid, {"event": "open", "index": 12}, [])
    g.grid._on_msg(g.grid, {"event": "open", "index": "1"}, [])
    assert g.opened is None


def test_show_row_addresses_rows_by_slice_and_index(ds):
    g = Gallery(ds, page_size=12)
    g.show_row(1, 2)  # k = 5, row 25 + 2 in slice order: not on the shown page
    assert g.opened == (1, 2) and g.grid.active == -1
    g.page = 2
    assert g.grid.active == 27 - 24
    with pytest.raises(Exception, match="no row 25 in slice 1"):
        g.show_row(1, 25)


def test_an_image_the_browser_cannot_show_opens_as_png(wd):
    wd.method("tiff_tiles", TILES)
    ds = wd.build("tiff_tiles", image_format="TIFF", n=4, relay=quiet).dataset()
    g = Gallery(ds)
    g.show_row(0, 1)
    assert g.full_image.format == "png"
    with Image.open(BytesIO(g.full_image.value)) as im:
        assert im.format == "PNG" and im.getpixel((5, 5)) == COLOURS["red"]


def test_without_a_thumbnail_column_the_images_are_shrunk(wd):
    wd.method("tiff_tiles", TILES)
    ds = wd.build("tiff_tiles", image_format="TIFF", n=4, relay=quiet).dataset()
    g = Gallery(ds, column="nothumbs", thumb_size=16)
    assert g.column == "image"
    assert g.grid.types == ["image/jpeg"] * 4
    assert colour_of(g.grid.tiles[1])[0] > 240  # red, through JPEG
    with Image.open(BytesIO(g.grid.tiles[0])) as im:
        assert max(im.size) <= 32


def test_a_missing_column_names_the_columns_there_are(ds):
    with pytest.raises(DatasetError, match="No column 'nope'"):
        Gallery(ds, column="nope", image="nope")


# -- escaping


def test_text_from_data_is_escaped_in_every_html_view(ds):
    g = Gallery(ds, page_size=50)
    assert EVIL in g.grid.labels  # as text: the view sets textContent
    g.show_row(1, 2)
    html_views = [
        g.detail_title.value,
        g.row_table.value,
        Gallery(ds, where=lambda row: row["k"] == 5)._repr_mimebundle_()["text/html"],
        dataset_html(ds, rows=30),
    ]
    for html in html_views:
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;.jpg" in html
    hist = Histogram(ds, "filename", max_bars=60)
    assert EVIL in hist.chart.labels
    assert "<img src=x" not in hist._repr_mimebundle_()["text/html"]


def test_options_and_output_of_a_job_are_escaped(wd, ds):
    wd.method("child", CHILD)
    wd.method("next", NEXT)
    child = wd.build("child", source=ds, relay=quiet)
    job = wd.build("next", previous=child.dataset(), relay=quiet)
    html = job_html(job)
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<b>bold</b>" not in JobView(job).facts.value


# -- Histogram


def test_a_histogram_counts_each_value_in_order(ds):
    hist = Histogram(ds, "colour")
    assert hist.chart.labels == ["blue", "green", "red"]
    assert hist.chart.counts == [17, 17, 16]
    assert hist.summary.value == "50 rows in 3 bars: click bars to select"


def test_a_selection_is_a_mask_over_the_rows(ds):
    hist = Histogram(ds, "colour")
    assert hist.mask is None
    hist.select("green")
    k = ds.column("k").numpy()
    assert sorted(k[hist.mask]) == list(range(1, 50, 3))
    assert hist.summary.value == "17 of 50 rows in 1 selected bars"
    hist.chart.selected = [5, 2, -1, 2]  # from the browser: out-of-range bars are dropped
    assert hist.selected == [2]


def test_unknown_bar_labels_are_refused(ds):
    with pytest.raises(ValueError, match="no bars labelled"):
        Histogram(ds, "colour").select("purple")


def test_numbers_with_many_values_are_binned(ds):
    hist = Histogram(ds, "k", bins=5)
    assert hist.counts.tolist() == [10, 10, 10, 10, 10]
    assert hist.labels[0] == "0 – 10" and len(hist.labels) == 5


def test_numbers_with_few_values_get_a_bar_each(wd):
    _codes, labels, counts = count_of(wd, [1.5, 2.0, 1.5, float("nan")])
    assert labels == ["1.5", "2", "None/NaN"] and counts.tolist() == [2, 1, 1]


def count_of(wd, values):
    wd.method(
        "floats",
        f"""
def prepare(job):
    dw = job.datasetwriter()
    dw.add("x", "float64")
    return dw

def analysis(sliceno, prepare_res):
    if sliceno == 0:
        for v in {values!r}:
            prepare_res.write(v)
""".replace("nan", "float('nan')"),
    )
    return count(wd.build("floats", relay=quiet).dataset(), ["x"])


def test_json_lists_and_column_tuples_count_as_shapes(ds):
    by_json = Histogram(ds, "shape")
    by_columns = Histogram(ds, ("colour", "k"), max_bars=100)
    assert by_json.labels == ["40×30", "50×30", "60×30", "70×30"]
    assert by_json.counts.tolist() == [13, 13, 12, 12]
    assert by_columns.labels[0] == "('blue', 0)"


def test_many_distinct_values_keep_the_biggest_bars_and_one_other(ds):
    hist = Histogram(ds, "filename", max_bars=10)
    assert len(hist.labels) == 10 and hist.labels[-1] == "other (41 values)"
    assert hist.counts.sum() == 50


# -- DatasetBrowser


@pytest.fixture
def chain(wd, ds):
    """(ds, child with parent=ds, next with previous=child)."""
    wd.method("child", CHILD)
    wd.method("next", NEXT)
    child = wd.build("child", source=ds, relay=quiet).dataset()
    nxt = wd.build("next", previous=child, relay=quiet).dataset()
    return ds, child, nxt


def test_the_browser_shows_columns_rows_per_slice_and_a_page_of_values(ds):
    b = DatasetBrowser(ds)
    assert [row[0]["t"] for row in b.columns_table.rows] == [
        "colour",
        "filename",
        "image",
        "k",
        "shape",
        "thumb",
    ]
    assert "50 in 2 slices: 25, 25" in b.summary.value
    assert b.values_table.columns[:3] == ["slice", "row", "colour"]
    assert len(b.values_table.rows) == 10 and b.status.value == "Page 1 of 5 · rows 1–10 of 50"
    first = dict(zip(b.values_table.columns, b.values_table.rows[0], strict=True))
    assert first["k"] == {"t": "0"}
    assert (
        first["image"]["type"] == "image/png"
        and colour_of(first["image"]["img"]) == COLOURS["blue"]
    )
    assert first["shape"] == {"pre": "[\n 40,\n 30\n]"}
    b.next_button.click()
    assert b.values_table.rows[0][3] == {"t": "img020.png"}
    assert b.slice_choice.label == "all slices"
    b.slice_choice.value = 1
    assert b.page == 0 and b.values_table.rows[0][:2] == [{"t": "1"}, {"t": "0"}]


def test_the_browser_pages_by_the_size_given(ds):
    b = DatasetBrowser(ds, page_size=5)
    assert len(b.values_table.rows) == 5 and b.status.value == "Page 1 of 10 · rows 1–5 of 50"


def test_bytes_that_are_not_an_image_show_their_size_and_json_is_pretty(chain):
    _ds, _child, nxt = chain
    b = DatasetBrowser(nxt)
    row = dict(zip(b.values_table.columns, b.values_table.rows[0], strict=True))
    assert row["blob"] == {"t": "10 bytes"}
    assert row["meta"]["pre"].startswith('{\n "slice": 0,')


def test_the_browser_follows_previous_and_parent_and_comes_back(chain):
    ds, child, nxt = chain
    b = DatasetBrowser(nxt)
    assert b.back_button.disabled
    [previous, job] = b.links.children
    assert previous.description == f"previous {child.id}"
    previous.click()
    assert b.dataset == child and not b.back_button.disabled
    parent = b.links.children[0]
    assert parent.description == f"parent {ds.id}"
    parent.click()
    assert b.dataset == ds
    b.back_button.click()
    b.back_button.click()
    assert b.dataset == nxt and b.back_button.disabled
    job.click()
    assert isinstance(b.job_slot.children[0], JobView)
    assert b.job_slot.children[0].job == nxt.jobid


# -- JobView


def test_the_job_view_shows_method_options_why_timings_output_and_datasets(chain):
    _ds, _child, nxt = chain
    view = JobView(nxt.jobid and JobView(nxt).job)
    facts = view.facts.value
    for text in ("next", "built because", "no job of method", "note", "timings", "per slice"):
        assert text in facts
    assert [b.description for b in view.datasets.children] == ["default (2 rows)"]
    assert view.output.titles == ("prepare", "slice 0", "slice 1", "synthesis")
    view.datasets.children[0].click()
    assert isinstance(view.slot.children[0], DatasetBrowser)


def test_a_job_shows_in_a_notebook_as_the_same_card_with_result_state_and_output(wd, write_method):
    write_method(
        "talks",
        """
        def synthesis():
            print("hello <there>")
            return {"answer": 42}
    """,
    )
    job = wd.build("talks", relay=quiet)
    card = job._repr_html_()
    assert card == job_html(job)
    assert "{&#x27;answer&#x27;: 42}" in card  # the result, escaped
    assert "hello &lt;there&gt;" in card and "printed when it first ran" not in card
    again = wd.build("talks", relay=quiet)
    assert ">reused<" in again._repr_html_() and "printed when it first ran" in again._repr_html_()


def test_an_input_job_opens_in_the_view_and_back_returns(chain):
    ds, child, nxt = chain
    view = JobView(nxt)
    [button] = view.inputs.children
    assert button.description == f"previous: {child.id}"
    button.click()  # a dataset input opens a browser of it
    assert view.slot.children[0].dataset == child
    view.show(child.jobid)
    assert view.job == child.jobid and view.title.value == f"<b>{child.jobid}</b> child"
    view.back_button.click()
    assert view.job == nxt.jobid


def test_the_graph_shows_every_job_a_result_came_from(chain):
    ds, child, nxt = chain
    svg = JobView(nxt).graph.value
    nodes = [part.split("'")[0] for part in svg.split("data-jobid='")[1:]]
    assert sorted(nodes) == sorted([ds.jobid, child.jobid, nxt.jobid])
    assert svg.count("<line") == 2


def test_a_job_output_shows_per_part(wd):
    wd.method("talk", "def analysis(sliceno):\n    print('slice', sliceno, '<said>')\n")
    view = JobView(wd.build("talk", relay=quiet))
    texts = [child.value for child in view.output.children]
    assert "slice 1 &lt;said&gt;" in texts[2] and "(nothing printed)" in texts[0]


# -- static HTML


def test_the_static_dataset_card_has_columns_first_rows_and_inline_thumbnails(ds):
    html = dataset_html(ds, rows=3)
    assert "first 3 of 50 rows" in html and html.count("data:image/png;base64,") >= 3
    assert (
        "<td style='text-align:left;vertical-align:top;padding:1px 8px'><span>json</span>" in html
    )


def test_every_widget_bundle_has_a_static_html_form(ds, tiles_job):
    for widget in (Gallery(ds), Histogram(ds, "colour"), DatasetBrowser(ds), JobView(tiles_job)):
        bundle = widget._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        assert bundle["text/html"].startswith("<")


def test_the_static_gallery_inlines_small_thumbnails(ds):
    html = Gallery(ds)._repr_mimebundle_()["text/html"]
    assert html.count("<figure") == 12 and "no image" in html  # row k=6 has none
    assert np.all([len(part) < 12000 for part in html.split("data:")[1:]])


# -- rows by number


def test_row_numbers_count_through_slice_0_then_slice_1(ds):
    from accnb.widgets.rows import RowIndex

    index = RowIndex(ds)
    slicenos, indices = index.locate([0, 24, 25, 49])
    assert slicenos.tolist() == [0, 0, 1, 1] and indices.tolist() == [0, 24, 0, 24]
    assert index.row_number(1, 3) == 28


def test_rows_are_read_in_the_order_asked_from_both_slices(ds):
    from accnb.widgets.rows import RowIndex

    rows = RowIndex(ds).read([30, 1, 49, 1, 0], ["k", "colour"])
    assert rows == [(11, "red"), (2, "red"), (49, "green"), (2, "red"), (0, "blue")]

"""The badge stocks kithmeet prints on, as data: page size, badge size and where each badge sits.

All lengths are millimetres from the page's top-left corner. The die-cut sheets' numbers are
the ones their makers publish for their templates (inches converted exactly, 25.4 mm each);
printing lands on the die-cut badges only if these are right, so the sheet tests read every
badge's place back from the PDF and hold it to them.
"""
from dataclasses import dataclass

INCH = 25.4


@dataclass(frozen=True)
class Stock:
    key: str
    label: str
    page_width: float
    page_height: float
    badge_width: float
    badge_height: float
    columns: int
    rows: int
    left: float  # the page's edge to the first column's left edge
    top: float  # the page's edge to the first row's top edge
    pitch_x: float  # one badge's left edge to the next one's, across
    pitch_y: float  # one badge's top edge to the next one's, down

    @property
    def per_sheet(self):
        return self.columns * self.rows

    def positions(self):
        """The top-left corner of each badge on a sheet, row by row."""
        return [(self.left + column * self.pitch_x, self.top + row * self.pitch_y)
                for row in range(self.rows) for column in range(self.columns)]


# Avery 5392: US Letter name-badge inserts, 4 x 3 in, 2 across and 3 down, no gap between them:
# two 4 in inserts centred across 8.5 in, three 3 in ones down 11 in.
AVERY_5392 = Stock("avery-5392", "Avery 5392 — US Letter, 4 × 3 in, 6 a sheet",
                   page_width=8.5 * INCH, page_height=11 * INCH, badge_width=4 * INCH, badge_height=3 * INCH,
                   columns=2, rows=3, left=0.25 * INCH, top=1 * INCH, pitch_x=4 * INCH, pitch_y=3 * INCH)
# Avery L4785: A4 name-badge labels, 80 x 50 mm, 2 across and 5 down, 15 mm apart across and
# 5 mm down, centred on the sheet (gLabels' template measures 18 and 13 mm: within 0.5 mm).
AVERY_L4785 = Stock("avery-l4785", "Avery L4785 — A4, 80 × 50 mm, 10 a sheet",
                    page_width=210, page_height=297, badge_width=80, badge_height=50,
                    columns=2, rows=5, left=17.5, top=13.5, pitch_x=95, pitch_y=55)
# A label printer's 62 mm roll (Brother DK-22205 and the like) cut at 100 mm: one badge a page.
LABEL_62X100 = Stock("label-62x100", "Label printer — 62 × 100 mm, one a label",
                     page_width=62, page_height=100, badge_width=62, badge_height=100,
                     columns=1, rows=1, left=0, top=0, pitch_x=62, pitch_y=100)

STOCKS = {stock.key: stock for stock in (AVERY_L4785, AVERY_5392, LABEL_62X100)}
DEFAULT = AVERY_L4785.key

"""Generate the bundled demo library in ``engine/demo/``: what a new user searches before adding folders.

The demo is thirteen short documents of the kind one person really keeps: a few work write-ups, a
recipe, trip notes, household papers, a story, a script. Every format the extractors handle is
represented, and each document has its own vocabulary so that the first searches someone tries show
what searching by meaning does:

==========================================  =====  ==================================================
file                                        kind   content
==========================================  =====  ==================================================
building-a-high-speed-car-detector.pdf      pdf    3 pages: cameras, blur, YOLO-style detection,
                                                   tracking, speed estimation for vehicles
react-performance-optimization.md           md     memoization, virtualization, code splitting
optimizing-database-queries-for-speed.docx  docx   indexes, EXPLAIN, N+1, caching; one results table
sourdough-bread-recipe.txt                  txt    starter, bulk fermentation, shaping, baking
alps-trip-notes-2024.md                     md     six days hut to hut on the Stubai High Trail
household-budget-meeting-2024-09.odt        odt    monthly budget review with a spending table
home-composting-guide.html                  html   a saved web article on composting
the-clockmakers-apprentice.epub             epub   a three-chapter short story
q3-scanner-rollout-update.pptx              pptx   five-slide quarterly project update, with notes
rename_photos.py                            py     a photo-renaming utility (EXIF dates)
lena-birthday-party.eml                     eml    an e-mail planning a child's birthday party
letter-to-landlord-repairs.rtf              rtf    a formal letter about heating and damp
half-marathon-training-plan.txt             txt    a twelve-week running plan
==========================================  =====  ==================================================

Queries the demo is built to answer: "fast automobile" finds the car detector (which never uses
either word, while the React and database articles each say "fast" once: the lexical trap of the
classic dense-retrieval example), "make bread rise" the sourdough recipe, "slow SQL" the database
article, "mountain hut" the Alps notes, "worms and kitchen scraps" the composting article.

The output is deterministic: fixed dates inside every file and fixed timestamps on every zip
member, so regenerating leaves the committed files byte-for-byte unchanged. No README goes into the
demo folder, because everything there is indexed.

Usage::

    python scripts/make_demo_library.py            # (re)write engine/demo/
    python scripts/make_demo_library.py --check    # verify engine/demo/ opens, reads and is up to date

Needs fpdf2, python-docx and python-pptx to generate; pypdfium2 and striprtf (app dependencies) to check.
"""

from __future__ import annotations

import argparse
import email.policy
import hashlib
import io
import re
import sys
import tempfile
import textwrap
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from html import escape as html_escape
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "engine" / "demo"

ZIP_TIME = (2024, 1, 1, 0, 0, 0)  # every zip member gets this timestamp
AUTHOR = "Maya Brandt"
MAX_TOTAL_BYTES = 1_000_000
WORD_RANGE = (300, 900)


# --------------------------------------------------------------------------------------------------
# A tiny markup shared by the structured formats: blocks separated by blank lines; "## " starts a
# heading, "- " starts a bullet (continuation lines are joined), anything else is a paragraph.


def _blocks(source: str) -> list[tuple[str, str]]:
    blocks: list[tuple[str, str]] = []
    for chunk in textwrap.dedent(source).strip().split("\n\n"):
        lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if lines[0].startswith("## "):
            blocks.append(("h", lines[0][3:].strip()))
            lines = lines[1:]
            if not lines:
                continue
        if lines[0].startswith("- "):
            items: list[str] = []
            for line in lines:
                if line.startswith("- "):
                    items.append(line[2:])
                else:
                    items[-1] += " " + line
            blocks.extend(("li", item) for item in items)
        else:
            blocks.append(("p", " ".join(lines)))
    return blocks


def _text(source: str) -> str:
    """A plain-text document: dedented, stripped, ending in one newline."""
    return textwrap.dedent(source).strip("\n") + "\n"


def _write_zip(path: Path, members: list[tuple[str, bytes]]) -> None:
    """Write a zip with fixed timestamps; a member named ``mimetype`` is stored, the rest deflated."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)


def _normalize_zip(data: bytes, path: Path) -> None:
    """Rewrite an Office zip produced by a library with fixed member timestamps, same order."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        members = [(info.filename, src.read(info)) for info in src.infolist()]
    _write_zip(path, members)


# ==================================================================================================
# 1. Building a High-Speed Car Detector (PDF, three pages). Never says "fast" or "automobile".

CAR_TITLE = "Building a High-Speed Car Detector"
CAR_PAGES = [
    """
    ## Why vehicles at speed are hard to see

    Most object detectors are trained and judged on still photographs, where a car is parked at the
    kerb, evenly lit and fills a comfortable share of the frame. A motorway is a harsher place. A
    vehicle travelling at 130 km/h covers 36 metres every second and can cross the whole field of
    view of a roadside camera in under a second. In that time the system has to notice the car, draw
    a box around it, follow it from frame to frame and turn its movement into a speed reading that
    will stand up to scrutiny.

    This article walks through the pipeline we built for a traffic-survey pilot on a two-lane
    highway: the camera, the detector, the tracker and the speed estimate.

    ## Cameras, frame rate and shutter

    The camera matters more than the neural network. Three settings decide whether the rest of the
    pipeline has anything useful to work with.

    Frame rate sets how many observations we get of each vehicle. At 30 frames per second, a car at
    130 km/h moves 1.2 metres between frames and appears in only about 20 frames on a 25-metre
    stretch of road. We settled on 90 frames per second, which gives roughly 60 observations per car
    and makes the speed estimate far less sensitive to one bad detection.

    Exposure time controls motion blur. During a 1/250 s exposure the same car moves 14 centimetres,
    smearing number plates and wheel arches into streaks. At 1/2000 s the blur drops under 2
    centimetres, but the sensor gets far less light, so we paired large pixels with a bright f/1.6
    lens. At night an infrared illuminator kept exposures short without dazzling drivers.

    Shutter type is the setting people forget. A rolling-shutter sensor reads the image one row at a
    time, so a passing vehicle is recorded later at the bottom of the frame than at the top and
    appears to lean. We chose a global-shutter industrial camera that exposes every pixel at the
    same instant, which removed a whole class of geometric distortion before any code was written.
    """,
    """
    ## Detecting vehicles with a single-stage network

    For detection we used a single-stage, YOLO-style network. Two-stage detectors, which first
    propose regions and then classify each one, are accurate but too slow for 90 frames per second
    on roadside hardware. A single-stage model predicts boxes and class scores for every cell of a
    grid in one forward pass, which is exactly what a real-time system needs.

    We fine-tuned a small pretrained model on about 18,000 annotated frames from our own cameras,
    labelled with five classes: car, van, truck, bus and motorcycle, because public datasets are
    dominated by dashcam views rather than our elevated, side-on angle. We deliberately included rain, low sun, headlight glare and dusk, because a
    detector that only works on bright afternoons cannot be deployed.

    Input resolution is the main trade-off. At 640 by 640 pixels the model missed distant
    motorcycles, which shrink to a dozen pixels. Cropping the frame to the part of the road we
    measure, and feeding that crop at full resolution, recovered them without extra compute.

    ## Running on the roadside

    The model runs on an embedded GPU module in a weatherproof cabinet next to the road. Exporting
    it to TensorRT and quantising the weights to 8-bit integers brought inference down to about 7
    milliseconds per frame, leaving headroom for tracking and for rush-hour traffic. Non-maximum
    suppression then removes overlapping boxes so that each vehicle is reported once, and a
    confidence threshold of 0.4 trades a few missed detections for far fewer phantom ones.
    """,
    """
    ## Tracking every vehicle

    A detector sees each frame in isolation: it has no idea that the silver estate car in frame 412
    is the same one as in frame 411. We used a SORT-style tracker: a Kalman filter predicts where
    each known vehicle should appear next, and the Hungarian algorithm matches those predictions to
    the new detections by box overlap. At 90 frames per second the predictions are rarely wrong.

    ## Estimating speed

    To turn movement in pixels into a speed we need real-world distances, and lane markings supply
    them: on this road the dashed lines are 6 metres long with 12-metre gaps. From four marked points
    on the road surface we computed a homography, which maps image coordinates onto a top-down plan
    of the road. Each track is projected onto that plan using the bottom centre of its bounding box,
    where the tyres meet the tarmac, and speed is distance covered divided by the time between frame
    timestamps.

    Per-frame speeds are noisy, so we fit a straight line to position against time over the whole
    track and report its slope with an uncertainty. Against a calibrated radar gun, over two days and
    3,100 vehicles, the median error was 1.1 km/h and 97 percent of readings were within 3 km/h. The
    largest errors came from lorries, whose tall boxes hide the ground contact point, and from
    vehicles changing lanes mid-measurement.

    Finally, privacy: the system stores no images, only tracks, vehicle classes and speeds, which is
    all a survey of how many drivers are speeding, and when, needs.
    """,
]


def build_pdf(path: Path) -> None:
    from fpdf import FPDF

    class PDF(FPDF):
        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", "I", 9)
            self.set_text_color(120, 120, 120)
            self.cell(0, 10, text=f"{CAR_TITLE} - page {self.page_no()} of {{nb}}", align="C")

    pdf = PDF(format="A4")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_creation_date(datetime(2024, 3, 12, 9, 30, tzinfo=UTC))
    pdf.set_title(CAR_TITLE)
    pdf.set_author(AUTHOR)
    pdf.set_subject("Computer vision for measuring the speed of cars on a highway")
    pdf.set_keywords("computer vision, vehicles, speed, object detection, tracking")
    pdf.set_creator("Librarian demo library")
    pdf.set_producer("Librarian demo library")
    pdf.set_lang("en")

    def paragraph(text: str, size: float = 10.5) -> None:
        pdf.set_font("Helvetica", "", size)
        pdf.multi_cell(0, 5.4, text=text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2.2)

    for number, page in enumerate(CAR_PAGES, start=1):
        pdf.add_page()
        pdf.set_text_color(20, 20, 20)
        if number == 1:
            pdf.set_font("Helvetica", "B", 20)
            pdf.multi_cell(0, 9, text=CAR_TITLE, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "I", 10)
            pdf.set_text_color(90, 90, 90)
            pdf.multi_cell(
                0,
                5,
                text=f"{AUTHOR} - traffic-survey pilot write-up - March 2024",
                new_x="LMARGIN",
                new_y="NEXT",
            )
            pdf.set_text_color(20, 20, 20)
            pdf.ln(4)
        for kind, text in _blocks(page):
            if kind == "h":
                pdf.ln(1.5)
                pdf.set_font("Helvetica", "B", 13)
                pdf.multi_cell(0, 7, text=text, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1)
            else:
                paragraph(text)
    pdf.output(str(path))


# ==================================================================================================
# 2. React Performance Optimization (Markdown).

REACT_MD = _text(
    """
    # React Performance Optimization

    *Notes for the front-end guild - last revised 20 May 2024*

    A sluggish React interface is rarely React's fault. Nearly every time we have investigated, the
    slowness came from components rendering far more often than they needed to, from lists that put
    thousands of DOM nodes on the page, or from a JavaScript bundle so large that the browser spent
    seconds parsing code the user never ran. This page collects the techniques that have actually
    moved our numbers, in the order we reach for them.

    ## 1. Profile first

    Guessing is the most expensive optimisation technique there is. Before changing any code, record
    the interaction that feels slow with the **Profiler** tab of React DevTools:

    - Turn on *Record why each component rendered while profiling* in the Profiler settings.
    - Record one interaction only (typing a character, opening a dialog) so the flame graph stays readable.
    - Look for wide bars, which are components that take long to render, and for components that
      render on every commit although their props did not change.

    Profile a production build with profiling enabled (`react-dom/profiling`): development builds are
    several times slower and exaggerate the wrong things. For the user's point of view, watch
    Interaction to Next Paint (INP) in the browser's Performance panel; anything above 200 ms feels laggy.

    ## 2. Stop unnecessary re-renders with memoization

    When a parent component renders, React renders all of its children too. Usually that is cheap.
    When a child is expensive (a chart, a rich-text editor, a table of 500 rows), wrap it in
    `React.memo` so it renders only when its props change:

    ```jsx
    const PriceChart = React.memo(function PriceChart({ series, onSelect }) {
      return <Chart data={series} onPointClick={onSelect} />;
    });
    ```

    `React.memo` compares props by reference, so it is defeated by objects and functions that are
    recreated on every render. Keep them stable with `useMemo` and `useCallback`:

    ```jsx
    function Dashboard({ trades, filter }) {
      const series = useMemo(() => buildSeries(trades, filter), [trades, filter]);
      const handleSelect = useCallback((point) => setSelected(point.id), []);
      return <PriceChart series={series} onSelect={handleSelect} />;
    }
    ```

    Memoization is not free: every `useMemo` stores a value and compares its dependencies on each
    render. Use it for expensive computations and for props passed to memoized children, not
    everywhere by reflex. Projects that use the React Compiler get most of this automatically.

    ## 3. Keep state close to where it is used

    State that lives high in the tree re-renders everything beneath it. A search box whose text is
    stored in the page component re-renders the whole page on every keystroke. Move the state down
    into the component that owns it, or pass the expensive part in as `children` so it is created by
    a parent that does not re-render.

    Context needs the same care: every consumer re-renders when the context value changes. Split one
    large context into several small ones (theme, current user, feature flags) and memoize the
    provider's `value` object.

    ## 4. Virtualize long lists

    Rendering 10,000 rows creates 10,000 sets of DOM nodes, although only thirty fit on the screen.
    A virtualized list renders just the visible rows plus a small buffer and recycles them as the
    user scrolls:

    ```jsx
    import { FixedSizeList } from "react-window";

    <FixedSizeList height={600} itemCount={rows.length} itemSize={36} width="100%">
      {({ index, style }) => <Row style={style} row={rows[index]} />}
    </FixedSizeList>
    ```

    On our transaction history page this took the first render from 1.8 seconds to 40 milliseconds.
    Give rows stable keys taken from the data (an id, never the array index).

    ## 5. Split the bundle

    Users should download the code for the screen they are looking at, not the whole application.
    Route-based code splitting with `React.lazy` and `Suspense` is the easiest win:

    ```jsx
    const Reports = React.lazy(() => import("./pages/Reports"));

    <Suspense fallback={<Spinner />}>
      <Reports />
    </Suspense>
    ```

    Heavy libraries used in one place (a PDF viewer, a map, a charting package) are good candidates
    for a dynamic `import()` too. Run a bundle analyser after every release; it regularly finds a
    date library or an icon set imported in full where three functions would do. Small bundles keep
    the first load fast on mid-range phones, which is what most of our users carry.

    ## 6. Keep typing responsive

    For inputs that drive expensive updates, mark the expensive part as non-urgent with
    `useTransition` or `useDeferredValue`: keystrokes are painted at once and the filtered results
    follow a moment later.

    ## Checklist

    1. Reproduce and profile in a production build.
    2. Fix the widest bar in the flame graph first.
    3. Memoize expensive children and the props they receive.
    4. Move state down; split contexts.
    5. Virtualize any list longer than a few hundred rows.
    6. Lazy-load routes and heavy libraries.
    7. Profile again and write down the before-and-after numbers.
    """
)


# ==================================================================================================
# 3. Optimizing Database Queries for Speed (DOCX with a table).

DB_TITLE = "Optimizing Database Queries for Speed"
DB_BODY = """
Engineering wiki - backend practices. Last reviewed 4 June 2024.

When a page takes four seconds to load, the database is usually the culprit. The good news is that most slow SQL comes from a handful of causes, each
with a well-understood fix. This guide covers how we find slow queries, how we read an execution
plan, and the fixes behind nearly all of our wins: the right index, removing N+1 query patterns,
paging by key instead of offset, and caching results that rarely change.

## Find the slow queries first

Do not optimise from intuition. Turn on the slow query log (log_min_duration_statement = 250 in
PostgreSQL, slow_query_log with long_query_time in MySQL) and let it run through a normal working
day. Then rank statements by total time, not by their worst single run: a 30-millisecond query
executed 200,000 times an hour matters far more than a 5-second report that runs at midnight. The
pg_stat_statements extension does this ranking for you.

## Read the EXPLAIN plan

EXPLAIN shows how the database intends to execute a query; EXPLAIN ANALYZE actually runs it and
reports real row counts and timings for every step. Read the plan from the innermost node
outwards and look for three warning signs:

- A sequential scan over a large table when only a few rows come back.
- Estimated rows that differ from actual rows by a factor of ten or more, which means the
  planner's statistics are stale: run ANALYZE on the table.
- A sort or hash that spills to disk ("external merge", or several batches), which means the
  query has too little work_mem.

Always run EXPLAIN ANALYZE against production-sized data: a plan from a development database with a
thousand rows says little about a table with forty million.

## Add the right index

An index lets the database jump straight to matching rows instead of reading the whole table. The
useful ones follow the WHERE clauses and JOIN conditions of your busiest queries. In a composite
index, column order matters: columns compared for equality first, the range or sort column last.
An index on (customer_id, created_at) serves both "orders for this customer" and "this customer's
orders from last month, newest first"; one on (created_at, customer_id) serves neither well.

A covering index holds every column the query needs, so the answer comes from the index alone (an
Index Only Scan).

Indexes are not free: each one slows down inserts and updates and takes disk space, so drop those
that pg_stat_user_indexes shows are never used. And wrapping a column in a function, as in WHERE
lower(email) = ..., stops a plain index on that column from being used; index the expression
lower(email) instead.

## Eliminate N+1 queries

The N+1 problem is the most common performance bug in applications built on an ORM. Code loads 50
orders with one query, then loops over them and touches order.customer, which quietly issues one
more query per order: 51 round trips where one or two would do. Each query is fast on its own,
which is why the pattern hides so well; together they cost hundreds of milliseconds.

The fix is to load related rows in bulk, with a JOIN or the ORM's eager loading (select_related
and prefetch_related in Django, selectinload in SQLAlchemy, includes in Rails). A query counter
in the test suite catches regressions: our tests fail if a page issues more than 20 queries.

## Page by key, not by offset

LIMIT 20 OFFSET 100000 makes the database read and throw away a hundred thousand rows before it
returns twenty. Keyset pagination remembers the last row shown and asks for the rows after it,
WHERE (created_at, id) < (:last_created, :last_id) ORDER BY created_at DESC, id DESC LIMIT 20,
which uses an index and costs the same on page 5,000 as on page 1.

## Cache what rarely changes

The quickest query is the one you never send. Reference data such as country lists, product
categories and feature flags can live in application memory or in Redis with a time-to-live of a
few minutes. For expensive aggregates, like a dashboard's monthly totals, a materialized view
refreshed on a schedule is often simpler than an application cache. Whatever you cache, decide up
front how it is invalidated: a stale price shown to a customer is worse than a slow page.

## Results from the last quarter

The table lists the changes made after the March review, measured as the 95th-percentile
response time of each query in production.
"""
DB_TABLE = [
    ("Query", "Before", "After", "Fix"),
    ("Customer order history", "2,400 ms", "35 ms", "Composite index on (customer_id, created_at)"),
    ("Invoice list page", "1,150 ms", "90 ms", "Removed N+1 queries with selectinload"),
    ("Admin audit log, deep pages", "3,800 ms", "60 ms", "Keyset pagination instead of OFFSET"),
    ("Product search filters", "480 ms", "12 ms", "Category tree cached in Redis, 10-minute TTL"),
    ("Monthly sales dashboard", "9,200 ms", "150 ms", "Materialized view refreshed hourly"),
]
DB_AFTER_TABLE = """
## Checklist before shipping a new query

- Run EXPLAIN ANALYZE on production-sized data and read the plan.
- Check that every filter and join can use an index, and that no column is wrapped in a function.
- Count the queries each request issues; look for loops that query.
- Select only the columns you need instead of SELECT *.
- Decide whether the result can be cached, and how the cache is invalidated.
"""


def build_docx(path: Path) -> None:
    from docx import Document

    doc = Document()
    props = doc.core_properties
    props.title = DB_TITLE
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.subject = "Finding and fixing slow SQL queries"
    props.keywords = "database, SQL, indexes, EXPLAIN, N+1, caching"
    props.created = datetime(2024, 6, 4, 10, 0, 0)
    props.modified = datetime(2024, 6, 4, 16, 45, 0)
    props.last_printed = datetime(2024, 6, 4, 16, 45, 0)
    props.revision = 3

    def add(source: str) -> None:
        for kind, text in _blocks(source):
            if kind == "h":
                doc.add_heading(text, level=1)
            elif kind == "li":
                doc.add_paragraph(text, style="List Bullet")
            else:
                doc.add_paragraph(text)

    doc.add_heading(DB_TITLE, level=0)
    add(DB_BODY)
    table = doc.add_table(rows=len(DB_TABLE), cols=len(DB_TABLE[0]))
    table.style = "Table Grid"
    for r, row in enumerate(DB_TABLE):
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            cell.text = value
            if r == 0:
                for run in cell.paragraphs[0].runs:
                    run.bold = True
    add(DB_AFTER_TABLE)
    buffer = io.BytesIO()
    doc.save(buffer)
    _normalize_zip(buffer.getvalue(), path)


# ==================================================================================================
# 4. Sourdough recipe (plain text).

SOURDOUGH_TXT = _text(
    """
    Country Sourdough - my weekend loaf
    ===================================

    Makes one round loaf of about 900 g. Written down after a year of flat, sour bricks, so that
    future me stops repeating the same mistakes.

    INGREDIENTS
      100 g  active starter (100% hydration, fed 4-6 hours earlier)
      375 g  water, about 28 °C
      450 g  strong white bread flour
       50 g  wholemeal flour
       10 g  fine sea salt
             rice flour for dusting the banneton

    THE STARTER IS EVERYTHING
    The starter is what makes the bread rise, so it has to be at its peak when you mix. Feed it
    1:1:1 (starter : flour : water by weight) in the morning and keep it somewhere warm, around
    24-26 °C; the top of the fridge works. It is ready when it has at least doubled, the surface
    is domed and full of bubbles, and a spoonful floats in a glass of water. If it has already
    peaked and collapsed it will still work, but the dough will be slower and more sour. A starter
    that will not double after feeding is usually just cold or hungry: feed it twice a day at room
    temperature for three or four days before blaming the flour.

    TIMELINE (for baking on Sunday morning)
      Sat 09:00  feed the starter
      Sat 14:00  autolyse: mix both flours with 350 g of the water, cover, rest 45 min
      Sat 14:45  add the starter, then the salt with the last 25 g of water
      Sat 15:15  bulk fermentation: 4 sets of stretch and folds, 30 min apart
      Sat 19:30  pre-shape, bench rest 20 min, final shape, into the banneton
      Sat 20:00  cover and put in the fridge overnight (12-16 hours)
      Sun 08:00  oven and Dutch oven on at 250 °C for 45 min
      Sun 08:45  score and bake

    METHOD
    1. Autolyse. Mixing only flour and water and letting them rest gives the gluten a head start,
       so the dough needs far less work later.
    2. Mix. Dimple the starter into the dough and fold it over itself until it disappears, then do
       the same with the salt and the remaining water. The dough feels slack and sticky; that is right.
    3. Bulk fermentation. This is where the rise happens and where most loaves are won or lost.
       For each set of stretch and folds, wet your hand, lift one side of the dough, stretch it up
       and fold it over, turn the bowl a quarter and repeat four times. After the last set leave
       the dough alone. Bulk is done when the dough has grown by about half, feels airy and
       wobbles when you shake the bowl, with bubbles on the sides and the surface. At 24 °C this
       takes 4 to 5 hours; in a cold winter kitchen it can take 7. Watch the dough, not the clock.
    4. Shape. Tip the dough onto an unfloured counter, pre-shape it into a loose round and let it
       rest, then shape it tightly, building surface tension by dragging the round towards you.
       Put it seam side up into the floured banneton.
    5. Cold retard. A night in the fridge slows the yeast, deepens the flavour and makes the dough
       much easier to score.
    6. Bake. Turn the dough out onto baking paper, score one confident slash about 1 cm deep at a
       shallow angle and lower it into the hot Dutch oven. Bake 20 minutes with the lid on, so the
       trapped steam keeps the crust soft while the loaf expands ("oven spring"), then 25 minutes
       with the lid off at 230 °C until deep brown. Cool for at least an hour before cutting; the
       crumb is still setting.

    TROUBLESHOOTING
    - Flat loaf that spreads on the paper: under-fermented, or weak shaping. Let bulk run longer.
    - Dense, gummy crumb with a few big holes: under-proofed. Find a warmer spot.
    - Collapses when scored and smells very sour: over-proofed. Shorten bulk or the night in the fridge.
    - Pale crust: the oven was not hot enough, or the lid stayed on too long.
    - Too sour for the kids: use the starter younger, right at its peak, and shorten the cold retard.

    Last changed: 14 January 2024
    """
)


# ==================================================================================================
# 5. Alps trip notes (Markdown with headings).

ALPS_MD = _text(
    """
    # Stubai High Trail - Trip Notes, August 2024

    Six days hut to hut on the Stubaier Höhenweg in Tyrol, Austria, with Tom and my sister Jo,
    10-15 August 2024. Written up on the train home so we remember what worked next time.

    ## Overview

    - **Route:** Starkenburger Hütte, Franz-Senn-Hütte, Neue Regensburger Hütte, Dresdner Hütte,
      Sulzenau Hütte, Nürnberger Hütte, then down to Ranalt. We skipped the last two stages to the
      Bremer and Innsbrucker huts because of a storm forecast.
    - **Distance:** about 58 km with roughly 4,600 m of ascent.
    - **Accommodation:** mountain huts of the Austrian Alpine Club, half board (dinner and
      breakfast). Dorm beds booked in January through the huts' own websites; the Sulzenau hut was
      full for the Saturday by mid-February.
    - **Cost:** around €75 per person per night with the Alpenverein member discount, plus drinks
      and packed lunches.

    ## Getting there

    Train to Innsbruck, then the Stubai valley bus (line 590) to Neustift. The Elferbahn cable car
    saves the first 1,000 m of climbing. Anything you do not want to carry can stay at the luggage
    storage in Neustift.

    ## Day by day

    ### Day 1 - Neustift to Starkenburger Hütte (2,237 m)

    A short first day to get used to the packs. Cable car up, then a gentle path along the ridge.
    The hut terrace looks straight across the valley at the glaciers. First Kaiserschmarrn of the trip.

    ### Day 2 - to Franz-Senn-Hütte (2,147 m)

    Long day, about 7 hours. The trail crosses the Seejöchl saddle at 2,518 m with a few
    cable-protected sections on loose rock, then traverses for hours above the Oberberg valley.
    Franz-Senn is big and busy but well run; hot showers cost two euros in tokens.

    ### Day 3 - to Neue Regensburger Hütte (2,286 m)

    Our favourite stage: grassy balconies, marmots everywhere, and the Falbesoner lake in the
    afternoon sun. A small, friendly hut with one tap of cold water outside. Jo's knee started
    complaining and the warden lent us a roll of tape.

    ### Day 4 - to Dresdner Hütte (2,308 m)

    The crux. The climb to the Grawagrubennieder notch at 2,880 m is steep, with fixed cables and
    iron steps near the top. We left at 6:30 to be over it before the afternoon clouds built up.
    The Dresdner hut sits beside the glacier ski area, so it feels more like a hotel than a refuge.

    ### Day 5 - to Sulzenau Hütte (2,191 m)

    Over the Peiljoch (2,676 m), a pass covered in hundreds of stone cairns, then down past the
    glacier's moraine to a blue meltwater lake. I swam for exactly eight seconds. Best dinner of
    the trip: barley soup and bread dumplings.

    ### Day 6 - to Nürnberger Hütte (2,280 m) and down to Ranalt

    Thunderstorms were forecast for the next two days, so after lunch at the Nürnberger hut we
    descended to Ranalt and took the bus back to Neustift. The right call: it hailed on the ridge by
    four o'clock.

    ## Hut routines worth knowing

    - Check in with the warden on arrival, leave boots and poles in the boot room, take hut slippers.
    - A sleeping-bag liner is compulsory in the dorms; blankets and pillows are provided.
    - Dinner is usually at 18:30 and breakfast from 6:00. Order packed lunches and tea for the
      flasks the evening before.
    - Several huts take cash only, or cards when the connection works. Bring plenty of euros.
    - Phone signal is patchy; the huts pin the next day's weather forecast by the door.

    ## Packing list (what we actually used)

    - 35-litre pack, under 9 kg including water
    - Waterproof jacket and over-trousers, warm fleece, thin down jacket for the evenings
    - Two sets of hiking clothes, one set for the hut
    - Sleeping-bag liner, earplugs, head torch
    - Poles, sunglasses, sun cream, hat and light gloves (3 °C at 7 am below the Grawagrubennieder)
    - Blister kit, knee tape, ibuprofen
    - Paper map (Alpenvereinskarte 31/1, Stubaier Alpen) and the route offline on the phone

    ## What we'd do differently

    - Book every hut in early January, the moment reservations open.
    - Add a rest day at the Neue Regensburger Hütte; it is quiet and beautiful.
    - Lighter packs. Jo carried a second fleece and a hardback novel for six days.
    - Keep two spare days at the end for bad weather so we can still finish the last stages.
    """
)


# ==================================================================================================
# 6. Household budget meeting (ODT with a table).

BUDGET_TITLE = "Household Budget Meeting - 29 September 2024"
BUDGET_INTRO = """
Present: Maya and Tom. Kitchen table, 20:00 to 21:15. Next meeting: Sunday 27 October.

## 1. Income

Combined take-home pay in September: €5,840 (Maya €3,260, Tom €2,580). Tom's overtime from the
August audit (€310) arrives with the October salary and goes straight into the holiday fund.

## 2. September spending against the budget

All amounts in euros. A minus sign means we spent more than planned.
"""
BUDGET_TABLE = [
    ("Category", "Budget", "Actual", "Difference"),
    ("Rent incl. service charges", "1,650", "1,650", "0"),
    ("Electricity and gas", "140", "162", "-22"),
    ("Internet and phones", "75", "75", "0"),
    ("Groceries", "750", "842", "-92"),
    ("Childcare and school", "420", "420", "0"),
    ("Transport passes and bikes", "180", "131", "+49"),
    ("Insurance", "95", "95", "0"),
    ("Eating out", "150", "214", "-64"),
    ("Clothes and shoes", "120", "268", "-148"),
    ("Subscriptions", "38", "52", "-14"),
    ("Gifts and birthdays", "60", "95", "-35"),
    ("Total", "3,678", "4,004", "-326"),
]
BUDGET_REST = """
We were €326 over budget. Most of it was one-off: Lena's winter boots and school shoes (€150) and
two new rain jackets. Groceries were over for the third month running, so the grocery budget is
simply too low rather than us being careless.

## 3. Decisions

- Raise the grocery budget to €820 from October. Plan the week's meals on Sunday and shop from a
  list; try the Saturday market for vegetables.
- Cancel the second streaming subscription (€13.99) and the fitness app nobody opens (€7.99).
  Keep the newspaper.
- Switch electricity provider: the new tariff from November is 9% cheaper. The notice period
  with the current supplier ends on 31 October.
- Eating out stays capped at €150, with one planned family dinner out each month instead of tired
  weekday takeaways.

## 4. Savings

Emergency fund: €9,400 today, target €12,000 (three months of fixed costs) by June 2025. Standing
order of €400 on the 1st of each month.

Holiday fund: €1,150 saved towards next summer; €200 a month plus Tom's overtime.

Lena's savings account: €25 a month continues, and the €100 birthday money from her grandparents
goes in as well.

## 5. Action items

- Tom: switch the electricity provider by 4 October.
- Maya: cancel the two subscriptions and update the spreadsheet categories.
- Both: Sunday meal planning, starting 6 October.
- Maya: write to the landlord about the heating and the bathroom damp before winter.
"""

_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


def _x(text: str) -> str:
    return html_escape(text, quote=True)


def build_odt(path: Path) -> None:
    def body(source: str) -> str:
        parts: list[str] = []
        items: list[str] = []
        for kind, text in [*_blocks(source), ("end", "")]:
            if kind != "li" and items:
                parts.append("<text:list>" + "".join(items) + "</text:list>")
                items = []
            if kind == "h":
                parts.append(
                    f'<text:h text:style-name="Heading_20_1" text:outline-level="1">{_x(text)}</text:h>'
                )
            elif kind == "li":
                items.append(
                    f'<text:list-item><text:p text:style-name="Standard">{_x(text)}</text:p></text:list-item>'
                )
            elif kind == "p":
                parts.append(f'<text:p text:style-name="Standard">{_x(text)}</text:p>')
        return "\n".join(parts)

    rows = []
    for r, row in enumerate(BUDGET_TABLE):
        style = "Table_20_Heading" if r == 0 or row[0] == "Total" else "Table_20_Contents"
        cells = "".join(
            f'<table:table-cell office:value-type="string"><text:p text:style-name="{style}">{_x(v)}</text:p>'
            "</table:table-cell>"
            for v in row
        )
        rows.append(f"<table:table-row>{cells}</table:table-row>")
    table = (
        '<table:table table:name="September2024">'
        f'<table:table-column table:number-columns-repeated="{len(BUDGET_TABLE[0])}"/>'
        f"<table:table-header-rows>{rows[0]}</table:table-header-rows>" + "".join(rows[1:]) + "</table:table>"
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<office:document-content {_ODF_NS} office:version="1.3">\n'
        "<office:body><office:text>\n"
        f'<text:p text:style-name="Title">{_x(BUDGET_TITLE)}</text:p>\n'
        f"{body(BUDGET_INTRO)}\n{table}\n{body(BUDGET_REST)}\n"
        "</office:text></office:body></office:document-content>\n"
    )
    styles = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<office:document-styles {_ODF_NS} office:version="1.3"><office:styles>'
        '<style:style style:name="Standard" style:family="paragraph">'
        '<style:paragraph-properties fo:margin-bottom="0.2cm"/>'
        '<style:text-properties fo:font-size="11pt"/></style:style>'
        '<style:style style:name="Title" style:family="paragraph" style:parent-style-name="Standard">'
        '<style:text-properties fo:font-size="20pt" fo:font-weight="bold"/></style:style>'
        '<style:style style:name="Heading_20_1" style:display-name="Heading 1" style:family="paragraph" '
        'style:parent-style-name="Standard" style:default-outline-level="1">'
        '<style:paragraph-properties fo:margin-top="0.4cm"/>'
        '<style:text-properties fo:font-size="14pt" fo:font-weight="bold"/></style:style>'
        '<style:style style:name="Table_20_Contents" style:display-name="Table Contents" '
        'style:family="paragraph" style:parent-style-name="Standard"/>'
        '<style:style style:name="Table_20_Heading" style:display-name="Table Heading" '
        'style:family="paragraph" style:parent-style-name="Table_20_Contents">'
        '<style:text-properties fo:font-weight="bold"/></style:style>'
        "</office:styles></office:document-styles>\n"
    )
    meta = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<office:document-meta {_ODF_NS} office:version="1.3"><office:meta>'
        f"<dc:title>{_x(BUDGET_TITLE)}</dc:title>"
        f"<meta:initial-creator>{AUTHOR}</meta:initial-creator><dc:creator>{AUTHOR}</dc:creator>"
        "<meta:creation-date>2024-09-29T21:20:00</meta:creation-date><dc:date>2024-09-29T21:35:00</dc:date>"
        "<dc:language>en-GB</dc:language>"
        "</office:meta></office:document-meta>\n"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.3">\n'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
        'manifest:media-type="application/vnd.oasis.opendocument.text"/>\n'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>\n'
        '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>\n'
        '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>\n'
        "</manifest:manifest>\n"
    )
    _write_zip(
        path,
        [
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("META-INF/manifest.xml", manifest.encode()),
            ("content.xml", content.encode()),
            ("styles.xml", styles.encode()),
            ("meta.xml", meta.encode()),
        ],
    )


# ==================================================================================================
# 7. Home composting (a saved HTML article).

COMPOST_TITLE = "Composting at Home: A Beginner's Guide to Black Gold"
COMPOST_BODY = """
About a third of what goes into the average household bin is kitchen and garden waste that could
become compost instead. Composting it at home keeps it out of landfill, where it rots without
oxygen and releases methane, and it gives you a free, crumbly, dark soil improver that gardeners
call black gold. It takes a little patience and almost no money.

## Greens and browns

Every compost heap is a balance between two kinds of material. Greens are moist and rich in
nitrogen: vegetable peelings, fruit scraps, coffee grounds, tea leaves, fresh grass clippings and
young weeds. Browns are dry and rich in carbon: autumn leaves, shredded cardboard, egg boxes,
straw, wood chips and small twigs. The bacteria and fungi that do the work need both, in a ratio of
roughly 25 to 30 parts carbon to one part nitrogen.

In practice that means two to three buckets of browns for every bucket of greens. Most beginners
add far too many greens, because that is what the kitchen produces every day. Keep a sack of dry
leaves or torn-up cardboard next to the bin and add a couple of handfuls each time you empty the
kitchen caddy.

## Choosing a bin

- A closed plastic bin of about 300 litres suits a small garden and keeps the neighbours happy.
- Two or three wooden bays side by side, built from old pallets, suit a larger garden: one bay
  matures while you fill the next.
- A rotating tumbler makes turning easy, though it needs filling in one go to heat up well.
- No garden? A wormery on a balcony turns kitchen scraps into rich worm casts, and a bokashi bucket
  under the sink ferments scraps, including small amounts of cooked food, in a few weeks.

## Building and looking after the heap

Stand the bin on bare soil in a sheltered, half-shady spot so that worms can move in from below.
Start with a layer of twiggy material for airflow, then add greens and browns in roughly equal
layers. The heap should be as damp as a wrung-out sponge: squeeze a handful and a drop or two of
water should appear. Water it in dry summers and cover it in wet winters.

Turn the heap with a garden fork every few weeks to let air in; the more often you turn it, the
sooner it is ready. A well-mixed heap of at least a cubic metre can reach 60 °C in its centre
within days and make compost in two to three months. A cold heap that you simply keep adding to
takes nine months to a year, but needs almost no attention.

## What to leave out

- Meat, fish, bones and dairy, which attract rats and smell as they rot.
- Cat litter and dog waste, which can carry parasites.
- Diseased plants, and perennial weed roots such as bindweed and couch grass.
- Weeds that have set seed, unless your heap gets properly hot.
- Glossy or coated paper, coal ash, and "compostable" plastics not certified for home composting.

## Troubleshooting

- Smells of rotten eggs or ammonia: too wet and too many greens. Mix in dry browns and turn it.
- Nothing seems to happen: too dry or too many browns. Water it and add fresh grass clippings.
- Clouds of fruit flies: bury fresh scraps under a layer of browns and keep the lid on.
- Rats: remove any cooked food, put wire mesh under the bin and turn it often; rats hate disturbance.

## When is it ready?

Finished compost is dark brown, crumbly and smells like a forest floor after rain. You should not
recognise what went in, apart from the odd eggshell or avocado stone. Sieve it, put the lumps back
in the heap, and spread a layer about 5 cm thick over your beds in spring, or mix one part compost
with three parts potting mix for containers. Your plants will notice the difference.
"""


def build_html() -> str:
    parts: list[str] = []
    items: list[str] = []
    for kind, text in [*_blocks(COMPOST_BODY), ("end", "")]:
        if kind != "li" and items:
            parts.append("      <ul>\n" + "\n".join(items) + "\n      </ul>")
            items = []
        if kind == "h":
            parts.append(f"      <h2>{_x(text)}</h2>")
        elif kind == "li":
            items.append(f"        <li>{_x(text)}</li>")
        elif kind == "p":
            parts.append(f"      <p>{_x(text)}</p>")
    article = "\n".join(parts)
    return f"""<!DOCTYPE html>
<!-- saved from url=(0062)https://www.thepatientgardener.example/guides/home-composting/ -->
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="author" content="Ruth Okafor">
  <meta name="description" content="How to start a compost heap at home: greens and browns, bins, turning, what to leave out.">
  <title>{_x(COMPOST_TITLE)} | The Patient Gardener</title>
  <style>
    body {{ font-family: Georgia, serif; max-width: 42em; margin: 2em auto; line-height: 1.6; color: #222; }}
    header nav a, footer a {{ margin-right: 1em; color: #3a6b35; }}
    .byline {{ color: #666; font-style: italic; }}
  </style>
</head>
<body>
  <header>
    <nav><a href="/">Home</a><a href="/guides/">Guides</a><a href="/vegetables/">Vegetables</a></nav>
  </header>
  <main>
    <article>
      <h1>{_x(COMPOST_TITLE)}</h1>
      <p class="byline">By Ruth Okafor - published 12 April 2023</p>
{article}
    </article>
  </main>
  <footer>
    <p>The Patient Gardener - practical advice for small gardens.</p>
  </footer>
</body>
</html>
"""


# ==================================================================================================
# 8. The Clockmaker's Apprentice (EPUB 3, three chapters).

STORY_TITLE = "The Clockmaker's Apprentice"
STORY_AUTHOR = "Edith Marlowe"
STORY_CHAPTERS = [
    (
        "The Shop on Ferry Lane",
        """
        In the town of Wrenfield, where the river bends twice before it reaches the sea, there was a
        clock shop so narrow that customers had to come in sideways. It belonged to Mr. Absalom Tull,
        who was seventy-one years old and had never been late for anything in his life. Every clock in
        the shop, and there were two hundred and six of them, struck the hour within the same breath,
        and the people of Ferry Lane set their days by the sound.

        In the autumn of the year the new bridge was finished, Mr. Tull took an apprentice. Her name
        was Nell Ashby. She was twelve, the daughter of a ferryman who would have no more work once
        the bridge opened, and she had quick, restless fingers that had already taken her father's
        pocket watch apart and put it back together with one small wheel left over.

        "The wheel you had left over," said Mr. Tull, peering at it over his spectacles, "is the one
        that mattered most. Come back on Monday at seven."

        So he taught her. He taught her to hold a loupe in her eye without squinting, to clean a pivot
        with a splinter of elder pith, to oil a movement with a single bead no bigger than a pinhead.
        Above all he taught her to listen. "A clock tells you what is wrong with it," he said, "if
        you are quiet long enough to hear." By midwinter Nell could tell a tired mainspring from a
        worn escapement with her eyes closed.
        """,
    ),
    (
        "The Clock That Ran Backwards",
        """
        One wet evening in December a woman in a grey cloak came into the shop, carrying a brass
        carriage clock wrapped in a shawl. She set it on the counter without a word, and Mr. Tull and
        Nell watched the minute hand creep, steadily and unmistakably, the wrong way round the dial.

        "My husband made it," the woman said. "The winter before the ferry went down."

        Mr. Tull turned the clock over in his hands for a long time. "It cannot be done," he said at
        last, "not without rebuilding the whole train of wheels. And yet here it is." He was a careful
        man, and careful men do not like mysteries. He told the woman to come back in a week.

        Nell could not leave it alone. When the shop was closed she opened the case by candlelight and
        found that nothing had been rebuilt at all. The escape wheel had simply been mounted the other
        way round on its arbor, and a tiny extra pinion, no bigger than a grain of barley, reversed
        the motion to the hands. It was the cleverest work she had ever seen. Scratched inside the
        back plate, in letters so small she needed the loupe to read them, were the words: For Alice,
        so that we may have the time again.
        """,
    ),
    (
        "Midsummer",
        """
        When the woman came back, Nell showed her the little pinion and read her the inscription. The
        woman was quiet for a long while. Then she said she would like the clock to go forwards
        again, like everybody else's, because she had spent a whole year waiting for time to run
        back, and it never would.

        Nell made the change herself, while Mr. Tull pretended to be busy with a longcase clock in the
        corner. She did not remove the pinion; she only turned it aside, so that anyone who knew where
        to look could set it back. "That is the difference," Mr. Tull said afterwards, "between a
        mechanic and a clockmaker."

        The bridge opened at midsummer with a brass band and a great deal of bunting. Nell's father
        was given the job of raising the middle span for the tall ships, and he kept time for it by a
        clock his daughter had cleaned. Mr. Tull lived for many more years, though his hands grew too
        unsteady for the finest work. By then the sign over the narrow door read Tull and Ashby, and
        every clock inside still struck the hour within the same breath.
        """,
    ),
]


def build_epub(path: Path) -> None:
    uid = "urn:uuid:6b0f3c2e-9d1a-4f6e-8b7a-2c5d4e3f1a90"
    css = "body { font-family: serif; line-height: 1.5; margin: 1em; }\nh1 { text-align: center; }\n"

    def xhtml(title: str, body: str) -> bytes:
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
            '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
            'lang="en" xml:lang="en">\n'
            f'<head><meta charset="utf-8"/><title>{_x(title)}</title>'
            '<link rel="stylesheet" type="text/css" href="style.css"/></head>\n'
            f"<body>\n{body}\n</body>\n</html>\n"
        ).encode()

    chapters: list[tuple[str, bytes]] = []
    for n, (heading, source) in enumerate(STORY_CHAPTERS, start=1):
        paras = "\n".join(f"<p>{_x(text)}</p>" for _kind, text in _blocks(source))
        body = f'<section epub:type="chapter" id="chapter-{n}">\n<h1>Chapter {n}: {_x(heading)}</h1>\n{paras}\n</section>'
        chapters.append((f"chapter{n}.xhtml", xhtml(f"Chapter {n}: {heading}", body)))

    toc = "\n".join(
        f'<li><a href="chapter{n}.xhtml">Chapter {n}: {_x(heading)}</a></li>'
        for n, (heading, _source) in enumerate(STORY_CHAPTERS, start=1)
    )
    nav = xhtml(
        STORY_TITLE,
        f'<nav epub:type="toc" id="toc">\n<h1>Contents</h1>\n<ol>\n{toc}\n</ol>\n</nav>',
    )
    items = "\n".join(
        f'    <item id="chapter{n}" href="chapter{n}.xhtml" media-type="application/xhtml+xml"/>'
        for n in range(1, len(chapters) + 1)
    )
    spine = "\n".join(f'    <itemref idref="chapter{n}"/>' for n in range(1, len(chapters) + 1))
    opf = f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="bookid" xml:lang="en">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="bookid">{uid}</dc:identifier>
    <dc:title>{_x(STORY_TITLE)}</dc:title>
    <dc:creator>{STORY_AUTHOR}</dc:creator>
    <dc:language>en</dc:language>
    <dc:description>A short story in three chapters about a clockmaker, his apprentice and a clock that runs backwards.</dc:description>
    <meta property="dcterms:modified">2024-02-10T18:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="css" href="style.css" media-type="text/css"/>
{items}
  </manifest>
  <spine>
{spine}
  </spine>
</package>
"""
    container = """<?xml version="1.0" encoding="utf-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""
    _write_zip(
        path,
        [
            ("mimetype", b"application/epub+zip"),
            ("META-INF/container.xml", container.encode()),
            ("OEBPS/content.opf", opf.encode()),
            ("OEBPS/nav.xhtml", nav),
            ("OEBPS/style.css", css.encode()),
            *[(f"OEBPS/{name}", data) for name, data in chapters],
        ],
    )


# ==================================================================================================
# 9. Quarterly project update (PPTX, title + four bullet slides with speaker notes).

DECK_TITLE = "Handheld Scanner Rollout - Q3 2024 Update"
DECK_SLIDES: list[tuple[str, list[str], str]] = [
    (
        "Summary",
        [
            "Overall status: amber - on budget, three weeks behind at the Leipzig site",
            "420 of 610 handheld scanners live in the Hamburg and Dortmund warehouses",
            "Picking errors down from 2.2% to 0.8% where scanners are live",
            "Leipzig go-live moved from 30 September to 21 October after the Wi-Fi survey",
        ],
        "The short version: two of three warehouses are live and the results are better than the "
        "business case assumed. The delay in Leipzig is about wireless coverage in the high-bay racking, "
        "not about the devices or the software, and it does not change the budget because the extra "
        "access points come out of the contingency we set aside in the spring.",
    ),
    (
        "Milestones this quarter",
        [
            "Hamburg live on 15 July with all 240 devices; paper pick lists retired",
            "Dortmund live on 2 September with 180 devices, including the night shift",
            "Warehouse management system integration: stock levels update within 4 seconds of a scan",
            "96 team leads trained as scanner champions who coach their own shifts",
        ],
        "Hamburg went smoothly once we fixed the label printers in the first week. In Dortmund we "
        "trained the night shift separately, which cost two extra days but avoided the confusion we saw "
        "in Hamburg. The champions model is working: most questions are now answered on the floor "
        "instead of through the IT service desk, which had 60 percent fewer tickets in September than in July.",
    ),
    (
        "Results so far",
        [
            "Pick accuracy: 97.8% before, 99.2% after",
            "Picks per picker per hour: 92 before, 108 after (+17%)",
            "Full stock count of one aisle: 3 hours before, 40 minutes after",
            "Customer complaints about wrong items: down 41% compared with Q2",
        ],
        "These numbers compare the eight weeks before and after go-live at each site, same season, "
        "same order mix as far as possible. The accuracy gain comes mainly from the scan check on the "
        "pick location: pickers can no longer take an item from the neighbouring shelf. Finance has "
        "reviewed the complaint figures and expects the scanners to pay for themselves in 14 months.",
    ),
    (
        "Risks and next steps",
        [
            "Wi-Fi dead zones in the Leipzig high-bay area: 14 new access points, installed 7 to 11 October",
            "Battery life in the -20 C cold store is under 5 hours: heated holsters ordered, spare batteries per shift",
            "Q4: Leipzig go-live on 21 October, then retire the paper returns process",
            "Decision needed by December: include the Vienna site in the 2025 budget?",
        ],
        "The one decision we need from this committee is about Vienna. If it goes into next year's "
        "budget we can order devices in January at this year's price; after that the supplier's new "
        "price list applies, about 8 percent higher. Risks in the cold store are under control but "
        "we will report battery figures again in the next update.",
    ),
]


def build_pptx(path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Pt

    prs = Presentation()
    props = prs.core_properties
    props.title = DECK_TITLE
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.subject = "Quarterly update for the operations steering committee"
    props.created = datetime(2024, 10, 4, 14, 0, 0)
    props.modified = datetime(2024, 10, 7, 17, 30, 0)
    props.last_printed = datetime(2024, 10, 7, 17, 30, 0)
    props.revision = 7

    title_slide = prs.slides.add_slide(prs.slide_layouts[0])
    title_slide.shapes.title.text = DECK_TITLE
    title_slide.placeholders[
        1
    ].text = f"Operations steering committee - 8 October 2024\n{AUTHOR}, project lead"
    title_slide.notes_slide.notes_text_frame.text = (
        "Welcome. This update covers July to September: what went live, what it changed on the "
        "warehouse floor, and the one decision we need from the committee today."
    )
    for heading, bullets, notes in DECK_SLIDES:
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = heading
        frame = slide.placeholders[1].text_frame
        frame.text = bullets[0]
        for bullet in bullets[1:]:
            frame.add_paragraph().text = bullet
        for paragraph in frame.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(22)
        slide.notes_slide.notes_text_frame.text = notes
    buffer = io.BytesIO()
    prs.save(buffer)
    _normalize_zip(buffer.getvalue(), path)


# ==================================================================================================
# 10. A photo-renaming utility (Python). It is indexed as code and linted with the repository.

RENAME_PY = _text(
    '''
    """Rename holiday photos after the moment they were taken.

    Cameras and phones name pictures IMG_4821.JPG or PXL_20240814_131502.jpg, which sort badly once
    photos from two devices land in the same folder. This script renames every image in a folder to

        2024-08-14_15-30-12_alps.jpg

    using the date the shutter was pressed (the EXIF DateTimeOriginal tag), so that a slideshow of a
    trip plays in the order things happened, whoever held the camera.

    Usage:
        python rename_photos.py ~/Pictures/alps-2024 --label alps                 # show the plan only
        python rename_photos.py ~/Pictures/alps-2024 --label alps --apply         # rename for real
        python rename_photos.py ~/Pictures/alps-2024 --shift-hours -1 --apply     # camera clock was wrong

    Nothing is renamed without --apply. Two photos taken in the same second get -2, -3 suffixes instead
    of overwriting each other. Pillow reads the EXIF data when it is installed; without it, or for an
    image with no EXIF date (screenshots, pictures sent through messengers), the file's modification
    time is used instead and the plan says so.
    """

    from __future__ import annotations

    import argparse
    import sys
    from datetime import datetime, timedelta
    from pathlib import Path

    try:
        from PIL import Image
    except ImportError:  # Pillow is optional: fall back to file times
        Image = None  # type: ignore[assignment]

    PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic"}
    EXIF_IFD_POINTER = 34665  # where the camera-specific tags live
    EXIF_DATETIME_ORIGINAL = 36867  # "2024:08:14 15:30:12", when the shutter was pressed

    Plan = list[tuple[Path, Path, str]]  # (current path, new path, where the date came from)


    def taken_at(path: Path) -> tuple[datetime, str]:
        """Return when a photo was taken, and whether that came from "exif" or the "file time"."""
        if Image is not None:
            try:
                with Image.open(path) as img:
                    raw = img.getexif().get_ifd(EXIF_IFD_POINTER).get(EXIF_DATETIME_ORIGINAL)
                if raw:
                    # EXIF separates the date with colons too, and pads with NULs or spaces.
                    return datetime.strptime(str(raw).strip("\\x00 "), "%Y:%m:%d %H:%M:%S"), "exif"
            except (OSError, ValueError):
                pass  # unreadable image or odd date format: use the file time below
        return datetime.fromtimestamp(path.stat().st_mtime), "file time"


    def stamp(when: datetime, label: str) -> str:
        """The new file stem: date and time first, so names sort chronologically."""
        stem = when.strftime("%Y-%m-%d_%H-%M-%S")
        return f"{stem}_{label}" if label else stem


    def plan_renames(folder: Path, label: str, shift: timedelta) -> Plan:
        """Work out every new name before touching anything, so clashes are resolved in advance."""
        photos = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES]
        dated = sorted(((taken_at(p), p) for p in photos), key=lambda item: (item[0][0], item[1].name))
        plan: Plan = []
        used: set[str] = set()
        for (when, source), path in dated:
            stem, suffix = stamp(when + shift, label), path.suffix.lower()
            name, n = stem + suffix, 2
            while name in used:  # burst shots: several photos in the same second
                name, n = f"{stem}-{n}{suffix}", n + 1
            used.add(name)
            plan.append((path, folder / name, source))
        return plan


    def apply_plan(plan: Plan) -> None:
        """Rename in two passes through temporary names, so no photo can overwrite another midway.

        Without this, renaming A to B while B is still waiting to be renamed to C would destroy B.
        """
        staged = []
        for i, (old, new, _source) in enumerate(plan):
            if old != new:
                temporary = old.with_name(f".renaming-{i}{old.suffix}")
                old.rename(temporary)
                staged.append((temporary, new))
        for temporary, new in staged:
            temporary.rename(new)


    def main(argv: list[str] | None = None) -> int:
        parser = argparse.ArgumentParser(description="Rename photos after the date they were taken.")
        parser.add_argument("folder", type=Path, help="folder of photos (not searched recursively)")
        parser.add_argument("--label", default="", help="word added to every name, e.g. 'alps'")
        parser.add_argument("--shift-hours", type=float, default=0.0, help="fix a camera clock in the wrong zone")
        parser.add_argument("--apply", action="store_true", help="rename for real instead of printing the plan")
        args = parser.parse_args(argv)
        if not args.folder.is_dir():
            parser.error(f"{args.folder} is not a folder")

        plan = plan_renames(args.folder, args.label, timedelta(hours=args.shift_hours))
        for old, new, source in plan:
            note = "" if source == "exif" else "   (no EXIF date: used the file time)"
            print(f"{old.name:36} -> {new.name}{note}")
        if not plan:
            print("No photos found.")
        elif args.apply:
            apply_plan(plan)
            print(f"Renamed {len(plan)} photos.")
        else:
            print(f"\\n{len(plan)} photos would be renamed. Run again with --apply to do it.")
        return 0


    if __name__ == "__main__":
        sys.exit(main())
    '''
)


# ==================================================================================================
# 11. Birthday party planning (e-mail).

PARTY_BODY = _text(
    """
    Hi both,

    Here is where we are with Lena's party, so that everything is in one place. Her birthday is on
    Thursday the 19th, but the party is on Saturday 21 September, 14:00 to 17:00.

    VENUE
    The pavilion at the community garden on Lindenstraße is booked (€60; I collect the key from
    Mrs Hartmann on Friday evening). If it rains we can move into the hall next door at no extra
    cost, as long as we tell her by Friday noon.

    GUESTS
    Twelve children from her class plus cousins Ben and Mila, so fourteen kids. The invitations went
    into the school bags today and I asked for replies by Sunday the 15th. Parents are welcome to stay
    for coffee, so expect eight to ten adults as well.

    THEME
    Lena has decided on "under the sea" (it was dinosaurs until last Tuesday). Nothing elaborate:
    blue and green balloons, the fish bunting from the school fair, paper crowns with shells, and a
    treasure hunt.

    PLAN FOR THE AFTERNOON
    14:00  arrival, decorating crowns at the long table
    14:30  treasure hunt in the garden (Jo, you are the pirate, if you are still willing!)
    15:15  cake, candles and singing
    15:45  games: musical statues, pass the parcel, sack race
    16:40  piñata
    17:00  pick-up, goody bags handed out at the gate

    FOOD
    I'll bake the chocolate sheet cake and try to decorate it as an octopus (pray for me). Otherwise
    we keep it simple: fruit skewers, popcorn, mini pizzas, cucumber sticks, apple juice and water.
    Coffee and a plum crumble for the adults. Two allergies to remember: Noah cannot have nuts, so the
    whole party is nut-free, goody bags included, and Emma is lactose intolerant, so I'll make half a
    dozen dairy-free cupcakes for her.

    WHO DOES WHAT
    - Tom: collect drinks and balloons on Friday, set up tables and bunting from 12:30, and look after
      the music (the playlist is already on the speaker).
    - Jo: treasure hunt clues and the pirate costume; face paints too if you can bring your kit.
    - Me: cake, food, goody bags, and chasing the replies.
    - Grandma offered to run the coffee table and I said yes immediately.

    Budget is about €180 all in, including the pavilion.

    Jo, could you come at 13:00 to hide the treasure before the first guests arrive? And Tom, please
    check that the pump for the balloons still works; last year it gave up after six.

    Let me know if I have forgotten anything.

    Love,
    Maya

    P.S. Do not mention the blue bike in front of her. She has started listening at doors.
    """
)


def build_eml() -> bytes:
    msg = EmailMessage(policy=email.policy.default)
    msg["From"] = f"{AUTHOR} <maya.brandt@example.net>"
    msg["To"] = "Tom Brandt <tom.brandt@example.net>, Jo Keller <jo.keller@example.com>"
    msg["Subject"] = "Lena's 7th birthday party - plan and who does what"
    msg["Date"] = "Tue, 03 Sep 2024 21:12:00 +0200"
    msg["Message-ID"] = "<20240903191200.4f2a9c@mail.example.net>"
    msg.set_content(PARTY_BODY, cte="8bit")
    return msg.as_bytes()


# ==================================================================================================
# 12. Letter to the landlord (RTF).

LETTER_TITLE = "Repairs needed before winter: heating and bathroom damp"
LETTER_PARAS = [
    "Maya Brandt\\line Kastanienallee 14, Flat 3\\line 79098 Freiburg",
    "2 October 2024",
    "Mr Peter Hollmann\\line Hollmann Property Management\\line Bertoldstraße 22\\line 79098 Freiburg",
    "\\b Re: Repairs needed before winter - heating and damp in the bathroom, Kastanienallee 14, Flat 3\\b0",
    "Dear Mr Hollmann,",
    "I am writing about two problems in our flat that need attention before the heating season. I "
    "reported both by phone on 12 September and was told that a technician would be in touch, but we "
    "have not heard anything since, so I am setting out the details in writing.",
    "First, the heating. The radiators in the living room and in our daughter's bedroom stay cold, even "
    "with the thermostatic valves fully open, while the radiator in the hall gets very hot. The pressure "
    "gauge on the boiler regularly drops below 1 bar, and we have had to top up the system three times "
    "since August. This suggests a leak or trapped air somewhere in the pipework. Last winter the same "
    "two rooms struggled to reach 17 \\u176? C. As a seven-year-old sleeps in one of them, I would be "
    "grateful if the system could be checked and bled, and any leak repaired, before the end of October.",
    "Second, damp in the bathroom. Black mould has appeared again on the ceiling above the shower and in "
    "the corner behind the washing machine, despite the extractor fan and our airing the room several "
    "times a day. The wall there feels cold and damp to the touch, and the silicone seal around the "
    "shower tray has come away in two places, so water may be getting behind the tiles. We treated the "
    "patches with a mould remover in July, but they returned within a few weeks. I enclose photographs "
    "taken on 28 September.",
    "Under our tenancy agreement, repairs to the heating installation and to the fabric of the building "
    "are the landlord's responsibility, and I am sure you will agree that both problems will only become "
    "more expensive if they are left over the winter. We can give access on any weekday morning, and my "
    "husband works from home on Tuesdays and Thursdays. Please let me know by 16 October when a "
    "technician can come. You can reach me on 0171 555 0238 or at maya.brandt@example.net.",
    "Thank you for your help. We have been happy tenants here for six years and would like to keep the "
    "flat in good condition.",
    "Yours sincerely,",
    "Maya Brandt",
    "Enclosures: four photographs (bathroom ceiling, corner behind the washing machine, shower seal, "
    "boiler pressure gauge)",
]


def _rtf_escape(text: str) -> str:
    """Escape non-ASCII characters; the letter's paragraphs already carry their own RTF control words."""
    return "".join(ch if ord(ch) < 128 else f"\\u{ord(ch)}?" for ch in text)


def build_rtf() -> str:
    paras = "\n".join(f"{{\\pard\\sa240\\sl276\\slmult1 {_rtf_escape(p)}\\par}}" for p in LETTER_PARAS)
    return (
        "{\\rtf1\\ansi\\ansicpg1252\\deff0\n"
        "{\\fonttbl{\\f0\\froman\\fcharset0 Times New Roman;}}\n"
        f"{{\\info{{\\title {LETTER_TITLE}}}{{\\author {AUTHOR}}}"
        "{\\creatim\\yr2024\\mo10\\dy2\\hr9\\min15}{\\revtim\\yr2024\\mo10\\dy2\\hr9\\min40}}\n"
        "\\paperw11906\\paperh16838\\margl1440\\margr1440\\margt1440\\margb1440\n"
        "\\f0\\fs24\n"
        f"{paras}\n"
        "}\n"
    )


# ==================================================================================================
# 13. Half-marathon training plan (plain text).

TRAINING_TXT = _text(
    """
    HALF MARATHON TRAINING PLAN - spring race, Sunday 13 April 2025
    Goal: finish under 2 hours (5:40 per km). Written 12 January 2025, twelve weeks out.

    WHERE I'M STARTING FROM
    Running three times a week since the summer, 20-25 km a week, longest run 12 km. Last 10 km
    race in October: 54:30. That predicts roughly 2:00 for the half if the endurance is there, so
    the plan is mostly about building the long run without getting injured.

    PACES
      Easy / long runs    6:30-7:00 per km  (can hold a conversation)
      Tempo               5:25 per km       ("comfortably hard", could speak a few words)
      Intervals           4:55-5:05 per km  (hard, but even from first rep to last)
      Race pace           5:40 per km

    THE WEEK
      Mon  rest or 30 min easy cycling
      Tue  intervals (after a 15 min warm-up, with a 10 min cool-down)
      Wed  easy run + 20 min strength work
      Thu  tempo run
      Fri  rest
      Sat  easy 5-6 km, or parkrun at an easy effort
      Sun  long run, always at easy pace

    WEEK BY WEEK (Tuesday intervals / Thursday tempo / Sunday long run)
      Wk 1   6 x 400 m      / 15 min tempo        / 12 km
      Wk 2   6 x 600 m      / 18 min tempo        / 13 km
      Wk 3   5 x 800 m      / 20 min tempo        / 14 km
      Wk 4   easy week: 4 x 400 m / 12 min tempo  / 10 km
      Wk 5   6 x 800 m      / 22 min tempo        / 15 km
      Wk 6   5 x 1 km       / 25 min tempo        / 16 km
      Wk 7   4 x 1.2 km     / 2 x 12 min tempo    / 17 km, last 3 km at race pace
      Wk 8   easy week: 5 x 600 m / 15 min tempo  / 12 km
      Wk 9   5 x 1 km       / 28 min tempo        / 18 km
      Wk 10  4 x 1.5 km     / 30 min tempo        / 19 km, last 5 km at race pace
      Wk 11  taper: 5 x 800 m / 20 min tempo      / 14 km
      Wk 12  race week: 4 x 400 m on Tuesday, 20 min easy on Thursday, RACE on Sunday

    STRENGTH (Wednesdays, 20 minutes)
    Three rounds of: 12 goblet squats, 10 reverse lunges per leg, 15 calf raises per leg (slow on
    the way down), 10 single-leg deadlifts per leg, 40 seconds of plank, 10 glute bridges. Mostly
    to keep the knees and Achilles tendons happy as the mileage goes up.

    RULES FOR MYSELF
    - The easy runs are really easy. If I can't talk, I'm going too hard.
    - Add no more than about 10% to the weekly distance, and take the planned easy weeks seriously.
    - Sharp pain, or pain that gets worse during a run, means stop and walk home. Shin pain that
      lingers the next morning: two days off, then easy running only.
    - New shoes by week 3 so they have 200 km in them by race day. Nothing new on race day at all.

    FUELLING
    Practise on every long run over 15 km: one gel at 45 minutes and then every 30 minutes, with
    water. Porridge with banana three hours before the start, the same breakfast I use before long
    runs. A normal dinner the evening before, not a mountain of pasta.

    RACE PLAN
    First 3 km at 5:50 (it will feel too slow; it isn't), settle into 5:40 until 15 km, then
    whatever is left. Walk through the drinks stations for ten steps.
    """
)


# ==================================================================================================
# Generation


def _write_text(text: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(text.encode("utf-8"))

    return write


def _write_bytes(make: Callable[[], bytes]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(make())

    return write


DOCUMENTS: list[tuple[str, str, Callable[[Path], None]]] = [
    # (file name, title, writer)
    ("building-a-high-speed-car-detector.pdf", CAR_TITLE, build_pdf),
    ("react-performance-optimization.md", "React Performance Optimization", _write_text(REACT_MD)),
    ("optimizing-database-queries-for-speed.docx", DB_TITLE, build_docx),
    ("sourdough-bread-recipe.txt", "Country Sourdough - my weekend loaf", _write_text(SOURDOUGH_TXT)),
    ("alps-trip-notes-2024.md", "Stubai High Trail - Trip Notes, August 2024", _write_text(ALPS_MD)),
    ("household-budget-meeting-2024-09.odt", BUDGET_TITLE, build_odt),
    ("home-composting-guide.html", COMPOST_TITLE, _write_bytes(lambda: build_html().encode("utf-8"))),
    ("the-clockmakers-apprentice.epub", STORY_TITLE, build_epub),
    ("q3-scanner-rollout-update.pptx", DECK_TITLE, build_pptx),
    ("rename_photos.py", "Rename holiday photos after the moment they were taken", _write_text(RENAME_PY)),
    (
        "lena-birthday-party.eml",
        "Lena's 7th birthday party - plan and who does what",
        _write_bytes(build_eml),
    ),
    ("letter-to-landlord-repairs.rtf", LETTER_TITLE, _write_bytes(lambda: build_rtf().encode("ascii"))),
    ("half-marathon-training-plan.txt", "Half Marathon Training Plan", _write_text(TRAINING_TXT)),
]


def generate(out: Path) -> list[Path]:
    """Write every demo document into ``out``; remove files there that the demo no longer has."""
    out.mkdir(parents=True, exist_ok=True)
    wanted = {name for name, _title, _writer in DOCUMENTS}
    for stale in sorted(out.iterdir()):
        if stale.is_file() and stale.name not in wanted:
            print(f"removing {stale.name} (not part of the demo library)")
            stale.unlink()
    paths = []
    for name, _title, writer in DOCUMENTS:
        path = out / name
        writer(path)
        paths.append(path)
    return paths


# ==================================================================================================
# Checking: every file opens with its own library, and its text reads back.


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"style", "script", "head"}:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"style", "script", "head"}:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _xml_text(data: bytes) -> str:
    return " ".join(t.strip() for t in ElementTree.fromstring(data).itertext() if t.strip())


def _check_zip_container(path: Path, mimetype: bytes) -> zipfile.ZipFile:
    zf = zipfile.ZipFile(path)
    bad = zf.testzip()
    assert bad is None, f"corrupt member {bad}"
    first = zf.infolist()[0]
    assert first.filename == "mimetype", "mimetype is not the first member"
    assert first.compress_type == zipfile.ZIP_STORED, "mimetype is compressed"
    assert zf.read("mimetype") == mimetype, "wrong mimetype"
    return zf


def read_back(path: Path) -> tuple[str, str]:
    """Open ``path`` with the library for its format; return (kind, text). Raises if it is broken."""
    suffix = path.suffix.lower()
    if suffix in {".txt", ".md"}:
        return suffix[1:], path.read_text(encoding="utf-8")
    if suffix == ".py":
        source = path.read_text(encoding="utf-8")
        compile(source, str(path), "exec")
        return "python", source
    if suffix == ".pdf":
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(path))
        try:
            pages = []
            for i in range(len(pdf)):
                page = pdf[i]
                textpage = page.get_textpage()
                pages.append(textpage.get_text_bounded())
                textpage.close()
                page.close()
        finally:
            pdf.close()
        assert len(pages) == len(CAR_PAGES), f"{len(pages)} pages, expected {len(CAR_PAGES)}"
        for number, text in enumerate(pages, start=1):
            assert f"page {number} of {len(pages)}" in text, f"page {number} lacks its footer"
            assert len(text.split()) > 150, f"page {number} has little text"
        return f"pdf, {len(pages)} pages", "\n".join(pages)
    if suffix == ".docx":
        from docx import Document

        doc = Document(str(path))
        assert doc.core_properties.title == DB_TITLE
        headings = [p for p in doc.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
        assert len(headings) >= 5, "too few headings"
        assert len(doc.tables) == 1, "expected one table"
        cells = [cell.text for row in doc.tables[0].rows for cell in row.cells]
        text = "\n".join([*(p.text for p in doc.paragraphs), *cells])
        return f"docx, {len(headings)} headings, 1 table", text
    if suffix == ".pptx":
        from pptx import Presentation

        prs = Presentation(str(path))
        texts: list[str] = []
        for slide in prs.slides:
            texts.extend(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
            if slide.has_notes_slide:
                texts.append(slide.notes_slide.notes_text_frame.text)
        assert len(prs.slides) == len(DECK_SLIDES) + 1
        return f"pptx, {len(prs.slides)} slides", "\n".join(texts)
    if suffix == ".odt":
        with _check_zip_container(path, b"application/vnd.oasis.opendocument.text") as zf:
            for member in ("META-INF/manifest.xml", "styles.xml", "meta.xml"):
                ElementTree.fromstring(zf.read(member))
            content = zf.read("content.xml")
        root = ElementTree.fromstring(content)
        ns = {"text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}
        assert len(root.findall(".//text:h", ns)) >= 4, "too few headings"
        return "odt", _xml_text(content)
    if suffix == ".epub":
        with _check_zip_container(path, b"application/epub+zip") as zf:
            container = ElementTree.fromstring(zf.read("META-INF/container.xml"))
            ns_c = {"c": "urn:oasis:names:tc:opendocument:xmlns:container"}
            rootfile = container.find(".//c:rootfile", ns_c)
            assert rootfile is not None
            opf_path = rootfile.attrib["full-path"]
            opf = ElementTree.fromstring(zf.read(opf_path))
            ns = {"opf": "http://www.idpf.org/2007/opf"}
            base = opf_path.rsplit("/", 1)[0] + "/"
            hrefs = {
                item.attrib["id"]: item.attrib["href"]
                for item in opf.iterfind(".//opf:manifest/opf:item", ns)
            }
            assert any("nav" in item.attrib.get("properties", "") for item in opf.iterfind(".//opf:item", ns))
            spine = [ref.attrib["idref"] for ref in opf.iterfind(".//opf:spine/opf:itemref", ns)]
            assert len(spine) == len(STORY_CHAPTERS)
            ElementTree.fromstring(zf.read(base + hrefs["nav"]))
            text = "\n".join(_xml_text(zf.read(base + hrefs[idref])) for idref in spine)
        return f"epub, {len(spine)} chapters", text
    if suffix in {".html", ".htm"}:
        parser = _HTMLText()
        parser.feed(path.read_text(encoding="utf-8"))
        return "html", " ".join(parser.parts)
    if suffix == ".eml":
        with path.open("rb") as fh:
            msg = BytesParser(policy=email.policy.default).parse(fh)
        assert msg["Subject"] and msg["Date"], "missing headers"
        body = msg.get_body(preferencelist=("plain",))
        assert body is not None
        return "eml", f"{msg['Subject']}\n{body.get_content()}"
    if suffix == ".rtf":
        from striprtf.striprtf import rtf_to_text

        raw = path.read_text(encoding="ascii")
        assert raw.count("{") == raw.count("}"), "unbalanced braces"
        return "rtf", rtf_to_text(raw)
    raise ValueError(f"no reader for {path.name}")


def check(out: Path) -> int:
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p.read_bytes() for p in generate(Path(tmp))}
    names = {name for name, _t, _w in DOCUMENTS}
    extra = (
        sorted(p.name for p in out.iterdir() if p.is_file() and p.name not in names) if out.is_dir() else []
    )
    if extra:
        problems.append(f"files that are not part of the demo: {', '.join(extra)}")
    total = 0
    print(f"{'file':44} {'format':30} {'words':>5} {'bytes':>7}")
    for name, title, _writer in DOCUMENTS:
        path = out / name
        if not path.is_file():
            problems.append(f"{name}: missing (run scripts/make_demo_library.py)")
            continue
        data = path.read_bytes()
        total += len(data)
        if data != fresh[name]:
            problems.append(f"{name}: differs from a fresh generation (run scripts/make_demo_library.py)")
        try:
            kind, text = read_back(path)
        except Exception as exc:  # report every broken file, not just the first
            problems.append(f"{name}: does not read back: {type(exc).__name__}: {exc}")
            continue
        words = len(text.split())
        print(f"{name:44} {kind:30} {words:5} {len(data):7}")
        if not WORD_RANGE[0] <= words <= WORD_RANGE[1]:
            problems.append(f"{name}: {words} words, outside {WORD_RANGE}")
        if re.search(r"lorem|ipsum", text, re.IGNORECASE):
            problems.append(f"{name}: placeholder text")
        if name.endswith(".pdf"):
            if re.search(r"fast|automobile", text, re.IGNORECASE):
                problems.append(
                    f"{name}: says 'fast' or 'automobile'; the semantic demo relies on it not doing so"
                )
            if not re.search(r"\bcars?\b", text) or "vehicle" not in text:
                problems.append(f"{name}: does not read as being about cars")
        elif re.search(r"automobile", text, re.IGNORECASE):
            problems.append(f"{name}: says 'automobile'")
        head = re.sub(r"\W+", " ", title).lower().split()[:3]
        if not all(word in re.sub(r"\W+", " ", text).lower() for word in head):
            problems.append(f"{name}: title {title!r} not found in its text")
    print(f"{len(DOCUMENTS)} documents, {total:,} bytes in all")
    if total > MAX_TOTAL_BYTES:
        problems.append(f"demo library is {total:,} bytes, over {MAX_TOTAL_BYTES:,}")
    digest = hashlib.sha256(b"".join(fresh[n] for n in sorted(fresh))).hexdigest()[:16]
    print(f"content digest {digest}")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=DEMO_DIR, help=f"output folder (default: {DEMO_DIR})")
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify the files in --out instead of writing them, exit 1 on problems",
    )
    args = parser.parse_args(argv)
    if args.check:
        return check(args.out)
    for path in generate(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

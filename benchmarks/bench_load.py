"""Concurrent sessions on one server: filter change → the rerun's last delta, and the memory of a closed session.

    python -m benchmarks.bench_load [--sessions 5 10] [--changes 5]

One ``streamlit run dashboard.py`` server, as the README starts it, serves:

* **the server alone**: sessions that speak Streamlit's own websocket protocol
  (:class:`ProtocolClient`: the BackMsg/ForwardMsg protobufs a browser sends
  and receives) but render nothing, each on a different page, each changing
  the Lineage filter :data:`CHANGES` times; timed from the rerun request to
  the rerun's last delta. Target (issue 10): p95 ≤ 1 s with 10 sessions.
* **real browsers**: one Debian Chromium, one context per session, each on a
  different page, changing the Lineage filter the same way; timed from the
  click to the page showing the new patient count with nothing stale. The
  browsers share the machine's cores with the server. Target: p95 ≤ 2 s with 5.
* **a closed session's memory**: a session uploads a 100,000-row cohort
  through the Data page (the real upload route), uses it, and closes; the
  server's resident memory is read before, with the data, and after the
  closed session has expired (Streamlit keeps a disconnected session for
  ``server.disconnectedSessionTTL`` seconds so that a dropped connection can
  resume; this run sets it to :data:`TTL_SECONDS`).

Every session checks it saw its own data only (the patient count its filter
implies). Timings are wall-clock on the machine that runs the benchmark.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ClientState_pb2 import ClientState  # noqa: E402
from streamlit.proto.Common_pb2 import FileURLsRequest, UploadedFileInfo  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.NumberInput_pb2 import NumberInput  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from analysis.cohort.model import load_demo_cohort  # noqa: E402
from benchmarks.large_cohort import make_large_cohort  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, start_server  # noqa: E402

TITLE = "concurrent sessions on one server (filter change → last delta)"
COLUMNS = ("p50", "p95", "slowest", "target")
#: URL paths of the pages ("" is the default page, Overview, which lives at the root).
PAGES = ("", "survival", "relapse", "risk_factors", "data")
CHANGES = 5
TTL_SECONDS = 10
#: The Lineage filter's values in turn, and the patient count each gives on the demo cohort.
LINEAGE_STEPS = (["T-ALL"], ["T-ALL", "B-ALL"], ["B-ALL"], [], ["T-ALL"])


def _expected_counts() -> list[int]:
    demo = load_demo_cohort()
    return [int(demo["lineage"].isin(v).sum()) if v else len(demo) for v in LINEAGE_STEPS]


# ------------------------------------------------------------------ the server


def resident_mb(pid: int) -> float:
    """Resident memory of a process (MB), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ------------------------------------------------------------------ a session without a browser


class ProtocolClient:
    """One session over Streamlit's websocket protocol, as a browser would hold it, rendering nothing.

    ``widgets`` maps each widget's key to its id (learned from the deltas);
    ``texts`` holds the latest value of each metric (the sidebar's patient count).
    """

    def __init__(self, url: str, page: str):
        self.url, self.page = url, page
        self.cookie, self.xsrf = _xsrf(url)
        self.ws = connect(url.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit", self.xsrf],
                          additional_headers={"Cookie": self.cookie}, max_size=None, open_timeout=60)
        self.widgets: dict[str, str] = {}
        self.metric = ""
        self.session_id = ""
        self.page_hash = ""
        self.states: dict[str, WidgetState] = {}
        self.cache: dict[str, ForwardMsg] = {}
        self.exceptions: list[str] = []
        self.alerts: list[str] = []

    def rerun(self, *changed: WidgetState, query: str = "") -> float:
        """Request a rerun with these widget values; returns seconds until the rerun's last delta."""
        for state in changed:
            self.states[state.id] = state
        msg = BackMsg()
        msg.rerun_script.CopyFrom(ClientState(query_string=query, page_name=self.page,
                                              page_script_hash=self.page_hash))
        msg.rerun_script.widget_states.widgets.extend(self.states.values())
        start = time.perf_counter()
        self.ws.send(msg.SerializeToString())
        last = start
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(self.ws.recv(timeout=300))
            kind = forward.WhichOneof("type")
            if os.environ.get("BENCH_LOAD_TRACE"):
                print(self.page, kind, forward.delta.new_element.WhichOneof("type") if kind == "delta" else "",
                      forward.script_finished if kind == "script_finished" else "", flush=True)
            if kind == "ref_hash":  # a message this session was sent before, by reference
                forward, kind = self.cache[forward.ref_hash], "delta"
            if kind == "delta":
                last = time.perf_counter()
                if forward.hash:
                    self.cache[forward.hash] = forward
                self._learn(forward)
            elif kind == "new_session":
                self.session_id = forward.new_session.initialize.session_id or self.session_id
            elif kind == "navigation":  # the page that ran: later reruns name it, as the browser does
                self.page_hash = forward.navigation.page_script_hash or self.page_hash
            elif kind == "script_finished" and forward.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return last - start

    def _learn(self, forward: ForwardMsg) -> None:
        element = forward.delta.new_element
        kind = element.WhichOneof("type")
        if kind == "metric":
            self.metric = element.metric.body
            return
        if kind == "exception":
            self.exceptions.append(f"{element.exception.type}: {element.exception.message}")
            return
        if kind == "alert":
            self.alerts.append(element.alert.body)
            return
        widget = getattr(element, kind, None) if kind else None
        wid = getattr(widget, "id", "") if widget is not None else ""
        if wid.startswith("$$ID"):
            self.widgets[wid.split("-", 2)[-1]] = wid
            state = _widget_value(kind, widget)
            if state is not None and (widget.set_value or wid not in self.states):
                self.states[wid] = state  # as the browser keeps it: the server's value when it sets one

    def choose(self, key: str, values: list[str]) -> float:
        state = WidgetState(id=self.widgets[key])
        state.string_array_value.data.extend(values)
        return self.rerun(state)

    def click(self, key: str) -> float:
        seconds = self.rerun(WidgetState(id=self.widgets[key], trigger_value=True))
        self.states.pop(self.widgets[key], None)  # a button is pressed once
        return seconds

    def upload(self, key: str, name: str, content: bytes) -> float:
        """Upload a file through the file uploader ``key``, as the browser does (ask for a URL, PUT, rerun)."""
        request = BackMsg()
        request.file_urls_request.CopyFrom(FileURLsRequest(request_id=uuid.uuid4().hex, file_names=[name],
                                                           session_id=self.session_id))
        self.ws.send(request.SerializeToString())
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(self.ws.recv(timeout=60))
            if forward.WhichOneof("type") == "file_urls_response":
                urls = forward.file_urls_response.file_urls[0]
                break
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                "Content-Type: text/csv\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        put = urllib.request.Request(self.url + urls.upload_url, data=body, method="PUT", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": self.xsrf,
            "Cookie": self.cookie})
        urllib.request.urlopen(put, timeout=120).read()
        state = WidgetState(id=self.widgets[key])
        state.file_uploader_state_value.uploaded_file_info.append(
            UploadedFileInfo(name=name, size=len(content), file_id=urls.file_id, file_urls=urls))
        return self.rerun(state)

    def close(self) -> None:
        self.ws.close()


def _widget_value(kind: str, widget) -> WidgetState | None:
    """The value a browser reports for a widget it has just been sent (``None`` for buttons and uploaders)."""
    state = WidgetState(id=widget.id)
    if kind == "slider":
        state.double_array_value.data.extend(widget.value if widget.set_value else widget.default)
    elif kind == "number_input":
        value = widget.value if widget.set_value else widget.default
        if widget.data_type == NumberInput.INT:
            state.int_value = int(value)
        else:
            state.double_value = value
    elif kind == "multiselect":
        values = widget.raw_values if widget.set_value else [widget.options[i] for i in widget.default]
        state.string_array_value.data.extend(values)
    elif kind in ("selectbox", "radio"):
        if widget.set_value:
            state.string_value = widget.raw_value
        elif widget.default:
            state.string_value = widget.options[widget.default[0]]
        else:
            return None
    elif kind == "checkbox":
        state.bool_value = widget.value if widget.set_value else widget.default
    elif kind == "text_input":
        state.string_value = widget.value if widget.set_value else widget.default
    else:
        return None
    return state


def _xsrf(url: str) -> tuple[str, str]:
    """The XSRF cookie the health route sets, and its token (the upload route checks them)."""
    with urllib.request.urlopen(url + "/_stcore/health", timeout=60) as response:
        cookies = response.headers.get_all("Set-Cookie") or []
    for cookie in cookies:
        name, _, rest = cookie.partition("=")
        if name.strip() == "_streamlit_xsrf":
            token = rest.split(";", 1)[0]
            return f"_streamlit_xsrf={token}", token
    return "", ""


# ------------------------------------------------------------------ the measurements


def _concurrently(count: int, work) -> list[float]:
    """Run ``work(i)`` in ``count`` threads started together; all their timings, or an error."""
    results: list[list[float]] = [[] for _ in range(count)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=600)
            results[i] = work(i)
        except BaseException as err:  # reported after the run
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} session(s) failed: {errors[0]!r}")
    return [s for r in results for s in r]


def server_alone(url: str, sessions: int, changes: int = CHANGES) -> list[float]:
    """Seconds from each filter change to the rerun's last delta, ``sessions`` protocol clients at once."""
    expected = _expected_counts()
    clients = [ProtocolClient(url, PAGES[i % len(PAGES)]) for i in range(sessions)]
    for client in clients:
        client.rerun()

    def work(i: int) -> list[float]:
        client, rng, out = clients[i], np.random.default_rng(i), []
        for step in range(changes):
            time.sleep(float(rng.uniform(0, 0.5)))  # people do not click in step
            values = LINEAGE_STEPS[step % len(LINEAGE_STEPS)]
            out.append(client.choose("flt_lineage", values))
            if not client.metric.startswith(f"{expected[step % len(expected)]} of ") or client.exceptions:
                raise AssertionError(f"session {i} saw {client.metric!r} after choosing {values} "
                                     f"{client.exceptions[:1]}")
        return out

    try:
        return _concurrently(sessions, work)
    finally:
        for client in clients:
            client.close()


def browsers(url: str, sessions: int, changes: int = CHANGES) -> list[float]:
    """Seconds from a click on the Lineage filter to the new patient count with nothing stale, in real browsers.

    Each page times itself (``performance.now()`` at the click, then polled every
    10 ms until the new count shows and nothing is stale), so that the one
    driving thread, which clicks the sessions in turn, adds nothing to a session's time.
    """
    from playwright.sync_api import sync_playwright

    expected = _expected_counts()
    out: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        pages = []
        for i in range(sessions):
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{url}/{PAGES[i % len(PAGES)]}")
            page.wait_for_function(_SETTLED, arg=f"{len(load_demo_cohort())} of ")
            pages.append(page)
        for step in range(changes):
            prefix = f"{expected[step % len(expected)]} of "
            for page in pages:  # every session clicks, then all are waited for
                _toggle(page, step, prefix)
            for page in pages:
                page.wait_for_function("() => window.__settled !== null", polling=50)
                out.append(page.evaluate("() => (window.__settled - window.__clicked) / 1000"))
        browser.close()
    return out


_SETTLED = """(prefix) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const count = document.querySelector('[data-testid="stSidebar"] [data-testid="stMetricValue"]');
    return Boolean(app && app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelector('[data-stale="true"]') && count && count.innerText.startsWith(prefix));
}"""
_TIME_FROM_HERE = """(prefix) => {
    const settled = """ + _SETTLED + """;
    window.__settled = null;
    window.__clicked = performance.now();
    const poll = () => {
        if (settled(prefix)) { window.__settled = performance.now(); } else { setTimeout(poll, 10); }
    };
    setTimeout(poll, 10);
}"""


def _toggle(page, step: int, prefix: str) -> None:
    """Make the one change from step ``step - 1`` to step ``step``; the page starts its clock at the click."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Lineage")
    before, after = (LINEAGE_STEPS[step - 1] if step else []), LINEAGE_STEPS[step % len(LINEAGE_STEPS)]
    gone, new = [v for v in before if v not in after], [v for v in after if v not in before]
    if gone:
        target = box.get_by_role("button", name=f"Remove {gone[0]}")
    else:
        box.scroll_into_view_if_needed()  # at the bottom edge of the window the list does not open
        box.locator("input").click()
        target = page.get_by_role("option", name=new[0], exact=True)
    target.wait_for()
    page.evaluate(_TIME_FROM_HERE, prefix)
    target.click()
    if not gone:
        page.keyboard.press("Escape")


@contextmanager
def inprocess_server(ttl: int = TTL_SECONDS) -> Iterator[str]:
    """The app's server in a thread of this process (to see which objects a closed session leaves behind)."""
    import asyncio

    from streamlit.web import bootstrap
    from streamlit.web.server import Server

    port = _free_port()
    bootstrap.load_config_options({"server.port": port, "server.address": "127.0.0.1", "server.headless": True,
                                   "browser.gatherUsageStats": False, "server.fileWatcherType": "none",
                                   "server.disconnectedSessionTTL": ttl})
    app = Server(str(ROOT / "dashboard.py"), is_hello=False)
    loop = asyncio.new_event_loop()

    async def serve() -> None:
        await app.start()
        await app.stopped

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2).read()
            break
        except OSError:
            time.sleep(0.25)
    try:
        yield url
    finally:
        loop.call_soon_threadsafe(app.stop)
        thread.join(timeout=10)


def _settle_memory() -> float:
    """Collect garbage, hand freed heap back to the system, and return this process's resident MB."""
    import ctypes
    import gc

    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return resident_mb(os.getpid())


def _cohorts_alive(n: int) -> int:
    import gc

    import pandas as pd

    return sum(1 for o in gc.get_objects() if isinstance(o, pd.DataFrame) and len(o) >= n)


def closed_session_memory(n: int = 100_000) -> dict[str, float]:
    """Memory while a session holds an uploaded ``n``-row cohort, and after the session closed and expired.

    Measured on the server in this process: resident MB (after a collection and
    ``malloc_trim``, so that freed memory is not counted), and how many data
    frames of ``n`` rows are still alive.
    """
    content = make_large_cohort(n).to_csv(index=False).encode()
    with inprocess_server() as url:
        warm = ProtocolClient(url, "data")
        warm.rerun()
        warm.close()
        time.sleep(TTL_SECONDS + 1)
        before = _settle_memory()
        client = ProtocolClient(url, "data")
        client.rerun()
        client.upload("data_upload_0", "registry.csv", content)
        if "data_use" not in client.widgets:
            raise AssertionError(f"the upload was not read: {client.alerts[-3:]} {client.exceptions[:1]}")
        client.click("data_use")
        if not client.metric.startswith(f"{n} of "):
            raise AssertionError(f"the upload was not used: {client.metric!r}")
        holding, alive = _settle_memory(), _cohorts_alive(n)
        client.close()
        time.sleep(TTL_SECONDS + 1)
        touch = ProtocolClient(url, "")  # the session store drops expired sessions when it is next used
        touch.rerun()
        touch.close()
        time.sleep(1)
        return {"before": before, "holding": holding, "after": _settle_memory(), "alive_holding": alive,
                "alive_after": _cohorts_alive(n)}


def _percentiles(seconds: list[float]) -> tuple[str, str, str]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(np.ceil(0.95 * len(ordered))) - 1)]
    return f"{statistics.median(ordered):.2f} s", f"{p95:.2f} s", f"{ordered[-1]:.2f} s"


def rows(n: int, repeats: int, sessions: tuple[int, ...] = (5, 10), changes: int = CHANGES) -> Iterator[tuple]:
    with start_server() as url:
        ProtocolClient(url, "").rerun()  # warm: the first run of a page imports and caches
        for count in sessions:
            times = server_alone(url, count, changes)
            yield (f"server alone, {count} protocol sessions × {changes} filter changes", *_percentiles(times),
                   "p95 ≤ 1 s at 10" if count == 10 else "")
        for count in sessions:
            times = browsers(url, count, changes)
            yield (f"{count} Chromium sessions × {changes} filter changes (click → redrawn)", *_percentiles(times),
                   "p95 ≤ 2 s at 5" if count == 5 else "")
    memory = closed_session_memory(n)
    yield (f"server memory (MB) before / holding an uploaded {n:,}-row cohort / after its session closed and "
           f"expired (disconnected-session TTL {TTL_SECONDS} s)", f"{memory['before']:.0f}",
           f"{memory['holding']:.0f} ({memory['alive_holding']:.0f} frames of {n:,} rows)",
           f"{memory['after']:.0f} ({memory['alive_after']:.0f} left)", "released after close")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--changes", type=int, default=CHANGES)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args(argv)
    print(f"| {TITLE} | {' | '.join(COLUMNS)} |\n|---" + "|---" * len(COLUMNS) + "|")
    for row in rows(args.n, 1, tuple(args.sessions), args.changes):
        print("| " + " | ".join(row) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`gsvc report`: one self-contained, valid HTML file with figures, tables, scenario and versions."""
import os
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner
from helpers import timing_scenario

import gsvc
from gsvc.analysis import render_report, write_report
from gsvc.cli import main

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "source", "wbr", "area", "base"}


class _Checker(HTMLParser):
    """Records every tag, every reference to another file, and tags closed out of order."""

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.refs, self.tags, self.img_src = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "img":
            self.img_src.append(a.get("src", ""))
        for key in ("src", "href"):
            if key in a and not str(a[key]).startswith("data:"):
                self.refs.append((tag, key, a[key]))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()


def check(text: str) -> _Checker:
    c = _Checker()
    c.feed(text)
    c.close()
    assert text.startswith("<!DOCTYPE html>")
    assert c.errors == [] and c.stack == [], (c.errors, c.stack)
    assert c.refs == []  # no src=http..., no <link href=...>, nothing outside the file
    assert c.img_src and all(s.startswith("data:image/png;base64,") for s in c.img_src)
    return c


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "store"
    gsvc.sweep(timing_scenario(name="rep-base", video=dict(seconds=2)),
               {"channel.rate_mbps": [0.3, 20], "codec.steps": [2, 4]}, seeds=2, executor="serial", out=out,
               progress=False)
    return out


def test_sweep_report_is_valid_self_contained_html_with_figures_tables_scenario_and_versions(store, tmp_path):
    path = write_report(store, tmp_path / "r.html")
    text = path.read_text()
    c = check(text)
    assert c.tags.count("img") >= 5 and c.tags.count("table") >= 3
    assert "rep-base" in text and "channel.rate_mbps" in text and "codec.steps" in text
    assert "latency_ms_p95" in text and "±" in text  # the per-point means with their intervals
    assert "timing-only" in text  # says that quality was not measured
    assert "pandas" in text and gsvc.__version__ in text and "profile:" in text


def test_report_of_an_unfinished_sweep_says_what_is_missing(store, tmp_path):
    res = gsvc.load_results(store)
    victim = store / "points" / f"{res.summary['spec_hash'].iloc[-1]}.parquet"
    data = victim.read_bytes()
    os.unlink(victim)
    try:
        text = render_report(store)
    finally:
        victim.write_bytes(data)
    check(text)
    assert "7 of 8 points finished" in text and "1 points have not finished" in text


def test_report_of_a_saved_run(tmp_path):
    gsvc.run(timing_scenario(name="single", streams=2, video=dict(seconds=1))).save(tmp_path / "run")
    text = write_report(tmp_path / "run").read_text()
    c = check(text)
    assert c.tags.count("img") == 3 and "single" in text and "latency_ms_p95" in text


def test_report_command_writes_report_html_into_the_store(store):
    res = CliRunner().invoke(main, ["report", str(store)])
    assert res.exit_code == 0, res.output
    assert (store / "report.html").stat().st_size > 10_000
    missing = CliRunner().invoke(main, ["report", str(store / "points")])
    assert missing.exit_code == 2 and "no saved run" in missing.output
